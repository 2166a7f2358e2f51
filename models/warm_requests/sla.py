"""Deadlines a union can trust: each request runs two kernel timers (first response and
resolution) on the policy of its union, the nearest one up the tree, else its type's defaults.
A breach escalates the request to the parent union's queue."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.errors import Invalid
from models.kernel.calendar import CalendarKind
from models.kernel.timers import (
    BreachAction,
    SlaState,
    TimerFacts,
    TimerStatus,
    live_timers,
    meet_timer,
    open_timer,
    pause_timer,
    resume_timer,
    start_timer,
    stop_timer,
    timer_facts,
    timer_states,
)
from models.orgs import ancestors
from models.prepared import Prepared
from models.scope import StaffScope
from models.warm_requests.catalogue import REQUEST_TYPES, request_type
from models.warm_requests.tables import OPEN, SlaPolicy, WarmRequest

CASE_TYPE = "warm_request"
FIRST_RESPONSE, RESOLUTION = "first_response", "resolution"
MAX_TARGET_MINUTES = 365 * 24 * 60


@dataclass(frozen=True)
class Targets:
    request_type: str
    calendar: CalendarKind
    first_response_minutes: int
    resolution_minutes: int
    source_org_id: int | None  # the union whose policy it is; None: the type's defaults


_POLICIES_OF_CHAIN: Prepared[list[SlaPolicy]] = Prepared(lambda chain: SlaPolicy.filter(org_id__in=chain))


async def _targets(org_id: int, codes: Iterable[str]) -> list[Targets]:
    """For each request type, the policy of the nearest union up the tree, else the type's
    defaults: two statements whatever the number of types."""
    chain = [org.id for org in reversed(await ancestors(org_id))]
    policies = {(p.org_id, p.request_type): p for p in await _POLICIES_OF_CHAIN(chain)}
    found = []
    for code in codes:
        nearest = next((org for org in chain if (org, code) in policies), None)
        if nearest is not None:
            policy = policies[nearest, code]
            found.append(
                Targets(code, policy.calendar, policy.first_response_minutes, policy.resolution_minutes, nearest)
            )
        else:
            kind = request_type(code)
            found.append(Targets(code, kind.calendar, kind.first_response_minutes, kind.resolution_minutes, None))
    return found


async def targets_for(org_id: int, code: str) -> Targets:
    """The policy of the nearest union up the tree, else the request type's defaults."""
    (targets,) = await _targets(org_id, [code])
    return targets


async def effective_policies(scope: StaffScope, org_id: int) -> list[Targets]:
    await scope.require(org_id)
    return await _targets(org_id, REQUEST_TYPES)


async def set_policy(
    scope: StaffScope,
    *,
    org_id: int,
    code: str,
    calendar: CalendarKind,
    first_response_minutes: int,
    resolution_minutes: int,
    actor: Actor,
) -> Targets:
    """Set a union's own targets for a request type; answers the targets now in force there,
    which are these (a union's own policy is the nearest up its tree)."""
    await scope.require(org_id)
    request_type(code)
    if not 1 <= first_response_minutes <= resolution_minutes <= MAX_TARGET_MINUTES:
        raise Invalid("sla.targets", "时限须为正数，且首次响应时限不超过办结时限", {"field": "first_response_minutes"})
    # The change and its audit entry commit or fail together; the old values are read under lock so
    # that two admins saving at once each audit what they replaced.
    async with in_transaction():
        policy = await SlaPolicy.filter(org_id=org_id, request_type=code).select_for_update().first()
        replaced = (
            {
                "calendar": policy.calendar.value,
                "first": policy.first_response_minutes,
                "resolution": policy.resolution_minutes,
            }
            if policy is not None
            else None
        )
        values = {
            "calendar": calendar,
            "first_response_minutes": first_response_minutes,
            "resolution_minutes": resolution_minutes,
        }
        if policy is not None:  # already locked: saved in place, one statement
            await policy.update_from_dict(values).save()
        else:  # the first policy of this union and type; another admin may be creating it too
            policy, _ = await SlaPolicy.update_or_create(defaults=values, org_id=org_id, request_type=code)
        await record(
            actor,
            "sla.policy_set",
            object_type="sla_policy",
            object_id=policy.id,
            org_id=org_id,
            before=replaced,
            after={
                "request_type": code,
                "calendar": calendar.value,
                "first": first_response_minutes,
                "resolution": resolution_minutes,
            },
        )
    return Targets(code, calendar, first_response_minutes, resolution_minutes, org_id)


