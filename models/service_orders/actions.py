"""What contacts, experts and caseworkers do to a service order. Every step goes through the
kernel's transition (locked, checked against the table, in the history, audited for staff),
and moves the deadline timer, the offer and the notices in the same transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from tortoise.transactions import in_transaction

from models.audit import Actor
from models.catalogue import INDUSTRIES, ORDER_CATEGORIES, SKILLS, VISIT_PLACES, check_codes
from models.enterprises.actions import require_verified
from models.enterprises.queries import contact_scope
from models.enterprises.tables import Enterprise
from models.errors import Conflict, Invalid, NotFound
from models.experts.tables import Expert
from models.kernel import assignment
from models.kernel.assignment import AssigneeKind, ExpertScope, Person
from models.kernel.machine import Effects, Step, advance, begin, transition
from models.kernel.ratings import Rating, Served, rate
from models.kernel.timers import TimerAlert, register_breach_handler
from models.scope import ContactScope, Scope, StaffScope
from models.service_orders import deadline, notices
from models.service_orders.machine import CONTACT, EXPERT, MACHINE
from models.service_orders.matching import active_loads, may_serve, order_facts
from models.service_orders.tables import CASE_TYPE, OrderStatus, ReportItem, ServiceOrder, Visit
from server.clock import SHANGHAI, now

SYSTEM = Actor("system", None, "service_orders")
LONGEST_DEADLINE_DAYS = 730
# A visit written down a little ahead of the server's clock (or just before the order, by it) is a
# phone's clock, not a plan.
CLOCK_SKEW = timedelta(minutes=10)


def as_contact(actor: Actor) -> Actor:
    """The worker acting as a contact of the ordering enterprise."""
    return replace(actor, kind=CONTACT)


def as_expert(actor: Actor, expert: Expert) -> Actor:
    """The worker acting as the expert they are bound to."""
    return replace(actor, kind=EXPERT, name=expert.name[:64])


def _not_found(order_id: int) -> NotFound:
    return Scope.not_found({"id": order_id})


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise Invalid("service_order.empty", "内容不能为空", {"field": field})
    return value[:limit]


# --- the enterprise's side -----------------------------------------------------------------


async def place_order(
    user_id: int,
    *,
    enterprise_id: int,
    category: str,
    title: str,
    description: str,
    deadline_on: date,
    industries: list[str],
    skills: list[str],
    actor: Actor,
) -> ServiceOrder:
    """A contact orders help for their enterprise; the order goes to the enterprise's union."""
    at = now()
    enterprise = await (await contact_scope(user_id)).get(Enterprise.all(), id=enterprise_id)
    if category not in ORDER_CATEGORIES:
        raise Invalid("service_order.category", "请选择服务类别（见目录 order_categories）", {"field": "category"})
    title = _text(title, "title", 100)
    today = at.astimezone(SHANGHAI).date()
    if deadline_on < today:
        raise Invalid("service_order.deadline_past", "截止日期不能早于今天", {"field": "deadline"})
    if deadline_on > today + timedelta(days=LONGEST_DEADLINE_DAYS):
        raise Invalid("service_order.deadline_far", "截止日期不能超过两年之后", {"field": "deadline"})
    needs = {
        "industries": check_codes("industry", "行业", "needs.industries", industries, INDUSTRIES),
        "skills": check_codes("skill", "技能", "needs.skills", skills, SKILLS),
    }
    async with in_transaction():
        order = await ServiceOrder.create(
            enterprise_id=enterprise.id,
            org_id=enterprise.org_id,
            created_by_id=user_id,
            category=category,
            title=title,
            description=description.strip()[:4000],
            deadline=deadline_on,
            needs=needs,
            created_at=at,
        )

        async def start(case: ServiceOrder, step: Step) -> None:
            await deadline.start(case, step.at)
            await notices.tell(case, step)
            await notices.alert(case, "submit", step.at)

        await begin(MACHINE, order, "submit", as_contact(actor), effects=start)
    return order


async def cancel_by_contact(user_id: int, order_id: int, reason: str, actor: Actor) -> ServiceOrder:
    """Before work starts (the expert's first visit) the enterprise may call the order off."""
    reason = _text(reason, "reason", 500)
    return await _move(await contact_scope(user_id), order_id, "cancel", as_contact(actor), _cancel(reason), reason)


