"""WeChat's rules for template field values, by the key's type (the key's letters: `thing2` is a
`thing`). Values are fitted to the rule rather than refused: a worker should get a shortened
message rather than none. Lengths count characters (code points), so a character is never cut in
half; a shortened `thing` ends with "…" within its limit.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from server.clock import SHANGHAI

_KEY_TYPE = re.compile(r"^([a-z_]+?)\d*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ASCII_PRINTABLE = re.compile(r"[!-~]")

SUBSCRIBE_LIMITS = {
    "thing": 20,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "phrase": 5,
    "phone_number": 17,
    "car_number": 8,
    "name": 10,
    "amount": 11,
}
TEMPLATE_MESSAGE_LIMIT = 20  # official-account template messages since May 2023: ≤ 20 characters, one line


def key_type(key: str) -> str:
    match = _KEY_TYPE.match(key)
    if match is None:
        raise ValueError(f"not a WeChat template key: {key!r}")
    return match.group(1)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def fit_subscribe_value(key: str, value: Any) -> str:
    kind = key_type(key)
    if kind in ("time", "date"):
        moment = _as_datetime(value)
        if moment is None:
            raise ValueError(f"{key} needs a time, got {value!r}")
        moment = moment.astimezone(SHANGHAI) if moment.tzinfo else moment
        return moment.strftime("%Y-%m-%d %H:%M" if kind == "time" else "%Y-%m-%d")
    text = str(value)
    if kind == "thing":
        return _shorten(text, SUBSCRIBE_LIMITS["thing"])
    if kind == "phrase":
        return "".join(_CJK.findall(text))[: SUBSCRIBE_LIMITS["phrase"]]
    if kind == "name":
        cjk = "".join(_CJK.findall(text))
        return cjk[:10] if cjk else "".join(ch for ch in text if ch.isalpha())[:20]
    if kind in ("character_string", "symbol"):
        return "".join(_ASCII_PRINTABLE.findall(text))[: SUBSCRIBE_LIMITS[kind]]
    if kind in ("number", "phone_number"):
        allowed = "0123456789" + ("+-" if kind == "phone_number" else ".")
        return "".join(ch for ch in text if ch in allowed)[: SUBSCRIBE_LIMITS[kind]]
    if kind == "letter":
        return "".join(ch for ch in text if ch.isascii() and ch.isalpha())[:32]
    if kind in SUBSCRIBE_LIMITS:
        return _shorten(text, SUBSCRIBE_LIMITS[kind])
    raise ValueError(f"unknown WeChat key type {kind!r} in {key!r}")


def fit_template_value(value: Any) -> str:
    moment = _as_datetime(value) if not isinstance(value, str) or "T" in value else None
    if moment is not None:
        value = moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return _shorten(str(value), TEMPLATE_MESSAGE_LIMIT)


def subscribe_value_ok(key: str, text: str) -> bool:
    """Whether `text` obeys the rule of `key`'s type (checked by tests for every template)."""
    kind = key_type(key)
    if kind == "time":
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text))
    if kind == "date":
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))
    if kind == "phrase":
        return 0 < len(text) <= 5 and all(_CJK.match(ch) for ch in text)
    if kind == "character_string":
        return 0 < len(text) <= 32 and all(_ASCII_PRINTABLE.match(ch) for ch in text)
    if kind == "number":
        return 0 < len(text) <= 32 and all(ch in "0123456789." for ch in text)
    return 0 < len(text) <= SUBSCRIBE_LIMITS.get(kind, 20) and "\n" not in text
