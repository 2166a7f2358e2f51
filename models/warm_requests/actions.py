"""What workers and caseworkers do to a request. Every step goes through the kernel's transition
(locked, checked, in the history, audited for staff), and moves the request's SLA clocks in the
same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models.accounts import StaffAccount
from models.audit import Actor
from models.errors import Invalid, NotFound
from models.kernel import assignment
from models.kernel.machine import Effects, Step, begin, transition
from models.kernel.ratings import Rating, Served, rate
from models.kernel.timers import BreachAction, TimerAlert, register_breach_handler
from models.notifications.staff_alerts import alert_union
from models.orgs import Org, is_within
from models.scope import StaffScope, WorkerScope
from models.warm_requests import sla
from models.warm_requests.catalogue import check_fields, request_type
from models.warm_requests.machine import MACHINE
from models.warm_requests.notices import notice
from models.warm_requests.routing import responsible_union
from models.warm_requests.tables import OPEN, RequestStatus, WarmMessage, WarmRequest
from server.clock import now

REOPEN_DAYS = 7
SYSTEM = Actor("system", None, "sla")
BREACH_ALERT = "warm_request.breached"


def _not_found(request_id: int) -> NotFound:
    return NotFound("warm_request.not_found", "求助不存在", {"id": request_id})


# --- the worker's side ---------------------------------------------------------------------


async def submit(
    user_id: int,
    code: str,
    description: str,
    values: dict[str, Any],
    location: tuple[float, float] | None,
    chosen_org_id: int | None,
    actor: Actor,
) -> WarmRequest:
    kind = request_type(code)
    clean = check_fields(kind, values)
    description = description.strip()
    if not description:
        raise Invalid("warm_request.description", "请简要说明您需要什么帮助", {"field": "description"})
    org = await responsible_union(user_id, chosen_org_id, location)
    async with in_transaction():
        request = await WarmRequest.create(
            user_id=user_id,
            org_id=org.id,
            request_type=kind.code,
            description=description[:2000],
            values=clean,
            lat=location[0] if location else None,
            lng=location[1] if location else None,
            created_at=now(),
        )

        async def start(case: WarmRequest, step: Step) -> None:
            await sla.start_clocks(case, step.at)
            await notice(case, step)

        await begin(MACHINE, request, "submit", actor, effects=start)
    return request


async def worker_message(user_id: int, request_id: int, content: str, actor: Actor) -> WarmRequest:
    """The worker writes to the union; an answer to a request for information restarts the clock."""
    content = _text(content, "content")
    current = await WorkerScope(user_id).get(WarmRequest.all(), id=request_id)
    action = "worker_answers" if current.status == RequestStatus.WAITING_WORKER else "worker_reply"

    async def write(request: WarmRequest, step: Step) -> None:
        await _message(request, step, content)
        if action == "worker_answers":
            await sla.resume(request, step.at)

    return await _move(WorkerScope(user_id), request_id, action, actor, write)


async def withdraw(user_id: int, request_id: int, actor: Actor) -> WarmRequest:
    async def stop(request: WarmRequest, step: Step) -> None:
        await sla.finished(request, step.at, met=False)

    return await _move(WorkerScope(user_id), request_id, "withdraw", actor, stop)


def may_reopen(resolved_at: datetime | None, at: datetime) -> bool:
    """A resolved request may be reopened at `at` for `REOPEN_DAYS` days after it was resolved."""
    return resolved_at is not None and at - resolved_at <= timedelta(days=REOPEN_DAYS)


async def reopen(user_id: int, request_id: int, reason: str, actor: Actor) -> WarmRequest:
    reason = _text(reason, "reason")

    async def again(request: WarmRequest, step: Step) -> None:
        if not may_reopen(request.resolved_at, step.at):
            raise Invalid("warm_request.reopen_expired", f"办结超过 {REOPEN_DAYS} 天的求助不能重新打开，请提交新的求助")
        await _message(request, step, reason)
        await sla.start_clocks(request, step.at, (sla.RESOLUTION,))

    return await _move(WorkerScope(user_id), request_id, "reopen", actor, again, note=reason)


async def rate_request(user_id: int, request_id: int, score: int, comment: str, actor: Actor) -> Rating:
    rated: list[Rating] = []

    async def keep(request: WarmRequest, step: Step) -> None:
        rated.append(
            await rate(
                case_type=MACHINE.case_type,
                case_id=request.id,
                rater_user_id=user_id,
                service_kind=MACHINE.case_type,
                served=Served("staff", request.assignee_id),
                org_id=request.org_id,
                score=score,
                comment=comment,
                tags=[],
                at=step.at,
            )
        )
        step.data["score"] = score

    await _move(WorkerScope(user_id), request_id, "rate", actor, keep)
    return rated[0]


# --- the caseworker's side -----------------------------------------------------------------


async def assign(
    scope: StaffScope, request_id: int, staff_id: int, actor: Actor, *, rotate: bool = False
) -> WarmRequest:
    """To a colleague, to oneself (a claim), or to the next of the union's team in turn."""
    current = await scope.get(WarmRequest.all(), id=request_id)
    if rotate:
        staff = await assignment.next_in_rotation(current.org_id)
    else:
        found = await StaffAccount.get_or_none(id=staff_id)
        if found is None:
            raise NotFound("staff.not_found", "工作人员不存在", {"staff_id": staff_id})
        if not (found.is_active and await is_within(found.org_id, current.org_id)):
            raise Invalid("warm_request.assignee", "只能分派给负责该工会的在岗工作人员", {"field": "staff_id"})
        staff = found
    action = "assign" if current.status == RequestStatus.SUBMITTED else "reassign"

    async def hold(request: WarmRequest, step: Step) -> None:
        await assignment.assign(step, request.org_id, assignment.staff_person(staff))
        request.assignee_id = staff.id

    return await _move(scope, request_id, action, actor, hold)