async def confirm(user_id: int, order_id: int, outcome: str, note: str, actor: Actor) -> ServiceOrder:
    outcome = _text(outcome, "outcome", 200)

    async def done(order: ServiceOrder, step: Step) -> None:
        order.outcome, order.outcome_note, order.confirmed_at = outcome, note.strip()[:2000], step.at
        step.data["outcome"] = outcome
        await notices.tell(order, step, expert=await _expert_of(order), note=outcome)

    return await _move(await contact_scope(user_id), order_id, "confirm", as_contact(actor), done, outcome)


async def rate_order(user_id: int, order_id: int, score: int, comment: str, actor: Actor) -> Rating:
    rated: list[Rating] = []

    async def keep(order: ServiceOrder, step: Step) -> None:
        rated.append(
            await rate(
                case_type=CASE_TYPE,
                case_id=order.id,
                rater_user_id=user_id,
                service_kind=CASE_TYPE,
                served=Served("expert", order.expert_id),
                org_id=order.org_id,
                score=score,
                comment=comment,
                tags=[],
                at=step.at,
            )
        )
        step.data["score"] = score
        await notices.tell(order, step, expert=await _expert_of(order), note=f"{score} 分")

    await _move(await contact_scope(user_id), order_id, "rate", as_contact(actor), keep)
    return rated[0]


# --- the expert's side ---------------------------------------------------------------------


def _person(expert: Expert) -> Person:
    return Person(AssigneeKind.EXPERT, expert.id, expert.name)


async def accept(expert: Expert, order_id: int, actor: Actor) -> ServiceOrder:
    async def take(order: ServiceOrder, step: Step) -> None:
        await assignment.accept(step, _person(expert))
        order.expert_id = expert.id
        await notices.tell(order, step, expert=expert)

    return await _move(ExpertScope(expert.id), order_id, "accept", as_expert(actor, expert), take)


async def decline(expert: Expert, order_id: int, reason: str, actor: Actor) -> ServiceOrder:
    """Back to matching; the union is told so that a caseworker offers it to someone else."""
    reason = _text(reason, "reason", 500)

    async def refuse(order: ServiceOrder, step: Step) -> None:
        await assignment.decline(step, _person(expert), reason)
        await notices.alert(order, "decline", step.at, expert_name=expert.name, note=reason)

    return await _move(ExpertScope(expert.id), order_id, "decline", as_expert(actor, expert), refuse, reason)


async def record_visit(
    expert: Expert, order_id: int, *, visited_at: datetime, places: list[str], summary: str, actor: Actor
) -> Visit:
    """The accepted expert records a visit; the first one starts the work (in progress)."""
    places = check_codes("place", "地点", "places", places, VISIT_PLACES)
    if not places:
        raise Invalid("service_order.places", "请选择到访的地点", {"field": "places"})
    summary = _text(summary, "summary", 4000)
    if visited_at > now() + CLOCK_SKEW:
        raise Invalid("service_order.visit_future", "到访时间不能晚于现在", {"field": "visited_at"})
    made: list[Visit] = []

    async def write(order: ServiceOrder, step: Step) -> None:
        made.append(
            await Visit.create(
                order_id=order.id,
                org_id=order.org_id,
                expert_id=expert.id,
                visited_at=visited_at,
                places=places,
                summary=summary,
            )
        )
        step.data["visit_id"] = made[0].id
        if step.action == "first_visit":
            await notices.tell(order, step, expert=expert)

    async with in_transaction():
        order = await ExpertScope(expert.id).restrict(ServiceOrder.filter(id=order_id)).select_for_update().first()
        if order is None:
            raise _not_found(order_id)
        if visited_at < order.created_at - CLOCK_SKEW:
            raise Invalid("service_order.visit_before_order", "到访时间不能早于下单时间", {"field": "visited_at"})
        # Which step this is depends on the state, read under the lock: two visits recorded at
        # once are one first visit and one more, not a first visit and a conflict.
        action = "first_visit" if order.status == OrderStatus.ACCEPTED else "visit"
        await advance(MACHINE, order, action, as_expert(actor, expert), effects=write)
    return made[0]


async def deliver(expert: Expert, order_id: int, actor: Actor) -> ServiceOrder:
    """The report is delivered: its items are fixed from now on and the deadline is met."""

    async def hand_over(order: ServiceOrder, step: Step) -> None:
        items = await ReportItem.filter(order_id=order.id).count()
        if not items:
            raise Conflict("service_order.report_empty", "整改报告还没有任何条目，不能交付", {"id": order.id})
        order.delivered_at = step.at
        step.data["report_items"] = items
        await deadline.finish(order, step.at, met=True)
        await notices.tell(order, step, expert=expert)

    return await _move(ExpertScope(expert.id), order_id, "deliver", as_expert(actor, expert), hand_over)


# --- the caseworker's side -----------------------------------------------------------------


