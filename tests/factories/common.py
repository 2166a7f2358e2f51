"""What every test uses: unique names, logins, bearer headers, error and polling asserts."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid

import httpx

from models.audit import Actor

_sequence = itertools.count(1)


TEST_ACTOR = Actor("system", None, "tests")


STAFF_PASSWORD = "staff-password-42"


def unique(prefix: str) -> str:
    return f"{prefix}{next(_sequence)}{uuid.uuid4().hex[:6]}"


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


async def eventually(check, within: float = 10.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll an async `check` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            assert value, f"not within {within}s: {value!r}"
            return value
        await asyncio.sleep(interval)
