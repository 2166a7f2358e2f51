"""Enterprises with their contacts, and experts on a union's roster (bound or not)."""

from __future__ import annotations

import random

import httpx

from models.enterprises.credit_code import CHARSET, check_character
from tests.factories.common import bearer, login_worker, unique


def valid_credit_code() -> str:
    """A random 统一社会信用代码 with its check character (91: an enterprise, 4406: 佛山)."""
    first17 = "914406" + "".join(random.choice(CHARSET) for _ in range(11))
    return first17 + check_character(first17)


def enterprise_body(org_id: int, **overrides: object) -> dict:
    return {
        "name": unique("广东测试新材料有限公司"),
        "credit_code": valid_credit_code(),
        "industry": "new_materials",
        "org_id": org_id,
        "address": "佛山市高明区荷城街道某路 8 号",
        "contact_name": "张余英",
        "contact_phone": "0757-88880000",
        **overrides,
    }


async def enterprise_with_contact(
    api: httpx.AsyncClient, org_id: int, *, staff_token: str | None = None, **overrides: object
) -> tuple[str, dict]:
    """A new worker registers an enterprise under `org_id`; (contact's token, enterprise JSON).
    With `staff_token`, that staff member verifies it (the JSON is then the verified one)."""
    token, _ = await login_worker(api)
    answer = await api.post("/api/v1/enterprises", json=enterprise_body(org_id, **overrides), headers=bearer(token))
    assert answer.status_code == 201, answer.text
    enterprise = answer.json()
    if staff_token is not None:
        verified = await api.post(f"/api/v1/admin/enterprises/{enterprise['id']}/verify", headers=bearer(staff_token))
        assert verified.status_code == 200, verified.text
        enterprise = (await api.get(f"/api/v1/enterprises/{enterprise['id']}", headers=bearer(token))).json()
    return token, enterprise


def expert_body(org_id: int, **overrides: object) -> dict:
    return {
        "name": unique("测试专家"),
        "titles": ["south_guangdong_craftsman"],
        "org_id": org_id,
        "industries": ["new_materials"],
        "skills": ["quality_system", "factory_audit"],
        "years": 20,
        "patents": {"us_invention": 0, "cn_invention": 2, "utility_model": 1},
        "standards": {"national": 0, "group": 1},
        "regions": [org_id],
        "max_active_orders": 2,
        "bio": "从事新材料研发与质量管理二十年。",
        **overrides,
    }


async def expert_on_roster(api: httpx.AsyncClient, admin_token: str, org_id: int, **overrides: object) -> dict:
    """A union admin puts an expert on the roster; the 201 JSON, `invite_code` included."""
    answer = await api.post("/api/v1/admin/experts", json=expert_body(org_id, **overrides), headers=bearer(admin_token))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def bound_expert(api: httpx.AsyncClient, admin_token: str, org_id: int, **overrides: object) -> tuple[str, dict]:
    """An expert on the roster whose WeChat account (a new worker) is bound; (token, expert JSON)."""
    created = await expert_on_roster(api, admin_token, org_id, **overrides)
    token, _ = await login_worker(api)
    answer = await api.post("/api/v1/expert/claim", json={"invite_code": created["invite_code"]}, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return token, answer.json()
