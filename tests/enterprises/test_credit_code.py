"""The 统一社会信用代码 check (GB 32100): the rule itself, and what registration answers."""

from __future__ import annotations

import httpx
import pytest

from models.enterprises.credit_code import check_character, normalise_credit_code
from models.errors import Invalid
from tests.factories.common import assert_error, bearer, login_worker
from tests.factories.enterprises import enterprise_body, valid_credit_code
from tests.factories.unions import demo_org


@pytest.mark.parametrize("code", ["914403001922038216", "91440300708461136T"])
def test_known_valid_codes(code: str) -> None:
    assert normalise_credit_code(code) == code
    assert check_character(code[:17]) == code[17]


def test_lower_case_and_full_width_input_is_the_same_code() -> None:
    assert normalise_credit_code(" 91440300708461136t ") == "91440300708461136T"
    assert normalise_credit_code("９１４４０３００７０８４６１１３６Ｔ") == "91440300708461136T"


@pytest.mark.parametrize(
    "code",
    [
        "914403001922038217",  # wrong check character
        "91440300708461136X",  # X is not in the alphabet at all
        "9144030070846113",  # too short
        "91440300708461136TT",  # too long
        "91440300７08461136O",  # O is excluded (it reads as 0)
        "",
    ],
)
def test_invalid_codes(code: str) -> None:
    with pytest.raises(Invalid) as raised:
        normalise_credit_code(code)
    assert raised.value.code == "enterprise.credit_code_invalid"


def test_a_check_value_of_31_is_written_0() -> None:
    # Find a prefix whose weighted sum is a multiple of 31: its check character must be "0".
    from models.enterprises.credit_code import CHARSET, WEIGHTS

    for n in range(10_000):
        first17 = f"91440606{n:09d}"
        if sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 31 == 0:
            assert check_character(first17) == "0"
            assert normalise_credit_code(first17 + "0") == first17 + "0"
            return
    pytest.fail("no prefix with a zero sum found")


def test_the_factory_makes_valid_codes() -> None:
    for _ in range(50):
        code = valid_credit_code()
        assert normalise_credit_code(code) == code


async def test_registration_refuses_a_bad_code_and_keeps_a_full_width_one(api: httpx.AsyncClient) -> None:
    org = await demo_org("高明区总工会")
    token, _ = await login_worker(api)
    bad = await api.post(
        "/api/v1/enterprises", json=enterprise_body(org.id, credit_code="914403001922038217"), headers=bearer(token)
    )
    error = assert_error(bad, 422, "enterprise.credit_code_invalid")
    assert error["details"]["field"] == "credit_code"
    assert (await api.get("/api/v1/me/enterprises", headers=bearer(token))).json()["total"] == 0

    code = valid_credit_code()
    typed = code.translate({ord(c): ord(c) + 0xFEE0 for c in code}).lower()  # full-width, lower case
    answer = await api.post(
        "/api/v1/enterprises", json=enterprise_body(org.id, credit_code=typed), headers=bearer(token)
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["credit_code"] == code
