"""Applicants and their applications."""

from __future__ import annotations

from datetime import timedelta

import httpx

from models.accounts import User
from models.enrolment.tables import Enrolment
from models.orgs import Org
from server.clock import now
from tests.factories.common import bearer, unique
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


async def aged_applications(
    api: httpx.AsyncClient, org: Org, ages_in_days: list[float], consents: int = 0
) -> list[tuple[str, str, int]]:
    """Pending applications to `org`, submitted that many days ago; (token, openid, enrolment id) each."""
    made = []
    for days in ages_in_days:
        made.append(await applicant(api, org_name=org.name, consents=consents, real_name=unique("申请人")[:10]))
        await Enrolment.filter(id=made[-1][2]).update(submitted_at=now() - timedelta(days=days))
    return made
