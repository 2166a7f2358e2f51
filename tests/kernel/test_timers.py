"""SLA timers against the real database: states at given instants, pause and resume, alerts sent
once by the sweep (twice in a row or concurrently), handlers that fail, and estimated years."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date

import pytest

from models.audit import Actor, AuditEntry, record
from models.errors import Conflict, Invalid
from models.kernel.calendar import CalendarKind, load_calendar
from models.kernel.timers import (
    AlertKind,
    BreachAction,
    SlaState,
    SlaTimer,
    TimerAlert,
    TimerStatus,
    meet_timer,
    open_timer,
    pause_timer,
    register_breach_handler,
    resume_timer,
    retry_timer,
    start_timer,
    stop_timer,
    sweep_timers,
    timer_facts,
    timer_states,
)
from models.orgs import OrgType
from tests.factories.common import unique
from tests.factories.unions import demo_org, make_org
from tests.kernel.factories import at, override_day

_case_ids = itertools.count(1)
SYSTEM = Actor("system", None, "sla-tests")


class Recorder:
    """A domain's handler as tests see it: every alert it got, and on a breach with `escalate` an
    audit entry written in the sweep's transaction (the stand-in for moving the case upward)."""

    def __init__(self, *, delay: float = 0, fail: bool = False) -> None:
        self.alerts: list[TimerAlert] = []
        self.delay, self.fail = delay, fail

    async def __call__(self, alert: TimerAlert) -> None:
        self.alerts.append(alert)
        if alert.kind == AlertKind.BREACHED and BreachAction.ESCALATE in alert.actions:
            await record(
                SYSTEM,
                "test.escalated",
                object_type=alert.timer.case_type,
                object_id=alert.timer.case_id,
                org_id=alert.parent_org_id,
            )
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("handler broke")


def case_type_with(handler: Recorder) -> str:
    case_type = unique("t")[:32]
    register_breach_handler(case_type, handler)
    return case_type


async def escalations(case_type: str) -> int:
    return await AuditEntry.filter(action="test.escalated", object_type=case_type).count()


async def state(timer: SlaTimer, moment):  # type: ignore[no-untyped-def]
    """The state from the stored row alone, as a fresh reader sees it."""
    row = await SlaTimer.get(id=timer.id)
    return row.state_at(moment, await load_calendar(row.calendar, row.org_id))


async def test_the_state_at_nine_next_monday_across_national_day(stack) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    timer = await start_timer(
        case_type=unique("t"),
        case_id=next(_case_ids),
        kind="resolution",
        org_id=org.id,
        target_minutes=240,
        at=at(2026, 9, 30, 17),
    )
    assert timer.due_at == at(2026, 10, 8, 12)
    assert timer.risk_at == at(2026, 10, 8, 11, 12)  # 80 % of 240 minutes
    assert not timer.estimated

    monday = await state(timer, at(2026, 10, 5, 9))  # the Monday of the National Day week
    assert monday.state == SlaState.ON_TRACK
    assert (monday.elapsed_minutes, monday.remaining_minutes) == (60, 180)
    assert monday.due_at == at(2026, 10, 8, 12)
    assert (await state(timer, at(2026, 10, 8, 11, 30))).state == SlaState.AT_RISK
    late = await state(timer, at(2026, 10, 8, 12))
    assert late.state == SlaState.BREACHED and late.breached and late.remaining_minutes == 0


async def test_a_working_saturday_counts(stack) -> None:
    timer = await start_timer(
        case_type=unique("t"),
        case_id=next(_case_ids),
        kind="first_response",
        target_minutes=120,
        at=at(2026, 2, 13, 17),
    )
    assert timer.due_at == at(2026, 2, 14, 10)  # Saturday 14 February 2026 is a working day
    monday = await state(timer, at(2026, 2, 16, 9))  # Spring Festival's eve: no working time
    assert monday.state == SlaState.BREACHED
    assert monday.elapsed_minutes == 60 + 450