async def reply(scope: StaffScope, request_id: int, content: str, actor: Actor) -> WarmRequest:
    content = _text(content, "content")

    async def answer(request: WarmRequest, step: Step) -> None:
        await _message(request, step, content)
        await sla.answered(request, step.at)
        await notice(request, step, content)

    return await _move(scope, request_id, "reply", actor, answer)


async def request_info(scope: StaffScope, request_id: int, content: str, actor: Actor) -> WarmRequest:
    content = _text(content, "content")

    async def ask(request: WarmRequest, step: Step) -> None:
        await _message(request, step, content, asks=True)
        await sla.waiting_for_worker(request, step.at)
        await notice(request, step, content)

    return await _move(scope, request_id, "request_info", actor, ask)


async def resolve(scope: StaffScope, request_id: int, resolution: str, actor: Actor) -> WarmRequest:
    resolution = _text(resolution, "resolution")

    async def close(request: WarmRequest, step: Step) -> None:
        request.resolution, request.resolved_at = resolution, step.at
        await sla.finished(request, step.at, met=True)
        await notice(request, step, resolution)

    return await _move(scope, request_id, "resolve", actor, close, note=resolution)


async def transfer(scope: StaffScope, request_id: int, org_id: int, actor: Actor) -> WarmRequest:
    """To another union of the caseworker's subtree, or up to the parent of the request's union."""
    current = await scope.get(WarmRequest.all(), id=request_id)
    target = await Org.get_or_none(id=org_id)
    parent = (await Org.get(id=current.org_id)).parent_id
    if target is None or not (org_id == parent or await scope.contains(org_id)):
        raise NotFound("org.not_found", "该工会组织不存在或不在您的管辖范围内", {"org_id": org_id})
    if org_id == current.org_id:
        raise Invalid("warm_request.same_org", "该求助已在此工会", {"field": "org_id"})
    return await _move(scope, request_id, "transfer", actor, _hand_over(target, current.org_id))


async def escalate(scope: StaffScope, request_id: int, reason: str, actor: Actor) -> WarmRequest:
    reason = _text(reason, "reason")
    current = await scope.get(WarmRequest.all(), id=request_id)
    parent = await _parent(current.org_id)
    return await _move(scope, request_id, "escalate", actor, _hand_over(parent, current.org_id), note=reason)


async def escalate_by_system(request_id: int, parent_org_id: int, note: str) -> None:
    """A breached timer's escalation: the request moves to the parent union's queue, and both
    unions (and whoever held it) are told on their desk, since staff have no WeChat inbox."""
    parent = await Org.get(id=parent_org_id)
    current = await WarmRequest.get(id=request_id)
    if current.status not in OPEN:
        return
    hand_over = _hand_over(parent, current.org_id)

    async def move_and_tell(request: WarmRequest, step: Step) -> None:
        left, holder = request.org_id, request.assignee_id
        await hand_over(request, step)
        kind = request_type(request.request_type).label
        title = f"{kind}求助 #{request.id} 超时，已上报{parent.name}"
        for org_id, staff_id in ((left, holder), (parent.id, None)):
            await alert_union(org_id, BREACH_ALERT, MACHINE.case_type, request.id, title, note, step.at, staff_id)

    await transition(
        MACHINE,
        WarmRequest.filter(id=request_id),
        "escalate",
        SYSTEM,
        not_found=_not_found(request_id),
        note=note,
        effects=move_and_tell,
    )


async def on_timer_alert(alert: TimerAlert) -> None:
    """A breach escalates the request to the parent union's queue (its history says why); an
    at-risk alert shows on the queue and moves nothing."""
    if alert.kind.value != "breached" or BreachAction.ESCALATE not in alert.actions or alert.parent_org_id is None:
        return
    what = "首次响应" if alert.timer.kind == sla.FIRST_RESPONSE else "办结"
    await escalate_by_system(alert.timer.case_id, alert.parent_org_id, f"{what}超时，已上报上级工会")


register_breach_handler(MACHINE.case_type, on_timer_alert)


# --- shared --------------------------------------------------------------------------------


def _hand_over(target: Org, from_org_id: int) -> Effects:
    async def move_queue(request: WarmRequest, step: Step) -> None:
        request.org_id, request.assignee_id = target.id, None
        step.data.update(from_org_id=from_org_id, to_org_id=target.id, to_org=target.name)
        await notice(request, step)

    return move_queue


async def _parent(org_id: int) -> Org:
    org = await Org.get(id=org_id)
    parent = await Org.get_or_none(id=org.parent_id) if org.parent_id else None
    if parent is None:
        raise Invalid("warm_request.no_parent", "该工会已是最上级，无法再上报")
    return parent


async def _move(
    scope: StaffScope | WorkerScope, request_id: int, action: str, actor: Actor, effects: Effects, note: str = ""
) -> WarmRequest:
    return await transition(
        MACHINE,
        scope.restrict(WarmRequest.filter(id=request_id)),
        action,
        actor,
        not_found=_not_found(request_id),
        note=note,
        effects=effects,
    )


async def _message(request: WarmRequest, step: Step, content: str, *, asks: bool = False) -> WarmMessage:
    return await WarmMessage.create(
        request_id=request.id,
        org_id=request.org_id,
        author_kind=step.actor.kind,
        author_name=step.actor.name if step.actor.kind == "staff" else "",
        content=content,
        asks_for_information=asks,
        created_at=step.at,
    )


def _text(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid("warm_request.empty", "内容不能为空", {"field": field})
    return value[:2000]
