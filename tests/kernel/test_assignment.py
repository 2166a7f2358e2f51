"""Offers with deadlines, claims, releases, reassignment and round-robin, on the real database."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from models.audit import Actor
from models.errors import Conflict, Invalid
from models.kernel import assignment
from models.kernel.assignment import AssigneeKind, Assignment, AssignmentState, Person, staff_person
from models.kernel.calendar import CalendarKind
from models.kernel.jobs import JobFailure
from models.kernel.machine import Step
from models.kernel.timers import start_timer
from server.clock import SHANGHAI, now
from tests.factories.common import eventually
from tests.factories.unions import demo_org, make_org, make_staff

NINE_MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


def step_of(case_id: int, action: str, at: datetime = NINE_MONDAY) -> Step:
    return Step("kernel_test", case_id, action, "open", "open", Actor("staff", 1, "tests"), "", at)


def new_case() -> int:
    return uuid.uuid4().int % 10**12


async def test_offer_accept_release_and_the_history_data() -> None:
    org = await make_org(await demo_org("中山市总工会"))
    expert = Person(AssigneeKind.EXPERT, 501, "张国明")
    case_id = new_case()
    offering = step_of(case_id, "offer")
    offered = await assignment.offer(offering, org.id, expert, NINE_MONDAY + timedelta(hours=24))
    assert offered.state == AssignmentState.OFFERED
    assert offering.data == {"assignee": "张国明", "assignee_kind": "expert", "respond_by": "2026-12-01T09:00:00+08:00"}
    with pytest.raises(Conflict):
        await assignment.accept(step_of(case_id, "accept"), Person(AssigneeKind.EXPERT, 502, "别人"))
    with pytest.raises(Conflict):  # too late: the offer ran out at 09:00 on Tuesday
        await assignment.accept(step_of(case_id, "accept", NINE_MONDAY + timedelta(hours=25)), expert)
    accepted = await assignment.accept(step_of(case_id, "accept"), expert)
    assert accepted.state == AssignmentState.ACTIVE and accepted.respond_by is None
    await assignment.release(step_of(case_id, "release"), expert)
    assert await assignment.current("kernel_test", case_id) is None
    with pytest.raises(Invalid):
        await assignment.offer(step_of(case_id, "offer"), org.id, expert, NINE_MONDAY - timedelta(minutes=1))


async def test_reassigning_replaces_the_live_assignment() -> None:
    org = await make_org(await demo_org("中山市总工会"))
    first, second = staff_person(await make_staff(org)), staff_person(await make_staff(org))
    case_id = new_case()
    await assignment.assign(step_of(case_id, "claim"), org.id, first)
    await assignment.assign(step_of(case_id, "reassign"), org.id, second)
    rows = await Assignment.filter(case_type="kernel_test", case_id=case_id).order_by("id")
    assert [(row.assignee_id, row.state) for row in rows] == [
        (first.id, AssignmentState.REPLACED),
        (second.id, AssignmentState.ACTIVE),
    ]


async def test_round_robin_takes_turns_within_the_team_and_skips_inactive_staff() -> None:
    org = await make_org(await demo_org("中山市总工会"))
    team = [await make_staff(org) for _ in range(3)]
    team[1].is_active = False
    await team[1].save(update_fields=["is_active"])
    chosen = [(await assignment.next_in_rotation(org.id)).id for _ in range(5)]
    assert chosen == [team[0].id, team[2].id, team[0].id, team[2].id, team[0].id]
    empty = await make_org(org)
    with pytest.raises(Conflict):
        await assignment.next_in_rotation(empty.id)


async def test_offers_past_their_deadline_go_to_the_case_types_handler() -> None:
    org = await make_org(await demo_org("中山市总工会"))
    handled: list[int] = []

    async def back_to_matching(offer: Assignment, at: datetime) -> None:
        if offer.case_id == poisoned:
            raise RuntimeError("planted failure")
        await assignment.end_expired(step_of(offer.case_id, "offer_expired", at))
        handled.append(offer.case_id)

    assignment.register_offer_timeout("kernel_test", back_to_matching)
    late, early, poisoned = new_case(), new_case(), new_case()
    for case_id, hours in ((late, 2), (early, 48), (poisoned, 1)):
        await assignment.offer(
            step_of(case_id, "offer"),
            org.id,
            Person(AssigneeKind.EXPERT, 7, "专家"),
            NINE_MONDAY + timedelta(hours=hours),
        )

    failures = await assignment.expire_offers(NINE_MONDAY + timedelta(hours=3))

    assert late in handled and early not in handled
    poisoned_offer = await Assignment.get(case_type="kernel_test", case_id=poisoned)
    assert [f.error for f in failures if f.assignment_id == poisoned_offer.id] == ["RuntimeError: planted failure"]
    assert poisoned_offer.state == AssignmentState.OFFERED
    assert (await Assignment.get(case_type="kernel_test", case_id=late)).state == AssignmentState.EXPIRED
    assert (await Assignment.get(case_type="kernel_test", case_id=early)).state == AssignmentState.OFFERED
    again = await assignment.expire_offers(NINE_MONDAY + timedelta(hours=3))
    assert handled.count(late) == 1
    assert poisoned_offer.id in [f.assignment_id for f in again]


@pytest.mark.usefixtures("dispatcher")
async def test_the_job_runner_sweeps_timers_and_offers() -> None:
    """The runner `make run` starts hosts the timer sweep and the offer timeouts: a due timer and
    an expired offer of a case type nobody handles are set aside and shown as job failures."""
    org = await make_org(await demo_org("中山市总工会"))
    started = now() - timedelta(hours=2)
    timer = await start_timer(
        case_type="unhandled_case",
        case_id=new_case(),
        kind="resolution",
        target_minutes=1,
        calendar=CalendarKind.ALWAYS,
        org_id=org.id,
        at=started,
    )
    offered = await assignment.offer(
        Step("unhandled_case", new_case(), "offer", "open", "open", Actor("staff", 1, "t"), "", started),
        org.id,
        Person(AssigneeKind.EXPERT, 8, "专家"),
        started + timedelta(minutes=5),
    )

    expected = {("timers", "sla_timer", str(timer.id)), ("offers", "assignment", str(offered.id))}

    async def recorded() -> bool:
        rows = await JobFailure.filter(job__in=["timers", "offers"]).values_list("job", "item_type", "item_id")
        return expected <= set(rows)

    await eventually(recorded, within=60)
