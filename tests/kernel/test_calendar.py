"""The working-day calendar: the library's holidays and 调休 days, working hours, a year the library
does not know, and overrides nationwide and per union, against the real database."""

from __future__ import annotations

import logging
from datetime import date

import holidays
import pytest

from models.kernel.calendar import (
    AlwaysCalendar,
    CalendarKind,
    DaySource,
    WorkdayCalendar,
    is_working_day,
    library_year,
    load_calendar,
)
from models.orgs import OrgType
from tests.factories.unions import demo_org, make_org
from tests.kernel.factories import at, clear_day, override_day


async def test_2026_holidays_and_working_weekends_come_from_the_library(stack) -> None:
    calendar = await WorkdayCalendar.load(None)
    assert library_year(2026).official
    # Both packages agree on 2026's 调休 weekend days: the source is not a hand-typed list.
    working_weekends = {day for day in holidays.China(years=2026).weekend_workdays if day.year == 2026}
    assert {date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)} <= working_weekends
    assert all(calendar.is_working_day(day) for day in working_weekends)
    spring_festival = [date(2026, 2, day) for day in (16, 17, 18, 19, 20, 23)]
    assert not any(calendar.is_working_day(day) for day in spring_festival)
    assert calendar.is_working_day(date(2026, 2, 24))
    assert not calendar.is_working_day(date(2026, 2, 21))  # an ordinary Saturday
    assert calendar.special_day(date(2026, 2, 14)).source == DaySource.LIBRARY
    assert await is_working_day(date(2026, 10, 10)) and not await is_working_day(date(2026, 10, 7))


async def test_working_minutes_skip_national_day_and_count_a_working_sunday(stack) -> None:
    calendar = await WorkdayCalendar.load(None)
    # Wednesday 17:00: one hour that day, then 1-7 October off, then Thursday the 8th.
    assert calendar.add_working_minutes(at(2026, 9, 30, 17), 240) == at(2026, 10, 8, 12)
    assert calendar.working_minutes_between(at(2026, 9, 30, 17), at(2026, 10, 8, 12)) == 240
    assert calendar.working_minutes_between(at(2026, 10, 1, 9), at(2026, 10, 7, 18)) == 0
    # Friday 18 September 17:00: Sunday the 20th is a working day before the holiday.
    assert calendar.add_working_minutes(at(2026, 9, 18, 17), 120) == at(2026, 9, 20, 10)
    # Lunch does not count, and the last minute of a day ends at 18:00, not the next morning.
    assert calendar.add_working_minutes(at(2026, 3, 2, 11, 30), 60) == at(2026, 3, 2, 14)
    assert calendar.add_working_minutes(at(2026, 3, 2, 17), 60) == at(2026, 3, 2, 18)
    assert calendar.add_working_minutes(at(2026, 3, 2, 20), 30) == at(2026, 3, 3, 9, 30)
    assert calendar.working_minutes_between(at(2026, 3, 2, 8), at(2026, 3, 2, 20)) == 450
    assert calendar.working_minutes_between(at(2026, 3, 3), at(2026, 3, 2)) == 0


async def test_a_plain_24x7_calendar_counts_holidays(stack) -> None:
    calendar = await load_calendar(CalendarKind.ALWAYS, None)
    assert isinstance(calendar, AlwaysCalendar)
    assert calendar.add_working_minutes(at(2026, 10, 1, 9), 24 * 60) == at(2026, 10, 2, 9)
    assert calendar.working_minutes_between(at(2026, 2, 16), at(2026, 2, 17)) == 24 * 60
    assert not calendar.is_estimated(at(2027, 1, 1), at(2027, 12, 31))


async def test_a_year_the_library_does_not_know_is_estimated_and_overridable(stack, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="models.kernel.calendar"):
        assert not library_year(2093).official
        library_year(2093)
    assert len([r for r in caplog.records if "2093" in r.getMessage()]) == 1

    estimated = library_year(2027)
    assert not estimated.official
    assert estimated.days[date(2027, 2, 8)].source == DaySource.ESTIMATED  # Spring Festival, by rule
    calendar = await WorkdayCalendar.load(None)
    assert not calendar.is_working_day(date(2027, 2, 8))
    assert calendar.is_estimated(at(2026, 12, 31, 9), at(2027, 1, 4, 9))
    assert not calendar.is_estimated(at(2026, 1, 5, 9), at(2026, 12, 31, 9))
    # Nothing published yet: 2027-02-20 is a plain Saturday until an admin enters it.
    assert not calendar.is_working_day(date(2027, 2, 20))
    assert calendar.add_working_minutes(at(2027, 2, 19, 17), 120) == at(2027, 2, 22, 10)
    await override_day(date(2027, 2, 20), True, None, "春节调休上班")
    try:
        calendar = await WorkdayCalendar.load(None)
        assert calendar.is_working_day(date(2027, 2, 20))
        assert calendar.special_day(date(2027, 2, 20)).source == DaySource.OVERRIDE
        assert calendar.add_working_minutes(at(2027, 2, 19, 17), 120) == at(2027, 2, 20, 10)
    finally:
        await clear_day(date(2027, 2, 20), None)
    assert not (await WorkdayCalendar.load(None)).is_working_day(date(2027, 2, 20))