async def assign_expert(
    scope: StaffScope, order_id: int, expert_id: int, actor: Actor, *, offer_hours: int
) -> ServiceOrder:
    """Offer the order to an expert, who answers within `offer_hours` of the offer (the setting
    `service_order_offer_hours`, passed in by the caller). The enterprise must be verified;
    the expert active, within the caseworker's subtree or serving the order's union, bound to
    WeChat (to be able to answer), and with a free place."""
    current = await scope.get(ServiceOrder.all(), id=order_id)
    expert = await Expert.get_or_none(id=expert_id)
    if expert is None or not await may_serve(scope, expert, await order_facts(current)):
        raise NotFound("expert.not_found", "专家不存在，或不服务该订单所在地区", {"expert_id": expert_id})

    async def offer(order: ServiceOrder, step: Step) -> None:
        require_verified(await Enterprise.get(id=order.enterprise_id))
        if expert.user_id is None:
            raise Conflict("service_order.expert_unbound", "该专家尚未绑定微信，无法接单", {"expert_id": expert.id})
        # The expert's row is locked so that two offers cannot both take their last free place.
        locked = await Expert.filter(id=expert.id).select_for_update().get()
        load = (await active_loads([expert.id])).get(expert.id, 0)
        if load >= locked.max_active_orders:
            raise Conflict(
                "service_order.expert_full",
                f"该专家在办订单已满（{load}/{locked.max_active_orders}）",
                {"expert_id": expert.id, "active_orders": load},
            )
        await assignment.offer(step, order.org_id, _person(expert), step.at + timedelta(hours=offer_hours))
        await notices.tell(order, step, expert=expert)

    return await _move(scope, order_id, "offer", actor, offer)


async def cancel_by_union(scope: StaffScope, order_id: int, reason: str, actor: Actor) -> ServiceOrder:
    reason = _text(reason, "reason", 500)
    return await _move(scope, order_id, "cancel_by_union", actor, _cancel(reason), reason)


# --- the job runner's side -----------------------------------------------------------------


async def on_offer_timeout(offered: assignment.Assignment, at: datetime) -> None:
    """An offer left unanswered at `at`: back to matching, and the union is told."""

    async def expire(order: ServiceOrder, step: Step) -> None:
        step.at = at  # the step happened when the offer ran out, whenever the job got to it
        await assignment.end_expired(step)
        await notices.alert(order, "offer_expired", at, expert_name=offered.assignee_name)
        await notices.tell(order, step, expert=await Expert.get_or_none(id=offered.assignee_id))

    await transition(
        MACHINE,
        ServiceOrder.filter(id=offered.case_id),
        "offer_expired",
        SYSTEM,
        not_found=_not_found(offered.case_id),
        effects=expire,
    )


async def on_deadline_alert(alert: TimerAlert) -> None:
    """The deadline timer is at risk or passed: the union's desk shows it."""
    if alert.timer.kind != deadline.KIND:
        return
    order = await ServiceOrder.get(id=alert.timer.case_id)
    due = f"{order.deadline:%Y-%m-%d}" if order.deadline else ""
    await notices.alert(order, alert.kind.value, alert.at, note=due)


assignment.register_offer_timeout(CASE_TYPE, on_offer_timeout)
register_breach_handler(CASE_TYPE, on_deadline_alert)


# --- shared --------------------------------------------------------------------------------


async def _expert_of(order: ServiceOrder) -> Expert | None:
    """The expert who holds the order, or the one it is offered to."""
    if order.expert_id is not None:
        return await Expert.get_or_none(id=order.expert_id)
    live = await assignment.current(CASE_TYPE, order.id)
    return await Expert.get_or_none(id=live.assignee_id) if live is not None else None


def _cancel(reason: str) -> Effects:
    async def call_off(order: ServiceOrder, step: Step) -> None:
        expert = await _expert_of(order)
        order.cancel_reason = reason
        await assignment.withdraw_offer(step, "订单已取消")
        await deadline.finish(order, step.at, met=False)
        await notices.tell(order, step, expert=expert, note=reason)
        if step.action == "cancel":  # the union cancelling knows it already
            await notices.alert(order, "cancel", step.at, note=reason)

    return call_off


async def _move(
    scope: StaffScope | ContactScope | ExpertScope,
    order_id: int,
    action: str,
    actor: Actor,
    effects: Effects,
    note: str = "",
) -> ServiceOrder:
    return await transition(
        MACHINE,
        scope.restrict(ServiceOrder.filter(id=order_id)),
        action,
        actor,
        not_found=_not_found(order_id),
        note=note,
        effects=effects,
    )
