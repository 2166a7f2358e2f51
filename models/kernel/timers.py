"""SLA timers: a case's deadlines in working time (or 24x7), with pauses, risk and breach.

A timer belongs to a case (`case_type`, `case_id`) and has a kind (`first_response`,
`resolution`, `offer_response` ...). It runs in segments: start or resume opens one, pause or the
end closes it and adds its working time to `worked_seconds`, so a pause does not count. While a
segment runs the row holds the instants at which the timer becomes at risk (`risk_percent` of the
target used) and due, computed once on the calendar of its org; `state_at(at, calendar)` answers
for any instant from the row alone, and the sweep finds work by one index.

The sweep (`sweep_timers(at)`, called by the job runner) alerts each timer at most once per kind:
at risk, then breached. What an alert does belongs to the case's domain, which registers a handler
per case type (`register_breach_handler`); the timer's configured actions (`notify`, `escalate`
to the parent union) and the parent union travel with the alert. The kernel calls the handler in
the sweep's transaction, inside a savepoint: a handler that raises has its writes undone and its
timer set aside with the error (`error`), and the sweep goes on. A set-aside timer is alerted again
after `retry_timer`.

Concurrency: the sweep claims rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
sweepers take disjoint timers and a locked timer is never alerted twice; on SQLite transactions
begin with `BEGIN IMMEDIATE` (server/sqlite_backend.py), so sweeps run one at a time and each
reads what the previous one marked. Timer actions lock their row, so a pause never interleaves
with a sweep of the same timer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.errors import Conflict, Invalid, NotFound
from models.kernel.calendar import (
    AlwaysCalendar,
    Calendar,
    CalendarKind,
    WorkdayCalendar,
    load_calendar,
    on_override_change,
)
from models.orgs import Org, in_subtree
from models.prepared import Prepared
from server.clock import SHANGHAI, now

DEFAULT_RISK_PERCENT = 80
SWEEP_BATCH = 200
_ERROR_LENGTH = 2000


class TimerStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    STOPPED = "stopped"


ENDED = frozenset({TimerStatus.MET, TimerStatus.STOPPED})


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"
    STOPPED = "stopped"


SLA_STATE_LABELS: dict[SlaState, str] = {
    SlaState.ON_TRACK: "正常",
    SlaState.AT_RISK: "即将超时",
    SlaState.BREACHED: "已超时",
    SlaState.PAUSED: "已暂停",
    SlaState.MET: "已完成",
    SlaState.STOPPED: "已终止",
}


class BreachAction(StrEnum):
    NOTIFY = "notify"
    ESCALATE = "escalate"


class AlertKind(StrEnum):
    AT_RISK = "at_risk"
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class TimerFacts:
    """The columns of a timer that its state and its case's list need, and how it stands at an
    instant from them alone. A list of cases reads these rather than whole timers: a row has
    twelve times, and turning each into an aware datetime was the larger part of reading a page's
    timers. A whole timer answers through its own facts (`SlaTimer.facts`)."""

    id: int
    case_id: int
    kind: str
    calendar: CalendarKind
    org_id: int | None
    status: TimerStatus
    target_minutes: int
    risk_percent: int
    worked_seconds: int
    segment_started_at: datetime | None
    paused_at: datetime | None
    risk_at: datetime | None
    due_at: datetime | None
    estimated: bool
    error: str | None

    @property
    def target_seconds(self) -> int:
        return self.target_minutes * 60

    @property
    def risk_seconds(self) -> float:
        return self.target_seconds * self.risk_percent / 100

    def worked_minutes_at(self, at: datetime, calendar: Calendar) -> float:
        worked = self.worked_seconds / 60
        if self.status == TimerStatus.RUNNING and self.segment_started_at is not None:
            worked += calendar.working_minutes_between(self.segment_started_at, at)
        return worked

    def state_at(self, at: datetime, calendar: Calendar) -> TimerState:
        """The timer as it stands at `at` (an instant at or after its last change), counted on
        `calendar` (the one `load_calendar(self.calendar, self.org_id)` gives)."""
        worked = self.worked_minutes_at(at, calendar)
        breached = worked * 60 >= self.target_seconds
        if self.status == TimerStatus.MET:
            state = SlaState.MET
        elif self.status == TimerStatus.STOPPED:
            state = SlaState.STOPPED
        elif breached:
            state = SlaState.BREACHED
        elif self.status == TimerStatus.PAUSED:
            state = SlaState.PAUSED
        elif worked * 60 >= self.risk_seconds:
            state = SlaState.AT_RISK
        else:
            state = SlaState.ON_TRACK
        # A paused timer has no due time until it resumes, unless it was already due.
        reached = self.status != TimerStatus.PAUSED or (self.due_at is not None and self.due_at <= self.paused_at)
        return TimerState(
            timer_id=self.id,
            kind=self.kind,
            state=state,
            status=self.status,
            due_at=self.due_at if reached else None,
            risk_at=self.risk_at if reached else None,
            elapsed_minutes=worked,
            remaining_minutes=self.target_minutes - worked,
            target_minutes=self.target_minutes,
            breached=breached,
            estimated=self.estimated,
            set_aside=self.error is not None,
        )


_FACT_COLUMNS = tuple(field.name for field in dataclass_fields(TimerFacts))


class SlaTimer(Model):
    """A deadline of a case, counted in working time on the calendar of its org, or 24x7."""

    id = fields.BigIntField(primary_key=True)
    case_type = fields.CharField(max_length=32)
    case_id = fields.BigIntField()
    kind = fields.CharField(max_length=32)
    calendar = fields.CharEnumField(CalendarKind, max_length=8)
    org: fields.ForeignKeyNullableRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    target_minutes = fields.IntField()
    risk_percent = fields.SmallIntField(default=DEFAULT_RISK_PERCENT)
    on_breach: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    status = fields.CharEnumField(TimerStatus, max_length=8)
    started_at = fields.DatetimeField()
    # Working time of the closed segments, to the second, and the start of the open one.
    worked_seconds = fields.BigIntField(default=0)
    segment_started_at = fields.DatetimeField(null=True)
    paused_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    risk_at = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(null=True)
    # The earliest risk/due instant not yet alerted, while it can still be reached: the one
    # column the sweep walks (NULL when ended, set aside, or paused before reaching it).
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    at_risk_alerted_at = fields.DatetimeField(null=True)
    breach_alerted_at = fields.DatetimeField(null=True)
    # Some of its working time was counted on a year the library only estimates.
    estimated = fields.BooleanField(default=False)
    error = fields.TextField(null=True)
    error_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    org_id: int | None

    class Meta:
        table = "sla_timers"
        indexes = (("case_type", "case_id"),)

    def facts(self) -> TimerFacts:
        return TimerFacts(*(getattr(self, column) for column in _FACT_COLUMNS))

    def state_at(self, at: datetime, calendar: Calendar) -> TimerState:
        """The timer as it stands at `at`; see `TimerFacts.state_at`."""
        return self.facts().state_at(at, calendar)


@dataclass(frozen=True, kw_only=True)
class TimerState:
    timer_id: int
    kind: str
    state: SlaState
    status: TimerStatus
    due_at: datetime | None
    risk_at: datetime | None
    elapsed_minutes: float
    remaining_minutes: float  # negative once overdue
    target_minutes: int
    breached: bool  # the target was used up, whatever happened after (met late, paused late)
    estimated: bool
    set_aside: bool


@dataclass(frozen=True, kw_only=True)
class TimerAlert:
    """What a domain's handler receives: the timer (locked, in the sweep's transaction), which
    alert, the sweep's instant, the timer's configured actions, and where an escalation goes."""

    timer: SlaTimer
    kind: AlertKind
    at: datetime
    actions: frozenset[BreachAction]
    parent_org_id: int | None


@dataclass(frozen=True, kw_only=True)
class SweepResult:
    timer_id: int
    case_type: str
    case_id: int
    kind: str
    alert: AlertKind
    error: str | None  # set when the handler raised and the timer was set aside


BreachHandler = Callable[[TimerAlert], Awaitable[None]]
_handlers: dict[str, BreachHandler] = {}


def register_breach_handler(case_type: str, handler: BreachHandler) -> None:
    """The domain of `case_type` decides what its timers' alerts do (notify whom, escalate to
    which queue). One handler per case type; registering the same one again is harmless."""
    known = _handlers.get(case_type)
    if known is not None and known is not handler:
        raise ValueError(f"a breach handler is already registered for case type {case_type!r}")
    _handlers[case_type] = handler


# --- reading ----------------------------------------------------------------------------------


_FACTS_OF: Prepared[list[tuple[object, ...]]] = Prepared(
    lambda case_type, case_ids: (
        SlaTimer.filter(case_type=case_type, case_id__in=case_ids).order_by("id").values_list(*_FACT_COLUMNS)
    )
)
_FACTS_OF_KIND: Prepared[list[tuple[object, ...]]] = Prepared(
    lambda case_type, case_ids, kind: (
        SlaTimer.filter(case_type=case_type, case_id__in=case_ids, kind=kind).order_by("id").values_list(*_FACT_COLUMNS)
    )
)


async def timer_facts(case_type: str, case_ids: list[int], kind: str | None = None) -> list[TimerFacts]:
    """The timers of these cases (of one kind, if given), oldest first."""
    rows = await (_FACTS_OF(case_type, case_ids) if kind is None else _FACTS_OF_KIND(case_type, case_ids, kind))
    return [TimerFacts(*row) for row in rows]


async def timers_of(case_type: str, case_id: int) -> list[SlaTimer]:
    return await SlaTimer.filter(case_type=case_type, case_id=case_id).order_by("id")


async def open_timer(case_type: str, case_id: int, kind: str) -> SlaTimer | None:
    """The running or paused timer of that kind, if any."""
    return await SlaTimer.filter(
        case_type=case_type, case_id=case_id, kind=kind, status__in=[TimerStatus.RUNNING, TimerStatus.PAUSED]
    ).first()


def live_timers(case_type: str, state: SlaState, at: datetime, kind: str | None = None) -> QuerySet[SlaTimer]:
    """Running or paused timers of a case type that are in `state` at `at`, decided in the
    database (for a queue's filter as a subquery on `case_id`). Breached counts a breach already
    alerted too, since a timer is alerted late when the sweep was behind. A case with several
    timers may be in several of these sets: the caller ranks them (worst first)."""
    timers = SlaTimer.filter(case_type=case_type, status__in=[TimerStatus.RUNNING, TimerStatus.PAUSED])
    if kind is not None:
        timers = timers.filter(kind=kind)
    if state is SlaState.BREACHED:
        return timers.filter(Q(status=TimerStatus.RUNNING, due_at__lte=at) | Q(breach_alerted_at__isnull=False))
    if state is SlaState.PAUSED:
        return timers.filter(status=TimerStatus.PAUSED)
    if state is SlaState.AT_RISK:
        return timers.filter(status=TimerStatus.RUNNING, risk_at__lte=at, due_at__gt=at)
    raise ValueError(f"on track is what is in none of the other states, not a set of its own: {state}")


async def timer_states(timers: Iterable[SlaTimer | TimerFacts], at: datetime) -> list[TimerState]:
    """The states of many timers at `at`, loading each (calendar, org) once."""
    timers = list(timers)
    workdays = await WorkdayCalendar.load_many(
        {timer.org_id for timer in timers if timer.calendar == CalendarKind.WORKDAYS}
    )
    always = AlwaysCalendar()
    return [
        timer.state_at(at, workdays[timer.org_id] if timer.calendar == CalendarKind.WORKDAYS else always)
        for timer in timers
    ]


# --- actions ----------------------------------------------------------------------------------


def _next_check(timer: SlaTimer) -> datetime | None:
    if timer.error is not None or timer.status in ENDED:
        return None
    pending = [
        instant
        for instant, alerted in ((timer.risk_at, timer.at_risk_alerted_at), (timer.due_at, timer.breach_alerted_at))
        if instant is not None and alerted is None
    ]
    if not pending:
        return None
    first = min(pending)
    if timer.status == TimerStatus.PAUSED and timer.paused_at is not None and first > timer.paused_at:
        return None
    return first


def _plan_segment(timer: SlaTimer, calendar: Calendar, at: datetime) -> None:
    """Risk and due instants for a segment starting at `at`; an instant already passed in an
    earlier segment stays as it was."""
    facts = timer.facts()
    if timer.worked_seconds < facts.risk_seconds:
        timer.risk_at = calendar.add_working_minutes(at, (facts.risk_seconds - timer.worked_seconds) / 60)
    if timer.worked_seconds < facts.target_seconds:
        timer.due_at = calendar.add_working_minutes(at, (facts.target_seconds - timer.worked_seconds) / 60)
    timer.estimated = timer.estimated or calendar.is_estimated(at, max(timer.due_at or at, at))
    timer.next_check_at = _next_check(timer)


def _close_segment(timer: SlaTimer, calendar: Calendar, at: datetime) -> None:
    if timer.status == TimerStatus.RUNNING and timer.segment_started_at is not None:
        timer.worked_seconds += round(calendar.working_minutes_between(timer.segment_started_at, at) * 60)
        timer.estimated = timer.estimated or calendar.is_estimated(timer.segment_started_at, at)
    timer.segment_started_at = None


def _check_aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("timer instants must be timezone-aware")
    return at


async def start_timer(
    *,
    case_type: str,
    case_id: int,
    kind: str,
    target_minutes: int,
    org_id: int | None = None,
    calendar: CalendarKind = CalendarKind.WORKDAYS,
    risk_percent: int = DEFAULT_RISK_PERCENT,
    on_breach: Iterable[BreachAction] = (BreachAction.NOTIFY,),
    at: datetime | None = None,
) -> SlaTimer:
    """Start a timer of `kind` for a case; call it in the transaction of the case's transition,
    which holds the case's row, so that two starts of one kind cannot race."""
    at = _check_aware(at or now())
    if not 1 <= target_minutes <= 10**7:
        raise Invalid("timer.target", "时限须为正整数分钟", {"target_minutes": target_minutes})
    if not 1 <= risk_percent <= 100:
        raise Invalid("timer.risk_percent", "预警比例须在 1 至 100 之间", {"risk_percent": risk_percent})
    if not case_type or len(case_type) > 32 or not kind or len(kind) > 32:
        raise Invalid("timer.kind", "计时器的业务类型和种类须为 1 至 32 个字符", {"case_type": case_type, "kind": kind})
    actions = sorted({BreachAction(action) for action in on_breach})
    if await open_timer(case_type, case_id, kind) is not None:
        raise Conflict(
            "timer.already_running",
            "该事项的同类计时已在进行中",
            {"case_type": case_type, "case_id": case_id, "kind": kind},
        )
    timer = SlaTimer(
        case_type=case_type,
        case_id=case_id,
        kind=kind,
        calendar=calendar,
        org_id=org_id,
        target_minutes=target_minutes,
        risk_percent=risk_percent,
        on_breach=[action.value for action in actions],
        status=TimerStatus.RUNNING,
        started_at=at,
        segment_started_at=at,
    )
    _plan_segment(timer, await load_calendar(calendar, org_id), at)
    await timer.save()
    return timer


async def _locked(timer_id: int) -> SlaTimer:
    timer = await SlaTimer.filter(id=timer_id).select_for_update().first()
    if timer is None:
        raise NotFound("timer.not_found", "计时器不存在", {"timer_id": timer_id})
    return timer


def _refuse(timer: SlaTimer, action: str) -> Conflict:
    return Conflict(
        "timer.wrong_status",
        "计时器当前状态不允许此操作",
        {"timer_id": timer.id, "status": timer.status.value, "action": action},
    )


async def pause_timer(timer_id: int, *, at: datetime | None = None) -> SlaTimer:
    """Stop the clock (waiting for the worker, say): the time until `resume_timer` does not count."""
    at = _check_aware(at or now())
    async with in_transaction():
        timer = await _locked(timer_id)
        if timer.status != TimerStatus.RUNNING:
            raise _refuse(timer, "pause")
        _close_segment(timer, await load_calendar(timer.calendar, timer.org_id), at)
        timer.status, timer.paused_at = TimerStatus.PAUSED, at
        timer.next_check_at = _next_check(timer)
        await timer.save()
    return timer


async def resume_timer(timer_id: int, *, at: datetime | None = None) -> SlaTimer:
    at = _check_aware(at or now())
    async with in_transaction():
        timer = await _locked(timer_id)
        if timer.status != TimerStatus.PAUSED:
            raise _refuse(timer, "resume")
        timer.status, timer.paused_at, timer.segment_started_at = TimerStatus.RUNNING, None, at
        _plan_segment(timer, await load_calendar(timer.calendar, timer.org_id), at)
        await timer.save()
    return timer


async def _end(timer_id: int, status: TimerStatus, at: datetime | None) -> SlaTimer:
    at = _check_aware(at or now())
    async with in_transaction():
        timer = await _locked(timer_id)
        if timer.status in ENDED:
            raise _refuse(timer, status.value)
        _close_segment(timer, await load_calendar(timer.calendar, timer.org_id), at)
        timer.status, timer.ended_at, timer.paused_at = status, at, None
        timer.next_check_at = None
        await timer.save()
    return timer


async def meet_timer(timer_id: int, *, at: datetime | None = None) -> SlaTimer:
    """The target was met (the first answer given, the request resolved), late or not."""
    return await _end(timer_id, TimerStatus.MET, at)


async def stop_timer(timer_id: int, *, at: datetime | None = None) -> SlaTimer:
    """The case no longer needs the timer (withdrawn, transferred and restarted elsewhere)."""
    return await _end(timer_id, TimerStatus.STOPPED, at)


async def retry_timer(timer_id: int) -> SlaTimer:
    """Take a set-aside timer back: its pending alert fires at the next sweep."""
    async with in_transaction():
        timer = await _locked(timer_id)
        if timer.error is None:
            raise Conflict("timer.not_set_aside", "该计时器没有待处理的错误", {"timer_id": timer.id})
        timer.error = timer.error_at = None
        timer.next_check_at = _next_check(timer)
        await timer.save()
    return timer


async def replan_timers(day: date, org_id: int | None) -> int:
    """Running working-day timers whose open segment reaches `day`, in the union's subtree (or
    anywhere, for a nationwide change), get their risk and due instants again on the calendar as
    it now stands: an override entered while they run moves their deadlines. Returns how many."""
    start = datetime.combine(day, time.min, SHANGHAI)
    query = SlaTimer.filter(
        status=TimerStatus.RUNNING,
        calendar=CalendarKind.WORKDAYS,
        segment_started_at__lt=start + timedelta(days=1),
        due_at__gte=start,
    )
    if org_id is not None:
        query = in_subtree(query, org_id)
    timers = await query.select_for_update()
    calendars = await WorkdayCalendar.load_many({timer.org_id for timer in timers})
    for timer in timers:
        assert timer.segment_started_at is not None  # running
        _plan_segment(timer, calendars[timer.org_id], timer.segment_started_at)
        await timer.save(update_fields=["risk_at", "due_at", "estimated", "next_check_at", "updated_at"])
    return len(timers)


on_override_change(replan_timers)


# --- the sweep --------------------------------------------------------------------------------


async def _alert(timer: SlaTimer, at: datetime) -> SweepResult:
    # A paused timer's due instant is moot unless it came before the pause.
    horizon = min(at, timer.paused_at) if timer.status == TimerStatus.PAUSED and timer.paused_at else at
    breach = timer.due_at is not None and timer.due_at <= horizon and timer.breach_alerted_at is None
    kind = AlertKind.BREACHED if breach else AlertKind.AT_RISK
    marks = (timer.at_risk_alerted_at, timer.breach_alerted_at)
    # A breach found late says all an at-risk alert would: it is marked, not sent.
    timer.at_risk_alerted_at = timer.at_risk_alerted_at or at
    if breach:
        timer.breach_alerted_at = at
    actions = frozenset(BreachAction(action) for action in timer.on_breach)
    error = None
    try:
        # A savepoint: a handler that fails leaves nothing behind but the error on its timer.
        async with in_transaction():
            handler = _handlers.get(timer.case_type)
            if handler is None:
                raise LookupError(f"no breach handler registered for case type {timer.case_type!r}")
            parent_org_id = None
            if timer.org_id is not None:
                org = await Org.get_or_none(id=timer.org_id)
                parent_org_id = org.parent_id if org else None
            await handler(TimerAlert(timer=timer, kind=kind, at=at, actions=actions, parent_org_id=parent_org_id))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:_ERROR_LENGTH]
        timer.at_risk_alerted_at, timer.breach_alerted_at = marks
        timer.error, timer.error_at = error, at
    timer.next_check_at = _next_check(timer)
    await timer.save(
        update_fields=["at_risk_alerted_at", "breach_alerted_at", "error", "error_at", "next_check_at", "updated_at"]
    )
    return SweepResult(
        timer_id=timer.id, case_type=timer.case_type, case_id=timer.case_id, kind=timer.kind, alert=kind, error=error
    )


async def sweep_timers(at: datetime, *, limit: int = SWEEP_BATCH) -> list[SweepResult]:
    """Alert the timers whose risk or due instant has come by `at` and is not yet alerted, up
    to `limit` of them, in one transaction; the job runner calls it again while it finds work.
    Timers that another sweeper holds are skipped, not waited for."""
    _check_aware(at)
    results: list[SweepResult] = []
    async with in_transaction():
        # Whole rows: Tortoise 1.1.9 drops FOR UPDATE from values queries.
        claimed = (
            await SlaTimer.filter(next_check_at__lte=at)
            .order_by("next_check_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        for timer in claimed:
            results.append(await _alert(timer, at))
    return results