async def test_a_union_override_applies_to_its_subtree_and_the_nearest_wins(stack) -> None:
    zhongshan = await demo_org("中山市总工会")
    town = await make_org(zhongshan, org_type=OrgType.TOWN)
    below, beside = await make_org(town), await make_org(zhongshan)
    saturday, friday_evening = date(2026, 3, 7), at(2026, 3, 6, 17)
    await override_day(saturday, True, town.id, "镇街服务日")

    for org_id, working in (
        (town.id, True),
        (below.id, True),
        (beside.id, False),
        (zhongshan.id, False),
        (None, False),
    ):
        calendar = await WorkdayCalendar.load(org_id)
        assert calendar.is_working_day(saturday) is working, org_id
        expected = at(2026, 3, 7, 10) if working else at(2026, 3, 9, 10)
        assert calendar.add_working_minutes(friday_evening, 120) == expected

    await override_day(saturday, False, below.id, "基层工会照常休息")
    assert not (await WorkdayCalendar.load(below.id)).is_working_day(saturday)
    assert (await WorkdayCalendar.load(town.id)).is_working_day(saturday)

    # A nationwide override yields to a union's own.
    nationwide_day = date(2026, 12, 19)
    await override_day(nationwide_day, True, None)
    await override_day(nationwide_day, False, town.id)
    try:
        assert (await WorkdayCalendar.load(beside.id)).is_working_day(nationwide_day)
        assert not (await WorkdayCalendar.load(below.id)).is_working_day(nationwide_day)
    finally:
        await clear_day(nationwide_day, None)


async def test_many_unions_calendars_loaded_together_are_each_ones_own(stack) -> None:
    zhongshan = await demo_org("中山市总工会")
    town = await make_org(zhongshan, org_type=OrgType.TOWN)
    below, beside = await make_org(town), await make_org(zhongshan)
    unions = [town.id, below.id, beside.id, zhongshan.id, None]
    saturday, nationwide_day = date(2026, 3, 14), date(2026, 12, 26)

    # No union of theirs has overrides yet: only the nationwide ones, the same for all.
    together = await WorkdayCalendar.load_many(unions)
    assert set(together) == set(unions)
    for org_id in unions:
        assert together[org_id].overrides == (await WorkdayCalendar.load(org_id)).overrides, org_id
        assert together[org_id].org_id == org_id

    await override_day(saturday, True, town.id, "镇街服务日")
    await override_day(saturday, False, below.id, "基层工会照常休息")
    await override_day(nationwide_day, True, None)
    await override_day(nationwide_day, False, beside.id)
    try:
        together = await WorkdayCalendar.load_many(unions)
        for org_id in unions:
            alone = await WorkdayCalendar.load(org_id)
            assert together[org_id].overrides == alone.overrides, org_id
        expected = {
            town.id: (True, True),
            below.id: (False, True),
            beside.id: (False, False),
            zhongshan.id: (False, True),
            None: (False, True),
        }
        for org_id, (saturday_working, nationwide_working) in expected.items():
            assert together[org_id].is_working_day(saturday) is saturday_working, org_id
            assert together[org_id].is_working_day(nationwide_day) is nationwide_working, org_id
    finally:
        await clear_day(nationwide_day, None)


async def test_a_calendar_loaded_for_some_years_refuses_others(stack) -> None:
    calendar = await WorkdayCalendar.load(None, [2026])
    assert calendar.is_working_day(date(2026, 2, 14))
    with pytest.raises(ValueError):
        calendar.is_working_day(date(2025, 2, 14))
    with pytest.raises(ValueError):
        calendar.add_working_minutes(at(2026, 3, 2, 9).replace(tzinfo=None), 10)
