"""Unions and staff accounts."""

from __future__ import annotations

import random

from models.accounts import StaffAccount, StaffRole
from models.orgs import Org, OrgType, create_org
from models.unions.staff import create_staff
from tests.factories.common import STAFF_PASSWORD, TEST_ACTOR, unique


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


async def give_service(org: Org, area: tuple[float, float, int] | None = None, platforms: tuple[str, ...] = ()) -> None:
    """Set the union's service area (lat, lng, radius in metres) and the platforms it answers for."""
    from models.scope import StaffScope
    from models.unions.service_area import Area, set_service

    everything = StaffScope(org_id=org.id, sees_everything=True)
    await set_service(everything, org.id, Area(*area) if area else None, list(platforms), TEST_ACTOR)


def remote_point() -> tuple[float, float]:
    """A point far from the demo data's areas (in Xinjiang), different in every call, so that areas
    drawn around it by one test meet no other test's."""
    return 40 + random.random() * 5, 80 + random.random() * 10
