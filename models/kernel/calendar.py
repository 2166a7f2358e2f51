"""Working time: the mainland-China calendar of working days, working hours, and a plain 24x7 one.

Where the days come from, in order of precedence:

1. **Overrides** entered by admins (`CalendarOverride`): nationwide, or for a union and its
   subtree; for a given union the override of the nearest union up the tree wins, and a
   nationwide one comes last.
2. **The library.** `chinese-calendar` is the source of truth for the years it knows (2004 to
   the year its release covers; 1.11.0 knows 2004-2026): the State Council's statutory holidays
   and the weekend days that become working days (调休). It raises for a year it does not know,
   so "official or not" is never a guess. Upgrading the package makes a newly published year
   official.
3. **An estimate** for a year `chinese-calendar` does not know yet: the `holidays` package's
   `China` calendar, which derives the festivals from the lunar calendar by rule but cannot know
   the 调休 swaps before they are published. Such a year is reported as estimated everywhere
   (`LibraryYear.official`, the admin calendar, a timer's `estimated` flag), a warning is logged
   once per process and year, and admins enter the published dates as overrides.

Working hours are the module constant `WORKING_HOURS` (09:00-12:00 and 13:30-18:00, Asia/Shanghai),
the same for every union: a union with other hours is a case nobody has asked for yet.

Everything here is pure and takes its instants as arguments, except `WorkdayCalendar.load` (one
query for the overrides of a union's chain), `WorkdayCalendar.load_many` (the same for a page of
cases in many unions, in one or two) and the admin actions at the bottom.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol

import chinese_calendar
import holidays
from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import ValuesQuery
from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.errors import Conflict, Forbidden, Invalid, NotFound
from models.orgs import Org, OrgClosure
from models.prepared import Prepared
from models.scope import StaffScope
from server.clock import SHANGHAI

log = logging.getLogger(__name__)

WORKING_HOURS: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(13, 30), time(18, 0)))
# Overrides outside these years are refused: a typo (2206 for 2026) must not become a fact.
FIRST_YEAR, LAST_YEAR = 2004, 2099
_ONE_MINUTE = timedelta(minutes=1)
_ONE_DAY = timedelta(days=1)


class CalendarKind(StrEnum):
    WORKDAYS = "workdays"
    ALWAYS = "24x7"


class DaySource(StrEnum):
    LIBRARY = "library"
    ESTIMATED = "estimated"
    OVERRIDE = "override"


@dataclass(frozen=True, kw_only=True)
class SpecialDay:
    """A day that is not what its weekday says (a weekday off, a working weekend day), or a day
    an admin has set either way."""

    day: date
    working: bool
    name: str
    source: DaySource
    org_id: int | None = None
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class LibraryYear:
    year: int
    official: bool
    days: Mapping[date, SpecialDay]


class CalendarOverride(Model):
    """A day an admin declares working or not, over the library: nationwide or for a union subtree."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    working = fields.BooleanField()
    note = fields.CharField(max_length=200, default="")
    org: fields.ForeignKeyNullableRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name=False, null=True, on_delete=fields.CASCADE
    )
    # The org id, or 0 for nationwide: the unique key, since NULLs never collide in a unique index.
    org_key = fields.BigIntField()
    entered_by_id = fields.BigIntField(null=True)
    entered_by_name = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    org_id: int | None

    class Meta:
        table = "calendar_overrides"
        unique_together = (("day", "org_key"),)


# --- the library ------------------------------------------------------------------------------

_warned_years: set[int] = set()


def _official_year(year: int) -> LibraryYear | None:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    days: dict[date, SpecialDay] = {}
    for day, name in chinese_calendar.holidays.items():
        if day.year == year and day.weekday() < 5:
            days[day] = SpecialDay(day=day, working=False, name=str(name), source=DaySource.LIBRARY)
    for day, name in chinese_calendar.workdays.items():
        if day.year == year and day.weekday() >= 5:
            days[day] = SpecialDay(day=day, working=True, name=str(name), source=DaySource.LIBRARY)
    return LibraryYear(year=year, official=True, days=days)


