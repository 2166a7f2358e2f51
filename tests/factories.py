"""Factories for test data: each call makes new, uniquely named rows, so tests never collide."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
import time
import uuid

import httpx

from models.accounts import StaffAccount, StaffRole, User
from models.audit import Actor
from models.orgs import Org, OrgType, create_org
from models.unions.staff import create_staff

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


def signed_callback_params(token: str, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The query WeChat signs a callback with: sha1 over the sorted token, timestamp and nonce."""
    timestamp_text, nonce = str(timestamp or int(time.time())), nonce or uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([token, timestamp_text, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp_text, "nonce": nonce}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(answer: httpx.Response, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    return error


def make_id_number(region: str = "442000", born: str | None = None) -> str:
    """A valid, random 18-character national ID number."""
    from models.profiles.identity import id_check_char

    born = born or f"{random.randint(1965, 2004)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    first17 = f"{region}{born}{random.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def make_phone() -> str:
    return f"13{random.randint(0, 9)}{random.randint(0, 10**8 - 1):08d}"


def profile_body(**overrides: object) -> dict:
    body = {
        "real_name": "张余英",
        "id_number": make_id_number(),
        "phone": make_phone(),
        "occupation": "delivery_rider",
        "platform": "meituan",
        "city": "中山市",
        "district": "东区",
    }
    body.update(overrides)
    return body


async def worker_with_profile(api: httpx.AsyncClient, **overrides: object) -> tuple[str, dict]:
    """A logged-in worker with a saved profile; returns (token, the profile body sent)."""
    token, _ = await login_worker(api)
    body = profile_body(**overrides)
    answer = await api.put("/api/v1/me/profile", json=body, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return token, body


async def apply(api: httpx.AsyncClient, token: str, org_id: int, **extra: object) -> httpx.Response:
    return await api.post("/api/v1/enrolments", json={"org_id": org_id, **extra}, headers=bearer(token))


async def eventually(check, within: float = 10.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll an async `check` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            assert value, f"not within {within}s: {value!r}"
            return value
        await asyncio.sleep(interval)


async def consent(api: httpx.AsyncClient, token: str, template_id: str = "sbx-review-result", times: int = 1) -> None:
    for _ in range(times):
        answer = await api.post(
            "/api/v1/me/subscriptions", json={"results": {template_id: "accept"}}, headers=bearer(token)
        )
        assert answer.status_code == 200, answer.text


async def applicant(
    api: httpx.AsyncClient, org_name: str = "中山市新就业形态劳动者工会联合会", consents: int = 1, **profile: object
) -> tuple[str, str, int]:
    """A worker with a profile, `consents` accepts, and an open application; (token, openid, enrolment id)."""
    token, _ = await worker_with_profile(api, **profile)
    me = (await api.get("/api/v1/me", headers=bearer(token))).json()
    if consents:
        await consent(api, token, times=consents)
    enrolment_id = (await apply(api, token, (await demo_org(org_name)).id)).json()["id"]
    user = await User.get(id=me["user"]["id"])
    return token, user.openid, enrolment_id


async def sandbox_messages(sandbox: httpx.AsyncClient, openid: str) -> list[dict]:
    return (await sandbox.get("/_sandbox/messages", params={"touser": openid})).json()["items"]