async def start_clocks(
    request: WarmRequest, at: datetime, kinds: tuple[str, ...] = (FIRST_RESPONSE, RESOLUTION)
) -> None:
    """Start the request's clocks on its union's policy (a reopened request: its resolution clock)."""
    targets = await targets_for(request.org_id, request.request_type)
    minutes = {FIRST_RESPONSE: targets.first_response_minutes, RESOLUTION: targets.resolution_minutes}
    for kind in kinds:
        await start_timer(
            case_type=CASE_TYPE,
            case_id=request.id,
            kind=kind,
            target_minutes=minutes[kind],
            org_id=request.org_id,
            calendar=targets.calendar,
            on_breach=(BreachAction.NOTIFY, BreachAction.ESCALATE),
            at=at,
        )


async def answered(request: WarmRequest, at: datetime) -> None:
    """The union answered: the first response is met, and a paused resolution clock runs again."""
    if (first := await open_timer(CASE_TYPE, request.id, FIRST_RESPONSE)) is not None:
        await meet_timer(first.id, at=at)
    await resume(request, at)


async def waiting_for_worker(request: WarmRequest, at: datetime) -> None:
    await answered(request, at)
    resolution = await open_timer(CASE_TYPE, request.id, RESOLUTION)
    if resolution is not None and resolution.status == TimerStatus.RUNNING:
        await pause_timer(resolution.id, at=at)


async def resume(request: WarmRequest, at: datetime) -> None:
    resolution = await open_timer(CASE_TYPE, request.id, RESOLUTION)
    if resolution is not None and resolution.status == TimerStatus.PAUSED:
        await resume_timer(resolution.id, at=at)


async def finished(request: WarmRequest, at: datetime, *, met: bool) -> None:
    for kind in (FIRST_RESPONSE, RESOLUTION):
        if (timer := await open_timer(CASE_TYPE, request.id, kind)) is not None:
            await (meet_timer if met else stop_timer)(timer.id, at=at)


@dataclass(frozen=True)
class SlaView:
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    state: str


# The one state a request shows: the worst of its open timers.
_WORST_FIRST = (SlaState.BREACHED, SlaState.PAUSED, SlaState.AT_RISK, SlaState.ON_TRACK)


async def sla_views(request_ids: list[int], at: datetime) -> dict[int, SlaView]:
    timers = await timer_facts(CASE_TYPE, request_ids)
    states = {state.timer_id: state for state in await timer_states(timers, at)}
    by_request: dict[int, list[TimerFacts]] = {request_id: [] for request_id in request_ids}
    for timer in timers:
        by_request[timer.case_id].append(timer)
    views = {}
    for request_id, own in by_request.items():
        latest = {timer.kind: states[timer.id] for timer in own}  # the newest timer of each kind
        open_states = {s.state for s in latest.values() if s.status in (TimerStatus.RUNNING, TimerStatus.PAUSED)}
        breached_ever = any(s.breached for s in latest.values())
        state = next((s.value for s in _WORST_FIRST if s in open_states), "breached" if breached_ever else "met")
        first, resolution = latest.get(FIRST_RESPONSE), latest.get(RESOLUTION)
        views[request_id] = SlaView(first.due_at if first else None, resolution.due_at if resolution else None, state)
    return views


def filter_by_sla(query: QuerySet[WarmRequest], state: str, at: datetime) -> QuerySet[WarmRequest]:
    """Requests whose SLA state at `at` is `state`, decided in the database (one subquery each)."""
    ids = {name: live_timers(CASE_TYPE, SlaState(name), at) for name in ("breached", "paused", "at_risk")}
    query = query.filter(status__in=list(OPEN))
    excluded = {
        "breached": [],
        "paused": ["breached"],
        "at_risk": ["breached", "paused"],
        "on_track": ["breached", "paused", "at_risk"],
    }
    if state in ids:
        query = query.filter(id__in=Subquery(ids[state].values("case_id")))
    for other in excluded[state]:
        query = query.exclude(id__in=Subquery(ids[other].values("case_id")))
    return query