async def test_a_pause_does_not_count(stack) -> None:
    timer = await start_timer(
        case_type=unique("t"), case_id=next(_case_ids), kind="resolution", target_minutes=120, at=at(2026, 3, 2, 9)
    )
    await pause_timer(timer.id, at=at(2026, 3, 2, 10))
    waiting = await state(timer, at(2026, 3, 3, 17))
    assert waiting.state == SlaState.PAUSED and waiting.elapsed_minutes == 60 and waiting.due_at is None
    with pytest.raises(Conflict) as refused:
        await pause_timer(timer.id, at=at(2026, 3, 3, 9))
    assert refused.value.code == "timer.wrong_status"

    resumed = await resume_timer(timer.id, at=at(2026, 3, 3, 14))
    assert resumed.due_at == at(2026, 3, 3, 15)
    assert resumed.risk_at == at(2026, 3, 3, 14, 36)  # 96 minutes, 60 of them before the pause
    assert (await state(timer, at(2026, 3, 3, 14, 30))).elapsed_minutes == 90
    met = await meet_timer(timer.id, at=at(2026, 3, 3, 14, 50))
    done = await state(met, at(2026, 3, 9, 9))
    assert done.state == SlaState.MET and done.elapsed_minutes == 110 and not done.breached
    with pytest.raises(Conflict):
        await meet_timer(timer.id, at=at(2026, 3, 3, 15))


async def test_a_24x7_timer_counts_nights_and_holidays_but_not_its_pause(stack) -> None:
    timer = await start_timer(
        case_type=unique("t"),
        case_id=next(_case_ids),
        kind="resolution",
        calendar=CalendarKind.ALWAYS,
        target_minutes=24 * 60,
        at=at(2026, 10, 1, 8),
    )
    assert timer.due_at == at(2026, 10, 2, 8)
    await pause_timer(timer.id, at=at(2026, 10, 1, 20))
    resumed = await resume_timer(timer.id, at=at(2026, 10, 2, 20))
    assert resumed.due_at == at(2026, 10, 3, 8)
    [reading] = await timer_states([resumed], at(2026, 10, 3, 7))
    assert reading.state == SlaState.AT_RISK and reading.elapsed_minutes == 23 * 60


async def test_a_list_reads_each_timer_as_its_whole_row_stands(stack) -> None:
    """`timer_facts` (what case lists read) gives the states the whole rows give: running on a
    union's calendar, paused after its due time, met late, around the clock, set aside."""
    case_type = case_type_with(Recorder(fail=True))
    org = await make_org(await demo_org("中山市总工会"))
    cases = [next(_case_ids) for _ in range(4)]
    start = at(2026, 10, 9, 9)
    running = await start_timer(
        case_type=case_type, case_id=cases[0], kind="resolution", org_id=org.id, target_minutes=4800, at=start
    )
    paused = await start_timer(case_type=case_type, case_id=cases[1], kind="resolution", target_minutes=30, at=start)
    await pause_timer(paused.id, at=at(2026, 10, 9, 10))
    late = await start_timer(case_type=case_type, case_id=cases[2], kind="first_response", target_minutes=10, at=start)
    await meet_timer(late.id, at=at(2026, 10, 9, 11))
    always = dict(case_type=case_type, case_id=cases[3], calendar=CalendarKind.ALWAYS, at=start)
    await start_timer(**always, kind="resolution", target_minutes=600, on_breach=[BreachAction.ESCALATE])
    overdue = await start_timer(**always, kind="first_response", target_minutes=20)
    await sweep_timers(at(2026, 10, 9, 9, 30))  # the failing handler sets aside what it is given

    moment = at(2026, 10, 12, 9)
    whole = await SlaTimer.filter(case_type=case_type).order_by("id")
    facts = await timer_facts(case_type, cases)
    assert [fact.id for fact in facts] == [timer.id for timer in whole] and len(facts) == 5
    assert await timer_states(facts, moment) == await timer_states(whole, moment)
    read = {state.timer_id: state for state in await timer_states(facts, moment)}
    assert read[running.id].state == SlaState.ON_TRACK and read[running.id].due_at is not None
    assert read[paused.id].state == SlaState.BREACHED and read[paused.id].status == TimerStatus.PAUSED
    assert read[late.id].state == SlaState.MET and read[late.id].breached
    assert {state.timer_id for state in read.values() if state.set_aside} == {paused.id, overdue.id}
    assert [fact.kind for fact in await timer_facts(case_type, cases, "first_response")] == ["first_response"] * 2