def _estimated_year(year: int) -> LibraryYear:
    days: dict[date, SpecialDay] = {}
    try:
        china = holidays.China(years=year)
    except (NotImplementedError, ValueError):  # outside the package's range: weekends only
        china = {}
    for day, name in china.items():
        if day.weekday() < 5:
            days[day] = SpecialDay(day=day, working=False, name=name, source=DaySource.ESTIMATED)
    for day in getattr(china, "weekend_workdays", ()):
        if day.year == year:
            days[day] = SpecialDay(day=day, working=True, name="调休上班", source=DaySource.ESTIMATED)
    return LibraryYear(year=year, official=False, days=days)


@lru_cache(maxsize=256)
def library_year(year: int) -> LibraryYear:
    """The library's facts for one year: official from chinese-calendar, or estimated."""
    official = _official_year(year)
    if official is not None:
        return official
    if year not in _warned_years:
        _warned_years.add(year)
        log.warning(
            "calendar: chinese-calendar %s has no data for %s; using the estimate of the holidays package "
            "(festivals by rule, no 调休 working weekends) until admins enter overrides or the package is upgraded",
            getattr(chinese_calendar, "__version__", "?"),
            year,
        )
    return _estimated_year(year)


def is_official_year(year: int) -> bool:
    return library_year(year).official


# --- calendars --------------------------------------------------------------------------------


class Calendar(Protocol):
    """What timers need of a calendar. Instants are timezone-aware; arithmetic is in Asia/Shanghai."""

    def is_working_day(self, day: date) -> bool: ...

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime: ...

    def working_minutes_between(self, a: datetime, b: datetime) -> float: ...

    def is_estimated(self, a: datetime, b: datetime) -> bool: ...


