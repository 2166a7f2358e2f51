"""Reading demands: the worker's own, the caseworker's list, and the tallies of a subtree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from models.accounts import User
from models.appeals.tables import Appeal, AppealReply, AppealStatus
from models.errors import Invalid, NotFound
from models.orgs import in_subtree
from models.profiles.identity import mask_phone
from models.profiles.tables import WorkerProfile
from models.scope import StaffScope, WorkerScope
from server.clock import SHANGHAI


def not_found(appeal_id: int) -> NotFound:
    return NotFound("appeal.not_found", "诉求不存在", {"id": appeal_id})


def own_appeals(user: User) -> QuerySet[Appeal]:
    return WorkerScope(user.id).restrict(Appeal.all())


async def own_appeal(user: User, appeal_id: int) -> Appeal:
    found = await own_appeals(user).filter(id=appeal_id).first()
    if found is None:
        raise not_found(appeal_id)
    return found


async def replies_of(appeal_ids: list[int]) -> dict[int, list[AppealReply]]:
    """Each demand's replies, oldest first, in one query."""
    found: dict[int, list[AppealReply]] = {appeal_id: [] for appeal_id in appeal_ids}
    for reply in await AppealReply.filter(appeal_id__in=appeal_ids).order_by("id"):
        found[reply.appeal_id].append(reply)
    return found


def _window(query: QuerySet[Appeal], day_from: date | None, day_to: date | None) -> QuerySet[Appeal]:
    """Days in Asia/Shanghai, both ends included."""
    if day_from and day_to and day_from > day_to:
        raise Invalid("appeal.bad_window", "开始日期不能晚于结束日期", {"from": str(day_from), "to": str(day_to)})
    if day_from:
        query = query.filter(submitted_at__gte=datetime.combine(day_from, time.min, tzinfo=SHANGHAI))
    if day_to:
        query = query.filter(submitted_at__lt=datetime.combine(day_to + timedelta(days=1), time.min, tzinfo=SHANGHAI))
    return query


async def staff_appeals(
    scope: StaffScope,
    *,
    org_id: int | None = None,
    topic: str | None = None,
    platform: str | None = None,
    status: AppealStatus | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> QuerySet[Appeal]:
    query = scope.restrict(Appeal.all())
    if org_id is not None:
        await scope.require(org_id)
        query = in_subtree(query, org_id)
    filters = {"topic": topic, "platform": platform, "status": status}
    query = query.filter(**{key: value for key, value in filters.items() if value is not None})
    return _window(query, day_from, day_to)


@dataclass(frozen=True)
class TallyRow:
    topic: str
    platform: str
    month: str | None
    count: int


async def tally(
    scope: StaffScope,
    *,
    org_id: int | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
    by_month: bool = False,
) -> list[TallyRow]:
    """Demands by topic × platform (× month, newest first), largest first, for the subtree (or the
    part of it under `org_id`)."""
    query = await staff_appeals(scope, org_id=org_id, day_from=day_from, day_to=day_to)
    keys = ["topic", "platform", *(["month"] if by_month else [])]
    rows = await query.annotate(count=Count("id")).group_by(*keys).values(*keys, "count")
    found = [TallyRow(row["topic"], row["platform"], row.get("month"), row["count"]) for row in rows]
    found.sort(key=lambda row: (-row.count, row.topic, row.platform))
    return sorted(found, key=lambda row: row.month or "", reverse=True)


@dataclass(frozen=True)
class Filer:
    name: str
    phone: str  # masked


async def filers(appeals: list[Appeal]) -> dict[int, Filer]:
    """Who filed each demand that is not anonymous, by demand id, for caseworkers; an anonymous
    demand has no entry, so nothing about its worker is even loaded."""
    named = [appeal for appeal in appeals if not appeal.anonymous]
    profiles = {
        profile.user_id: profile
        for profile in await WorkerProfile.filter(user_id__in=[appeal.user_id for appeal in named])
    }
    found = {}
    for appeal in named:
        profile = profiles.get(appeal.user_id)
        found[appeal.id] = (
            Filer(profile.real_name, mask_phone(profile.phone)) if profile else Filer("未填写个人信息", "")
        )
    return found
