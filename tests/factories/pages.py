"""A staff member on the admin pages without a browser: the session cookie and the CSRF token
that forms carry."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from models.accounts import StaffAccount
from tests.factories.common import STAFF_PASSWORD


@dataclass
class PageSession:
    client: httpx.AsyncClient
    csrf: str

    async def post(self, path: str, **form: str) -> httpx.Response:
        return await self.client.post(path, data={**form, "csrf_token": self.csrf})

    async def close(self) -> None:
        await self.client.aclose()


async def page_session(base_url: str, staff: StaffAccount) -> PageSession:
    client = httpx.AsyncClient(base_url=base_url, timeout=20)
    opened = await client.post(
        "/api/v1/admin/auth/session", json={"username": staff.username, "password": STAFF_PASSWORD}
    )
    assert opened.status_code == 200, opened.text
    return PageSession(client, opened.json()["csrf_token"])
