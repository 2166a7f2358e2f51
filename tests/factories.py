"""Factories for test data: each call makes new, uniquely named rows, so tests never collide."""

from __future__ import annotations

import itertools
import uuid

import httpx

from models.accounts import StaffAccount, StaffRole
from models.audit import Actor
from models.orgs import Org, OrgType, create_org
from models.staff import create_staff

_sequence = itertools.count(1)
TEST_ACTOR = Actor("system", None, "tests")
STAFF_PASSWORD = "staff-password-42"


def unique(prefix: str) -> str:
    return f"{prefix}{next(_sequence)}{uuid.uuid4().hex[:6]}"


async def demo_org(name: str) -> Org:
    return await Org.get(name=name)


async def make_org(
    parent: Org | None, *, name: str | None = None, org_type: OrgType = OrgType.ENTERPRISE, accepts_members: bool = True
) -> Org:
    return await create_org(
        name=name or unique("测试工会"),
        org_type=org_type,
        region_code=parent.region_code if parent else "440000",
        parent=parent,
        accepts_members=accepts_members,
    )


async def make_staff(
    org: Org,
    role: StaffRole = StaffRole.CASEWORKER,
    *,
    password: str = STAFF_PASSWORD,
    must_change_password: bool = False,
) -> StaffAccount:
    return await create_staff(
        username=unique("staff"),
        display_name="测试工作人员",
        password=password,
        role=role,
        org=org,
        must_change_password=must_change_password,
        actor=TEST_ACTOR,
    )


async def login_worker(api: httpx.AsyncClient, name: str | None = None) -> tuple[str, dict]:
    """Log a worker in through the sandbox; returns (token, login answer)."""
    name = name or unique("worker-")
    answer = await api.post("/api/v1/auth/wechat-login", json={"code": f"dev:{name}:{uuid.uuid4().hex[:8]}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"], answer.json()


async def login_staff(api: httpx.AsyncClient, username: str, password: str = STAFF_PASSWORD) -> str:
    answer = await api.post("/api/v1/admin/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(answer: httpx.Response, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    return error
