"""Input at the edge: what is refused for every route before any handler sees the request.

- Text with a NUL character, wherever it comes from (path, headers, query, form or JSON body): PostgreSQL
  cannot store or even compare it ("invalid byte sequence for encoding UTF8: 0x00"), and no
  person types one. Refused with 422 `request.invalid_character`, naming where it was.
- A path id no database row can have (beyond bigint): the handler receives `NO_SUCH_ID` instead,
  so the caller is authenticated and authorised as for any other id, and then told 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote

from sanic import Request
from sanic.exceptions import BadRequest

from models.errors import Invalid
from server.http import MAX_DB_ID

NUL = "\x00"
# Ids start at 1: a lookup of 0 finds nothing on every back end, and the database can hold it.
NO_SUCH_ID = 0
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_HEAD_MARKS = (b"\x00", b"%00")
_BODY_MARKS = (b"\x00", b"%00", b"\\u0000")


def guard_input(request: Request) -> None:
    if _may_hold_nul(request):
        _refuse_nul(request)
    for name, value in request.match_info.items():
        if isinstance(value, int) and not -MAX_DB_ID <= value <= MAX_DB_ID:
            request.match_info[name] = NO_SUCH_ID


def _may_hold_nul(request: Request) -> bool:
    """Whether a NUL can be in the request at all: raw, percent-encoded (path, query, form) or
    escaped in JSON. Almost never, so the field by field search below runs only then."""
    body = request.body or b""
    return any(mark in request.head for mark in _HEAD_MARKS) or any(mark in body for mark in _BODY_MARKS)


def _refuse_nul(request: Request) -> None:
    for where, text in _texts(request):
        if NUL in text:
            field = where.replace(NUL, "\\0")
            raise Invalid("request.invalid_character", "请求内容含有不允许的控制字符", {"field": field})


def _texts(request: Request) -> Iterator[tuple[str, str]]:
    """Every piece of text the request carries, with where it came from."""
    for name, value in request.match_info.items():
        if isinstance(value, str):
            # Sanic leaves path segments percent-encoded; a handler that decodes one gets the NUL.
            yield f"path.{name}", unquote(value)
    # Headers too: the user agent is stored with a session, the Idempotency-Key with its answer.
    for name, value in request.headers.items():
        yield f"header.{name}", value
    for name, value in parse_qsl(request.query_string, keep_blank_values=True):
        yield f"query.{name}", name
        yield f"query.{name}", value
    if not request.body:
        return
    if request.content_type.split(";")[0].strip().lower() in _FORMS:
        for name, values in (request.form or {}).items():
            yield f"form.{name}", name
            for value in values:
                yield f"form.{name}", value
        return
    try:
        # Handlers read `request.json` whatever the content type says; it is parsed once and kept.
        body = request.json
    except BadRequest:
        return  # not JSON: the handler that expects JSON answers 400, the others parse it their way
    yield from _json_texts("body", body)


def _json_texts(where: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}.{key}", key
            yield from _json_texts(f"{where}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_texts(f"{where}.{index}", item)
