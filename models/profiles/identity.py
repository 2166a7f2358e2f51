r"""Identity data rules: national ID numbers (GB 11643), mainland mobile numbers, and how each is
masked wherever it is shown.

Identity values are compared and hashed as ASCII. Input is NFKC-normalised first, so that the
full-width digits a Chinese input method types (`４４０３…`) are the same number as ASCII ones;
digits of other scripts (`٤`, `४`) that NFKC leaves alone are refused. Python's `\d`, `int()` and
`str.isdigit()` accept those scripts and superscripts, so none of them is used on input here.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from models.errors import Invalid

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_PHONE_SHAPE = re.compile(r"^1[3-9][0-9]{9}$")


def ascii_form(raw: str) -> str:
    """NFKC: full-width letters and digits become ASCII; anything else is left as it is."""
    return unicodedata.normalize("NFKC", raw)


def is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def id_check_char(first17: str) -> str:
    return _ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalise_id_number(raw: str, today: date) -> str:
    """The 18-character number, upper-case X; raises `Invalid` naming what is wrong."""
    number = ascii_form(raw).strip().upper()
    if not _ID_SHAPE.match(number):
        raise Invalid(
            "profile.id_number_format", "身份证号码应为 18 位，前 17 位为数字，末位为数字或 X", {"field": "id_number"}
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise Invalid("profile.id_number_birth_date", "身份证号码中的出生日期无效", {"field": "id_number"}) from None
    if born > today or born.year < 1900:
        raise Invalid("profile.id_number_birth_date", "身份证号码中的出生日期无效", {"field": "id_number"})
    if id_check_char(number[:17]) != number[17]:
        raise Invalid("profile.id_number_checksum", "身份证号码校验位不正确，请核对后重新输入", {"field": "id_number"})
    return number


def normalise_phone(raw: str) -> str:
    number = re.sub(r"[\s-]", "", ascii_form(raw).strip()).removeprefix("+86")
    if not _PHONE_SHAPE.match(number):
        raise Invalid("profile.phone_format", "请输入 11 位中国大陆手机号码", {"field": "phone"})
    return number


def mask_id_number(number: str) -> str:
    return f"{number[:4]}{'*' * 10}{number[-4:]}"


def mask_phone(number: str) -> str:
    return f"{number[:3]}****{number[-4:]}"


def mask_name(name: str) -> str:
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"


ID_TAIL_LENGTH = 6  # the longest tail a caseworker searches by; the mask shows the last four
_ID_TAIL_SHAPE = re.compile(r"^[0-9]{3,6}X?$|^[0-9]{4,6}$")


def id_tail(number: str) -> str:
    """What the tail index of an ID number is made of (namespaced, so it never equals the
    blind index of a whole number)."""
    return f"tail:{number[-ID_TAIL_LENGTH:]}"


def searched_tail(raw: str) -> str | None:
    """A search box's text as the last 4 to 6 characters of an ID number or a phone (full-width
    digits and a lower-case x too), or None when it is not one."""
    text = ascii_form(raw).strip().upper()
    if 4 <= len(text) <= ID_TAIL_LENGTH and _ID_TAIL_SHAPE.match(text):
        return text
    return None