def _local(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("calendar arithmetic needs timezone-aware instants")
    return instant.astimezone(SHANGHAI)


@dataclass(frozen=True)
class AlwaysCalendar:
    """24x7: every minute counts."""

    def is_working_day(self, day: date) -> bool:
        return True

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        return _local(start) + timedelta(minutes=minutes)

    def working_minutes_between(self, a: datetime, b: datetime) -> float:
        return max((_local(b) - _local(a)) / _ONE_MINUTE, 0.0)

    def is_estimated(self, a: datetime, b: datetime) -> bool:
        return False


def _overrides_of_chain(org_id: int | None, years: frozenset[int] | None = None) -> ValuesQuery[Any]:
    """The overrides of a union's chain (itself and every union above it) and nationwide ones,
    each with its union's depth: one statement."""
    chain = Q(org_id__isnull=True)
    if org_id is not None:
        chain |= Q(org_id__in=Subquery(OrgClosure.filter(descendant_id=org_id).values("ancestor_id")))
    query = CalendarOverride.filter(chain)
    if years is not None:
        query = query.filter(Q(*[Q(day__gte=date(y, 1, 1), day__lte=date(y, 12, 31)) for y in years], join_type="OR"))
    return query.values("day", "working", "note", "org_id", "org__depth")


_OVERRIDES_OF_CHAIN: Prepared[list[dict[str, Any]]] = Prepared(_overrides_of_chain)
_OVERRIDES_OF_CHAINS: Prepared[list[dict[str, Any]]] = Prepared(
    lambda org_ids: CalendarOverride.filter(
        Q(org_id__isnull=True)
        | Q(org_id__in=Subquery(OrgClosure.filter(descendant_id__in=org_ids).values("ancestor_id")))
    ).values("day", "working", "note", "org_id", "org__depth")
)
_LINKS: Prepared[list[tuple[int, int]]] = Prepared(
    lambda org_ids, ancestor_ids: OrgClosure.filter(
        descendant_id__in=org_ids, ancestor_id__in=ancestor_ids
    ).values_list("descendant_id", "ancestor_id")
)


@dataclass(frozen=True)
class WorkdayCalendar:
    """Mainland-China working days and `WORKING_HOURS`, with the overrides that apply to one union
    (or nationwide ones only, for `org_id=None`) loaded once: the arithmetic queries nothing."""

    org_id: int | None
    overrides: Mapping[date, SpecialDay] = field(default_factory=dict)
    years: frozenset[int] | None = None  # the years whose overrides were loaded; None: all
    hours: tuple[tuple[time, time], ...] = WORKING_HOURS

    @classmethod
    async def load(cls, org_id: int | None, years: Iterable[int] | None = None) -> WorkdayCalendar:
        """The overrides of the union's chain (nearest union first, nationwide last), for `years`
        or for every year."""
        wanted = frozenset(years) if years is not None else None
        rows = await (_OVERRIDES_OF_CHAIN(org_id) if wanted is None else _overrides_of_chain(org_id, wanted))
        return cls._of_rows(org_id, rows, wanted)

    @classmethod
    async def load_many(cls, org_ids: Iterable[int | None]) -> dict[int | None, WorkdayCalendar]:
        """The calendars of several unions (None: nationwide overrides only), every year: the
        overrides of all their chains in one statement, and, only when some union has overrides
        of its own, a second that says which of those unions are above which."""
        wanted = set(org_ids)
        unions = sorted(org_id for org_id in wanted if org_id is not None)
        if len(unions) <= 1:
            return {org_id: await cls.load(org_id) for org_id in wanted}
        rows = await _OVERRIDES_OF_CHAINS(unions)
        with_overrides = sorted({row["org_id"] for row in rows if row["org_id"] is not None})
        chains: dict[int | None, set[int]] = {org_id: set() for org_id in wanted}
        if with_overrides:
            for union, ancestor in await _LINKS(unions, with_overrides):
                chains[union].add(ancestor)
        return {
            org_id: cls._of_rows(org_id, [row for row in rows if row["org_id"] is None or row["org_id"] in chain], None)
            for org_id, chain in chains.items()
        }

    @classmethod
    def _of_rows(cls, org_id: int | None, rows: list[dict[str, Any]], years: frozenset[int] | None) -> WorkdayCalendar:
        # The nearest union is the deepest one on the chain; nationwide overrides come last.
        nearest: dict[date, tuple[int, dict[str, Any]]] = {}
        for row in rows:
            distance = -row["org__depth"] if row["org_id"] is not None else 1 << 16
            if row["day"] not in nearest or distance < nearest[row["day"]][0]:
                nearest[row["day"]] = (distance, row)
        overrides = {
            day: SpecialDay(
                day=day,
                working=row["working"],
                name=row["note"] or ("调整为工作日" if row["working"] else "调整为休息日"),
                source=DaySource.OVERRIDE,
                org_id=row["org_id"],
                note=row["note"],
            )
            for day, (_, row) in nearest.items()
        }
        return cls(org_id=org_id, overrides=overrides, years=years)

    def special_day(self, day: date) -> SpecialDay | None:
        if self.years is not None and day.year not in self.years:
            raise ValueError(f"this calendar was loaded for {sorted(self.years)}, not {day.year}")
        return self.overrides.get(day) or library_year(day.year).days.get(day)

    def is_working_day(self, day: date) -> bool:
        special = self.special_day(day)
        return special.working if special is not None else day.weekday() < 5

    def special_days(self, year: int) -> list[SpecialDay]:
        """The year's days that differ from their weekday, and every override, by date."""
        days = dict(library_year(year).days)
        days.update({day: special for day, special in self.overrides.items() if day.year == year})
        return [days[day] for day in sorted(days)]

    def is_estimated(self, a: datetime, b: datetime) -> bool:
        """Whether any day from `a` to `b` falls in a year the library only estimates."""
        first, last = sorted((_local(a).year, _local(b).year))
        return any(not is_official_year(year) for year in range(first, last + 1))

    def _windows(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (datetime.combine(day, opens, SHANGHAI), datetime.combine(day, closes, SHANGHAI))
            for opens, closes in self.hours
        ]

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant at which `minutes` of working time after `start` have passed: the moment
        the last minute is used (18:00 rather than the next morning's 09:00)."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        moment = _local(start)
        left = timedelta(minutes=minutes)
        if not left:
            return moment
        day = moment.date()
        while True:
            for opens, closes in self._windows(day):
                begin = max(opens, moment)
                if begin >= closes:
                    continue
                if begin + left <= closes:
                    return begin + left
                left -= closes - begin
            day += _ONE_DAY

    def working_minutes_between(self, a: datetime, b: datetime) -> float:
        """Working minutes from `a` to `b`; 0 when `b` is not after `a`."""
        a, b = _local(a), _local(b)
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            for opens, closes in self._windows(day):
                low, high = max(opens, a), min(closes, b)
                if high > low:
                    total += high - low
            day += _ONE_DAY
        return total / _ONE_MINUTE


async def load_calendar(kind: CalendarKind, org_id: int | None, years: Iterable[int] | None = None) -> Calendar:
    if kind == CalendarKind.ALWAYS:
        return AlwaysCalendar()
    return await WorkdayCalendar.load(org_id, years)


async def is_working_day(day: date, org_id: int | None = None) -> bool:
    """One question, one query; for arithmetic over many days load a `WorkdayCalendar` once."""
    calendar = await WorkdayCalendar.load(org_id, [day.year])
    return calendar.is_working_day(day)


# --- admin: the year's days and the overrides -------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class YearView:
    year: int
    org_id: int | None
    official: bool
    days: list[SpecialDay]


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid(
            "calendar.year_out_of_range",
            f"年份须在 {FIRST_YEAR} 至 {LAST_YEAR} 之间",
            {"year": year, "min": FIRST_YEAR, "max": LAST_YEAR},
        )


async def _may_change(scope: StaffScope, org_id: int | None) -> None:
    """Nationwide days are the superadmin's; a union's days are its admins' and those above."""
    if org_id is None:
        if not scope.sees_everything:
            raise Forbidden(
                "calendar.nationwide_forbidden", "全国通用的工作日调整仅超级管理员可以设置，请指定本级或下级工会"
            )
        return
    await scope.require(org_id)


async def year_view(scope: StaffScope, year: int, org_id: int | None) -> YearView:
    _check_year(year)
    if org_id is not None:
        await scope.require(org_id)
    calendar = await WorkdayCalendar.load(org_id, [year])
    return YearView(year=year, org_id=org_id, official=is_official_year(year), days=calendar.special_days(year))


OverrideListener = Callable[[date, int | None], Awaitable[object]]
_listeners: list[OverrideListener] = []


def on_override_change(listener: OverrideListener) -> None:
    """Call `listener(day, org_id)` in the transaction of every override set or removed: the
    timers module replans the deadlines that the day moves."""
    if listener not in _listeners:
        _listeners.append(listener)


def _override_facts(row: CalendarOverride | None) -> dict[str, object] | None:
    return None if row is None else {"working": row.working, "note": row.note}


async def set_override(
    scope: StaffScope, *, day: date, working: bool, note: str, org_id: int | None, actor: Actor
) -> CalendarOverride:
    _check_year(day.year)
    await _may_change(scope, org_id)
    key = org_id or 0
    try:
        async with in_transaction():
            row = await CalendarOverride.filter(day=day, org_key=key).select_for_update().first()
            before = _override_facts(row)
            if row is None:
                row = await CalendarOverride.create(
                    day=day,
                    working=working,
                    note=note,
                    org_id=org_id,
                    org_key=key,
                    entered_by_id=actor.id,
                    entered_by_name=actor.name,
                )
            else:
                row.working, row.note, row.entered_by_id, row.entered_by_name = working, note, actor.id, actor.name
                await row.save(update_fields=["working", "note", "entered_by_id", "entered_by_name", "updated_at"])
            for listener in _listeners:
                await listener(day, org_id)
            await record(
                actor,
                "calendar.override_set",
                object_type="calendar_day",
                object_id=f"{day.isoformat()}@{org_id or 'nationwide'}",
                org_id=org_id,
                before=before,
                after=_override_facts(row),
            )
    except IntegrityError:  # a concurrent first entry of the same day won
        raise Conflict(
            "calendar.concurrent_change", "该日期刚被其他管理员设置，请刷新后重试", {"date": day.isoformat()}
        ) from None
    return row


async def remove_override(scope: StaffScope, *, day: date, org_id: int | None, actor: Actor) -> None:
    await _may_change(scope, org_id)
    async with in_transaction():
        row = await CalendarOverride.filter(day=day, org_key=org_id or 0).select_for_update().first()
        if row is None:
            raise NotFound(
                "calendar.override_not_found", "该日期没有设置过调整", {"date": day.isoformat(), "org_id": org_id}
            )
        await row.delete()
        for listener in _listeners:
            await listener(day, org_id)
        await record(
            actor,
            "calendar.override_removed",
            object_type="calendar_day",
            object_id=f"{day.isoformat()}@{org_id or 'nationwide'}",
            org_id=org_id,
            before=_override_facts(row),
        )
