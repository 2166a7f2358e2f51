"""Operations tests work on stacks of their own (a database nobody else uses): key rotation
re-seals every row, a restore needs a known database. Their rows are read with the database's own
driver, because this test process's Tortoise is bound to the session's database."""

from __future__ import annotations

import base64
import os
import sqlite3
from typing import Any

import asyncpg
import httpx

from tests.conftest import DEMO_PASSWORD, Stack
from tests.factories.common import bearer
from tests.factories.enrolment import apply
from tests.factories.profiles import worker_with_profile

APPLY_TO = "中山市新就业形态劳动者工会联合会"


def new_key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


async def rows(stack: Stack, query: str) -> list[dict[str, Any]]:
    """Rows of `query` on the stack's own database (no parameters)."""
    if stack.backend == "production":
        connection = await asyncpg.connect(stack.env["DATABASE_URL"].replace("postgres://", "postgresql://", 1))
        try:
            return [dict(row) for row in await connection.fetch(query)]
        finally:
            await connection.close()
    with sqlite3.connect(stack.settings.data_dir / "gonghui.sqlite3") as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(query)]


async def sealed_rows(stack: Stack) -> list[dict[str, Any]]:
    return await rows(
        stack,
        "SELECT 'worker_profiles' AS tbl, id, user_id AS owner, id_key_id, id_ciphertext FROM worker_profiles"
        " UNION ALL SELECT 'enrolments', id, id, id_key_id, id_ciphertext FROM enrolments ORDER BY tbl, id",
    )


async def org_id(api: httpx.AsyncClient, name: str = APPLY_TO) -> int:
    found = (await api.get("/api/v1/orgs", params={"q": name})).json()["items"]
    return next(org["id"] for org in found if org["name"] == name)


async def applicants(api: httpx.AsyncClient, count: int) -> list[tuple[str, str, int]]:
    """Workers with a profile and an open application: (token, ID number, enrolment id)."""
    target, made = await org_id(api), []
    for _ in range(count):
        token, body = await worker_with_profile(api)
        answer = await apply(api, token, target)
        assert answer.status_code == 201, answer.text
        made.append((token, body["id_number"], answer.json()["id"]))
    return made


async def demo_staff_token(api: httpx.AsyncClient, username: str = "zhongshan") -> str:
    answer = await api.post("/api/v1/admin/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


async def reveal(api: httpx.AsyncClient, staff_token: str, enrolment_id: int) -> str:
    answer = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/reveal-id", headers=bearer(staff_token))
    assert answer.status_code == 200, answer.text
    return answer.json()["id_number"]
