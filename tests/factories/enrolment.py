"""Applicants and their applications."""

from __future__ import annotations

import httpx

from models.accounts import User
from tests.factories.common import bearer
from tests.factories.notifications import consent
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org


async def apply(api: httpx.AsyncClient, token: str, org_id: int, **extra: object) -> httpx.Response:
    return await api.post("/api/v1/enrolments", json={"org_id": org_id, **extra}, headers=bearer(token))


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
