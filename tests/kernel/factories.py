"""Instants and calendar overrides for the kernel's tests."""

from __future__ import annotations

from datetime import date, datetime

from models.kernel.calendar import CalendarOverride, remove_override, set_override
from models.scope import StaffScope
from server.clock import SHANGHAI
from tests.factories.common import TEST_ACTOR

# What a superadmin's request carries: the whole tree (the org id is not consulted).
EVERYWHERE = StaffScope(org_id=0, sees_everything=True)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


async def override_day(day: date, working: bool, org_id: int | None, note: str = "测试调整") -> CalendarOverride:
    return await set_override(EVERYWHERE, day=day, working=working, note=note, org_id=org_id, actor=TEST_ACTOR)


async def clear_day(day: date, org_id: int | None) -> None:
    await remove_override(EVERYWHERE, day=day, org_id=org_id, actor=TEST_ACTOR)
