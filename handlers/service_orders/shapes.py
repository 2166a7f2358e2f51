"""What a service order looks like over the API, to its enterprise, its expert and caseworkers."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from handlers.service_orders.report_shapes import ReportFigures
from models.catalogue import EXPERT_TITLES, INDUSTRIES, ORDER_CATEGORIES, SKILLS, VISIT_PLACES
from models.enterprises.tables import Enterprise
from models.experts.tables import Expert
from models.kernel.history import CaseEvent
from models.orgs import org_names
from models.service_orders.deadline import DeadlineView, deadline_views
from models.service_orders.machine import ACTION_LABELS, AWAITING_REPORT
from models.service_orders.matching import Candidate
from models.service_orders.queries import pending_offer, report_items_count, timeline, visits_of
from models.service_orders.report.summary import report_summary
from models.service_orders.tables import ORDER_STATUS_LABELS, OrderStatus, ServiceOrder, Visit
from server.http import LocalTime, Shape


class Ref(Shape):
    id: int
    name: str


class Coded(Shape):
    code: str
    label: str


Day = date  # the field below is named `date`, which would hide the type inside the class


class DeadlineOut(Shape):
    date: Day | None = Field(description="企业要求的截止日期（如验厂日期）")
    due_at: LocalTime | None = Field(description="截止时刻：截止日期当天结束（次日 0 点，北京时间）")
    state: str = Field(description="on_track | at_risk | breached | met | late | stopped | none")
    label: str


class OrderOut(Shape):
    id: int
    category: str
    category_label: str
    title: str
    status: OrderStatus
    status_label: str
    enterprise: Ref
    org: Ref
    deadline: DeadlineOut
    expert: Ref | None = Field(description="接单的专家（接单后才有）")
    created_at: LocalTime
    waiting_minutes: int | None = Field(description="下单至今的分钟数；已交付、已取消等不再等待的为 null")


class OrderPage(Shape):
    items: list[OrderOut]
    total: int


class AssignmentOut(OrderOut):
    respond_by: LocalTime | None = Field(description="待答复的邀请须在此前答复；已接单的为 null")
    description: str
    enterprise_address: str


class AssignmentPage(Shape):
    items: list[AssignmentOut]
    total: int


class OrderTimelineItem(Shape):
    # Not `TimelineItem`: OpenAPI names components by class, and warm requests publish one.
    at: LocalTime
    action: str
    action_label: str
    actor: str = Field(description="enterprise | expert | union | system")
    note: str
    from_status: str
    to_status: str


class VisitOut(Shape):
    id: int
    visited_at: LocalTime
    places: list[Coded]
    summary: str


class OrderExpertOut(Shape):
    # Not `ExpertOut`: OpenAPI names components by class, and the roster's `ExpertOut` is another shape.
    id: int
    name: str
    titles: list[Coded]
    years: int
    bio: str


class OfferOut(Shape):
    expert: Ref
    respond_by: LocalTime | None


class ReasonIn(Shape):
    """Why an order is declined or cancelled, by the enterprise, the expert or the union."""

    reason: str = Field(min_length=1, max_length=500)


class Needs(Shape):
    industries: list[Coded]
    skills: list[Coded]


class OrderDetail(OrderOut):
    description: str
    needs: Needs
    expert_profile: OrderExpertOut | None = Field(description="接单专家的简介（接单后才有）")
    offer: OfferOut | None = Field(description="等待专家答复的派单（仅工作人员可见）")
    visits: list[VisitOut]
    report_items_count: int = Field(description="整改报告的条目数")
    report: ReportFigures | None = Field(
        description="整改报告的汇总（按区域、按部门、合计；交付后才有），全文见 GET /api/v1/service-orders/{id}/report"
    )
    outcome: str
    outcome_note: str
    cancel_reason: str
    delivered_at: LocalTime | None
    confirmed_at: LocalTime | None
    timeline: list[OrderTimelineItem]


class ReasonOut(Shape):
    code: str
    label: str
    points: int


class CandidateOut(Shape):
    expert_id: int
    name: str
    titles: list[Coded]
    score: int
    reasons: list[ReasonOut]
    warnings: list[Coded]
    active_orders: int
    max_active_orders: int
    rating: float | None
    rating_count: int
    full: bool = Field(description="在办订单已满：排在最后，不能派单")
    bound: bool = Field(description="已绑定微信，能接单")


class CandidatePage(Shape):
    items: list[CandidateOut]
    total: int


ACTOR_NAMES = {"contact": "enterprise", "expert": "expert", "staff": "union"}


def _coded(codes: list[str], labels: dict[str, str]) -> list[Coded]:
    return [Coded(code=code, label=labels.get(code, code)) for code in codes]


def _deadline(order: ServiceOrder, view: DeadlineView) -> DeadlineOut:
    return DeadlineOut(date=order.deadline, due_at=view.due_at, state=view.state, label=view.label)


async def orders_out(orders: list[ServiceOrder], at: datetime) -> list[OrderOut]:
    """Many orders in a fixed number of queries (none for none)."""
    if not orders:
        return []
    enterprises = dict(
        await Enterprise.filter(id__in=list({o.enterprise_id for o in orders})).values_list("id", "name")
    )
    orgs = await org_names({o.org_id for o in orders})
    experts = dict(
        await Expert.filter(id__in=list({o.expert_id for o in orders if o.expert_id})).values_list("id", "name")
    )
    views = await deadline_views([o.id for o in orders], at)
    return [
        OrderOut(
            id=o.id,
            category=o.category,
            category_label=ORDER_CATEGORIES.get(o.category, o.category),
            title=o.title,
            status=o.status,
            status_label=ORDER_STATUS_LABELS[o.status],
            enterprise=Ref(id=o.enterprise_id, name=enterprises[o.enterprise_id]),
            org=Ref(id=o.org_id, name=orgs[o.org_id]),
            deadline=_deadline(o, views[o.id]),
            expert=Ref(id=o.expert_id, name=experts[o.expert_id]) if o.expert_id else None,
            created_at=o.created_at,
            waiting_minutes=int((at - o.created_at).total_seconds() // 60) if o.status in AWAITING_REPORT else None,
        )
        for o in orders
    ]


# Why an expert said no (or that they did not answer) is between the expert and the union: the
# enterprise and other experts see that it happened, not the reason.
STAFF_ONLY_NOTES = frozenset({"decline", "offer_expired"})


def _event(event: CaseEvent, for_staff: bool) -> OrderTimelineItem:
    return OrderTimelineItem(
        at=event.created_at,
        action=event.action,
        action_label=ACTION_LABELS.get(event.action, event.action),
        actor=ACTOR_NAMES.get(event.actor_kind, "system"),
        note=event.note if for_staff or event.action not in STAFF_ONLY_NOTES else "",
        from_status=event.from_status,
        to_status=event.to_status,
    )


def visit_out(visit: Visit) -> VisitOut:
    return VisitOut(
        id=visit.id, visited_at=visit.visited_at, places=_coded(visit.places, VISIT_PLACES), summary=visit.summary
    )


async def order_detail(order: ServiceOrder, at: datetime, *, for_staff: bool = False) -> OrderDetail:
    (summary,) = await orders_out([order], at)
    expert = await Expert.get_or_none(id=order.expert_id) if order.expert_id else None
    offer = None
    if for_staff and (pending := await pending_offer(order.id)) is not None:
        offer = OfferOut(expert=Ref(id=pending.assignee_id, name=pending.assignee_name), respond_by=pending.respond_by)
    return OrderDetail(
        **summary.model_dump(),
        description=order.description,
        needs=Needs(
            industries=_coded(order.needs.get("industries", []), INDUSTRIES),
            skills=_coded(order.needs.get("skills", []), SKILLS),
        ),
        expert_profile=OrderExpertOut(
            id=expert.id,
            name=expert.name,
            titles=_coded(expert.titles, EXPERT_TITLES),
            years=expert.years,
            bio=expert.bio,
        )
        if expert
        else None,
        offer=offer,
        visits=[visit_out(v) for v in await visits_of(order.id)],
        report_items_count=await report_items_count(order.id),
        report=ReportFigures(**await report_summary(order.id)) if order.delivered_at is not None else None,
        outcome=order.outcome,
        outcome_note=order.outcome_note,
        cancel_reason=order.cancel_reason,
        delivered_at=order.delivered_at,
        confirmed_at=order.confirmed_at,
        timeline=[_event(e, for_staff) for e in await timeline(order.id)],
    )


async def assignments_out(
    orders: list[ServiceOrder], respond_by: dict[int, datetime | None], at: datetime
) -> list[AssignmentOut]:
    addresses = dict(
        await Enterprise.filter(id__in=list({o.enterprise_id for o in orders})).values_list("id", "address")
    )
    summaries = await orders_out(orders, at)
    return [
        AssignmentOut(
            **summary.model_dump(),
            respond_by=respond_by.get(order.id),
            description=order.description,
            enterprise_address=addresses[order.enterprise_id],
        )
        for summary, order in zip(summaries, orders, strict=True)
    ]


def candidate_out(candidate: Candidate) -> CandidateOut:
    return CandidateOut(
        expert_id=candidate.expert_id,
        name=candidate.name,
        titles=_coded(candidate.titles, EXPERT_TITLES),
        score=candidate.score,
        reasons=[ReasonOut(code=r.code, label=r.label, points=r.points) for r in candidate.reasons],
        warnings=[Coded(code=w.code, label=w.label) for w in candidate.warnings],
        active_orders=candidate.active_orders,
        max_active_orders=candidate.max_active_orders,
        rating=candidate.rating,
        rating_count=candidate.rating_count,
        full=candidate.full,
        bound=candidate.bound,
    )