async def test_start_refuses_a_second_open_timer_and_bad_targets(stack) -> None:
    case = dict(case_type=unique("t"), case_id=next(_case_ids), kind="first_response")
    first = await start_timer(**case, target_minutes=60, at=at(2026, 3, 2, 9))
    with pytest.raises(Conflict) as twice:
        await start_timer(**case, target_minutes=60, at=at(2026, 3, 2, 9))
    assert twice.value.code == "timer.already_running"
    with pytest.raises(Invalid):
        await start_timer(**{**case, "kind": "resolution"}, target_minutes=0)
    with pytest.raises(Invalid):
        await start_timer(**{**case, "kind": "resolution"}, target_minutes=60, risk_percent=0)
    assert (await open_timer(**case)).id == first.id
    await stop_timer(first.id, at=at(2026, 3, 2, 9, 30))
    assert await open_timer(**case) is None
    again = await start_timer(**case, target_minutes=60, at=at(2026, 3, 2, 10))
    assert again.status == TimerStatus.RUNNING


def ours(results, case_type: str):  # type: ignore[no-untyped-def]
    return [(result.timer_id, result.alert, result.error) for result in results if result.case_type == case_type]


async def test_at_risk_then_breach_each_alert_once_and_escalate_to_the_parent(stack) -> None:
    parent = await make_org(await demo_org("中山市总工会"), org_type=OrgType.TOWN)
    org = await make_org(parent)
    handler = Recorder()
    case_type = case_type_with(handler)
    timer = await start_timer(
        case_type=case_type,
        case_id=next(_case_ids),
        kind="first_response",
        org_id=org.id,
        target_minutes=60,
        on_breach=[BreachAction.NOTIFY, BreachAction.ESCALATE],
        at=at(2026, 3, 9, 9),
    )
    assert ours(await sweep_timers(at(2026, 3, 9, 9, 47)), case_type) == []
    assert ours(await sweep_timers(at(2026, 3, 9, 9, 50)), case_type) == [(timer.id, AlertKind.AT_RISK, None)]
    assert ours(await sweep_timers(at(2026, 3, 9, 9, 55)), case_type) == []
    assert ours(await sweep_timers(at(2026, 3, 9, 10, 5)), case_type) == [(timer.id, AlertKind.BREACHED, None)]
    for later in (at(2026, 3, 9, 10, 6), at(2026, 3, 10, 9)):
        assert ours(await sweep_timers(later), case_type) == []

    assert [alert.kind for alert in handler.alerts] == [AlertKind.AT_RISK, AlertKind.BREACHED]
    breach = handler.alerts[1]
    assert breach.parent_org_id == parent.id and breach.at == at(2026, 3, 9, 10, 5)
    assert breach.actions == {BreachAction.NOTIFY, BreachAction.ESCALATE}
    assert await escalations(case_type) == 1
    row = await SlaTimer.get(id=timer.id)
    assert row.breach_alerted_at == at(2026, 3, 9, 10, 5) and row.next_check_at is None


async def test_a_sweep_that_comes_late_sends_the_breach_alone(stack) -> None:
    handler = Recorder()
    case_type = case_type_with(handler)
    await start_timer(
        case_type=case_type, case_id=next(_case_ids), kind="resolution", target_minutes=60, at=at(2026, 3, 9, 9)
    )
    results = ours(await sweep_timers(at(2026, 3, 10, 9)), case_type)
    assert [alert for _, alert, _ in results] == [AlertKind.BREACHED]
    assert ours(await sweep_timers(at(2026, 3, 11, 9)), case_type) == []
    assert len(handler.alerts) == 1


async def test_a_timer_paused_before_its_due_time_is_not_breached_while_paused(stack) -> None:
    handler = Recorder()
    case_type = case_type_with(handler)
    timer = await start_timer(
        case_type=case_type, case_id=next(_case_ids), kind="resolution", target_minutes=60, at=at(2026, 3, 9, 9)
    )
    await pause_timer(timer.id, at=at(2026, 3, 9, 9, 50))  # at risk already, not yet due
    assert [alert for _, alert, _ in ours(await sweep_timers(at(2026, 3, 12, 9)), case_type)] == [AlertKind.AT_RISK]
    assert ours(await sweep_timers(at(2026, 3, 13, 9)), case_type) == []
    await resume_timer(timer.id, at=at(2026, 3, 16, 9))
    assert [alert for _, alert, _ in ours(await sweep_timers(at(2026, 3, 16, 9, 10)), case_type)] == [
        AlertKind.BREACHED
    ]


