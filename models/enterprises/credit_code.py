"""The 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters over 31 symbols,
the last a check character over the first 17.

Input is NFKC-normalised and upper-cased first (see `models.profiles.identity`), so that the
full-width or lower-case code a Chinese input method types is the same code."""

from __future__ import annotations

from models.errors import Invalid
from models.profiles.identity import ascii_form

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {symbol: value for value, symbol in enumerate(CHARSET)}


def check_character(first17: str) -> str:
    """The 18th character for the first 17 (31 - weighted sum mod 31; 31 is written 0)."""
    total = sum(_VALUES[symbol] * weight for symbol, weight in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str) -> str:
    """The code in its canonical form, or `Invalid` saying what is wrong."""
    code = ascii_form(raw).strip().upper()
    if len(code) != 18 or any(symbol not in _VALUES for symbol in code):
        raise Invalid(
            "enterprise.credit_code_invalid",
            "统一社会信用代码应为 18 位，由数字和大写字母组成（不含 I、O、Z、S、V）",
            {"field": "credit_code"},
        )
    if check_character(code[:17]) != code[17]:
        raise Invalid(
            "enterprise.credit_code_invalid",
            "统一社会信用代码校验位不正确，请核对营业执照后重新输入",
            {"field": "credit_code"},
        )
    return code
