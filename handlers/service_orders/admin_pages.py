"""The service-order queue for caseworkers (status, search, deadline badges, waiting time) and an
order's page: its history, visits, and the matching panel with the candidates' reasons and
warnings, each assigned in one click; cancelling with a reason."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.desk.queues import SERVICE_ORDERS, after_action, case_again, neighbours
from handlers.pages import form_value, listing, optional_int, page_guard, reason_of, render, with_query
from models.catalogue import EXPERT_TITLES, INDUSTRIES, ORDER_CATEGORIES, SKILLS, VISIT_PLACES
from models.desk.saved_filters import saved_by
from models.enterprises.tables import ENTERPRISE_STATUS_LABELS, Enterprise
from models.errors import DomainError
from models.experts.tables import Expert
from models.kernel.history import names_for
from models.kernel.permissions import Permission
from models.orgs import Org, org_names
from models.service_orders import actions
from models.service_orders.deadline import DEADLINE_STATE_LABELS, deadline_views
from models.service_orders.machine import ACTION_LABELS, AWAITING_REPORT, MACHINE
from models.service_orders.matching import candidates
from models.service_orders.queries import (
    DEADLINE_FILTERS,
    QUEUE_LABELS,
    pending_offer,
    report_items_count,
    timeline,
    visits_of,
)
from models.service_orders.tables import ORDER_STATUS_LABELS, ServiceOrder
from models.unions.reasons import ReasonKind, reasons_for
from server.clock import now

bp = Blueprint("admin_pages_service_orders")

PANEL_SIZE = 30  # the best of the roster; the API pages through the rest
ACTOR_LABELS = {"contact": "企业", "expert": "专家", "system": "系统"}


@bp.get("/service-orders")
@page_guard(Permission.SERVICE_ORDERS_READ)
async def order_queue(request: Request) -> HTTPResponse:
    moment = now()
    chosen, query = await SERVICE_ORDERS.from_request(request, moment)
    page_of = await listing(request, query)
    items = page_of["items"]
    return render(
        request,
        "admin/service_orders.html",
        **page_of,
        chosen=chosen,
        views=await deadline_views([o.id for o in items], moment),
        enterprise_names=dict(
            await Enterprise.filter(id__in=list({o.enterprise_id for o in items})).values_list("id", "name")
        ),
        org_names=await org_names({o.org_id for o in items}),
        now=moment,
        status_labels=ORDER_STATUS_LABELS,
        categories=ORDER_CATEGORIES,
        waiting=AWAITING_REPORT,
        queues=QUEUE_LABELS,
        deadline_labels=DEADLINE_STATE_LABELS,
        deadline_filters=DEADLINE_FILTERS,
        saved=await saved_by(request.ctx.staff, "/admin/service-orders"),
        back=with_query(request, notice=None),
        notice=request.args.get("notice", ""),
    )


@bp.get("/service-orders/<order_id:int>")
@page_guard(Permission.SERVICE_ORDERS_READ)
async def order_page(request: Request, order_id: int) -> HTTPResponse:
    found = await request.ctx.scope.get(ServiceOrder.all(), id=order_id)
    moment = now()
    allowed = MACHINE.actions_from(found.status.value, "staff")
    around = await neighbours(request, SERVICE_ORDERS.case_path, found.id, moment)
    enterprise = await Enterprise.get(id=found.enterprise_id)
    expert = await Expert.get_or_none(id=found.expert_id) if found.expert_id else None
    history = await timeline(found.id)
    people = {enterprise.created_by_id: f"企业联系人 {enterprise.contact_name}"} if enterprise.contact_name else {}
    if expert is not None and expert.user_id is not None:
        people[expert.user_id] = f"专家 {expert.name}"
    return render(
        request,
        "admin/service_order_detail.html",
        item=found,
        enterprise=enterprise,
        history=history,
        who=await names_for(history, people=people, roles=ACTOR_LABELS),
        other_reasons=await reasons_for(found.org_id, ReasonKind.OTHER),
        enterprise_labels=ENTERPRISE_STATUS_LABELS,
        org=await Org.get(id=found.org_id),
        expert=expert,
        offer=await pending_offer(found.id),
        view=(await deadline_views([found.id], moment))[found.id],
        visits=await visits_of(found.id),
        items_count=await report_items_count(found.id),
        candidates=(await candidates(request.ctx.scope, found, moment))[:PANEL_SIZE] if "offer" in allowed else [],
        panel_size=PANEL_SIZE,
        allowed=allowed,
        status_labels=ORDER_STATUS_LABELS,
        action_labels=ACTION_LABELS,
        deadline_labels=DEADLINE_STATE_LABELS,
        categories=ORDER_CATEGORIES,
        industries=INDUSTRIES,
        skills=SKILLS,
        titles=EXPERT_TITLES,
        places=VISIT_PLACES,
        error=request.args.get("error", ""),
        notice=request.args.get("notice", ""),
        done=optional_int(request.args.get("done", "")),
        back=around.back,
        prev_url=around.prev,
        next_url=around.next,
    )


@bp.post("/service-orders/<order_id:int>/<action:str>")
@page_guard(Permission.SERVICE_ORDERS_HANDLE)
async def act(request: Request, order_id: int, action: str) -> HTTPResponse:
    scope, actor = request.ctx.scope, request.ctx.actor
    try:
        if action == "assign":
            expert_id = optional_int(form_value(request, "expert_id"))
            if expert_id is None:
                return redirect(case_again(request, SERVICE_ORDERS.case_path, order_id, "请选择专家"))
            hours = request.app.ctx.settings.service_order_offer_hours
            await actions.assign_expert(scope, order_id, expert_id, actor, offer_hours=hours)
        elif action == "cancel":
            await actions.cancel_by_union(scope, order_id, reason_of(request), actor)
        else:
            return redirect(case_again(request, SERVICE_ORDERS.case_path, order_id, "没有这项操作"))
    except DomainError as exc:
        if exc.code == "record.not_found":  # the order is not theirs: the page does not exist
            raise
        return redirect(case_again(request, SERVICE_ORDERS.case_path, order_id, exc.message))
    return redirect(await after_action(request, SERVICE_ORDERS.case_path, order_id, now(), action))