async def test_concurrent_sweeps_alert_each_timer_once(stack) -> None:
    handler = Recorder(delay=0.2)
    case_type = case_type_with(handler)
    timers = [
        await start_timer(
            case_type=case_type,
            case_id=next(_case_ids),
            kind="resolution",
            target_minutes=30,
            on_breach=[BreachAction.ESCALATE],
            at=at(2026, 4, 1, 9),
        )
        for _ in range(4)
    ]
    # At risk and breached alike by now: one breach alert each, whoever sweeps.
    moment = at(2026, 4, 1, 10)
    first, second = await asyncio.gather(sweep_timers(moment), sweep_timers(moment))
    alerted = ours(first, case_type) + ours(second, case_type)
    assert sorted(timer_id for timer_id, _, _ in alerted) == sorted(timer.id for timer in timers)
    assert {alert for _, alert, _ in alerted} == {AlertKind.BREACHED}
    assert ours(await sweep_timers(moment), case_type) == []
    assert len(handler.alerts) == 4
    assert await escalations(case_type) == 4


async def test_a_failing_handler_sets_its_timer_aside_and_the_others_still_fire(stack) -> None:
    broken, working = Recorder(fail=True), Recorder()
    broken_type, working_type = case_type_with(broken), case_type_with(working)
    nobody_type = unique("t")  # no handler registered: a mistake to show, not to hide
    start = at(2026, 4, 2, 9)
    kwargs = dict(kind="resolution", target_minutes=30, on_breach=[BreachAction.ESCALATE], at=start)
    poisoned = await start_timer(case_type=broken_type, case_id=next(_case_ids), **kwargs)
    fine = await start_timer(case_type=working_type, case_id=next(_case_ids), **kwargs)
    orphan = await start_timer(case_type=nobody_type, case_id=next(_case_ids), **kwargs)

    results = await sweep_timers(at(2026, 4, 2, 10))
    assert ours(results, broken_type) == [(poisoned.id, AlertKind.BREACHED, "RuntimeError: handler broke")]
    assert ours(results, working_type) == [(fine.id, AlertKind.BREACHED, None)]
    [(_, _, lookup_error)] = ours(results, nobody_type)
    assert lookup_error.startswith("LookupError") and nobody_type in lookup_error
    # The broken handler's write was undone with it; the working one's stays.
    assert await escalations(broken_type) == 0 and await escalations(working_type) == 1
    row = await SlaTimer.get(id=poisoned.id)
    assert row.error == "RuntimeError: handler broke" and row.next_check_at is None and row.breach_alerted_at is None
    assert (await state(row, at(2026, 4, 2, 10))).set_aside
    assert ours(await sweep_timers(at(2026, 4, 2, 11)), broken_type) == []

    # Taken back after a fix, it fires once more.
    broken.fail = False
    await retry_timer(poisoned.id)
    assert ours(await sweep_timers(at(2026, 4, 2, 12)), broken_type) == [(poisoned.id, AlertKind.BREACHED, None)]
    assert await escalations(broken_type) == 1
    with pytest.raises(Conflict):
        await retry_timer(poisoned.id)
    assert (await SlaTimer.get(id=orphan.id)).error is not None


async def test_a_timer_in_a_year_the_library_does_not_know_runs_estimated(stack) -> None:
    zhongshan = await demo_org("中山市总工会")
    org, beside = await make_org(zhongshan), await make_org(zhongshan)

    async def thursday_evening_timer(org_id: int) -> SlaTimer:
        return await start_timer(
            case_type=unique("t"),
            case_id=next(_case_ids),
            kind="resolution",
            org_id=org_id,
            target_minutes=120,
            at=at(2027, 2, 4, 17),
        )

    # 2027: the holidays package estimates Spring Festival (5 and 8-10 February off).
    running, elsewhere = await thursday_evening_timer(org.id), await thursday_evening_timer(beside.id)
    assert running.estimated and running.due_at == at(2027, 2, 11, 10)
    reading = await state(running, at(2027, 2, 8, 9))
    assert reading.estimated and reading.state == SlaState.ON_TRACK and reading.elapsed_minutes == 60

    # The union's admin enters the published working Saturday: the union's running timers move,
    # a timer elsewhere does not, and timers started later use it.
    await override_day(date(2027, 2, 6), True, org.id, "春节调休上班")
    moved = await SlaTimer.get(id=running.id)
    assert moved.due_at == at(2027, 2, 6, 10) and moved.risk_at == at(2027, 2, 6, 9, 36)
    assert moved.next_check_at == moved.risk_at and moved.estimated
    assert (await SlaTimer.get(id=elsewhere.id)).due_at == at(2027, 2, 11, 10)
    assert (await thursday_evening_timer(org.id)).due_at == at(2027, 2, 6, 10)
