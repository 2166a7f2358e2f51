"""The warm-service queue for caseworkers: what is mine, unassigned, at risk or breached, with
due times; a request's fields, conversation and history, and the actions on it. The unions' SLA
policies for union admins."""

from __future__ import annotations

from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.desk.queues import (
    WARM_ASSIGNEES,
    WARM_REQUESTS,
    after_action,
    case_again,
    local_back,
    neighbours,
)
from handlers.pages import form_value, listing, optional_int, page_guard, reason_of, render, with_query
from models.accounts import staff_names
from models.desk.saved_filters import saved_by
from models.errors import DomainError, Invalid
from models.kernel.calendar import CalendarKind
from models.kernel.history import names_for
from models.kernel.permissions import Permission
from models.orgs import Org, org_names
from models.unions.reasons import ReasonKind, reasons_for
from models.warm_requests import actions
from models.warm_requests.catalogue import REQUEST_TYPES, labelled, request_type
from models.warm_requests.machine import MACHINE
from models.warm_requests.queries import conversation, timeline
from models.warm_requests.sla import effective_policies, set_policy, sla_views
from models.warm_requests.tables import OPEN, STATUS_LABELS, WarmRequest
from server.clock import now

bp = Blueprint("admin_pages_warm_requests")

SLA_LABELS = {"on_track": "正常", "at_risk": "即将超时", "breached": "已超时", "paused": "暂停计时", "met": "已达标"}
ACTIONS = {"reply": actions.reply, "request-info": actions.request_info, "resolve": actions.resolve}
CALENDAR_LABELS = {CalendarKind.WORKDAYS: "工作时间（法定节假日与调休）", CalendarKind.ALWAYS: "全天候（7×24 小时）"}


@bp.get("/warm-requests")
@page_guard(Permission.WARM_REQUESTS_READ)
async def request_queue(request: Request) -> HTTPResponse:
    moment = now()
    chosen, query = await WARM_REQUESTS.from_request(request, moment)
    page_of = await listing(request, query)
    items = page_of["items"]
    names = await org_names({r.org_id for r in items})
    return render(
        request,
        "admin/warm_requests.html",
        **page_of,
        chosen=chosen,
        views=await sla_views([r.id for r in items], moment),
        org_names=names,
        now=moment,
        status_labels=STATUS_LABELS,
        sla_labels=SLA_LABELS,
        assignee_labels=WARM_ASSIGNEES,
        types=REQUEST_TYPES,
        back=with_query(request, notice=None),
        notice=request.args.get("notice", ""),
        open_statuses={status.value for status in OPEN},
        saved=await saved_by(request.ctx.staff, "/admin/warm-requests"),
    )


@bp.get("/warm-requests/<request_id:int>")
@page_guard(Permission.WARM_REQUESTS_READ)
async def request_detail(request: Request, request_id: int) -> HTTPResponse:
    found = await request.ctx.scope.get(WarmRequest.all(), id=request_id)
    moment = now()
    around = await neighbours(request, WARM_REQUESTS.case_path, found.id, moment)
    history, messages = await timeline(found.id), await conversation(found.id)
    return render(
        request,
        "admin/warm_request_detail.html",
        history=history,
        messages=messages,
        who=await names_for(history, roles={"user": "求助人"}),
        staff_names=await staff_names(usernames={m.author_name for m in messages if m.author_kind == "staff"}),
        other_reasons=await reasons_for(found.org_id, ReasonKind.OTHER),
        item=found,
        kind=request_type(found.request_type),
        fields=labelled(request_type(found.request_type), found.values),
        org=await Org.get(id=found.org_id),
        view=(await sla_views([found.id], moment))[found.id],
        allowed=MACHINE.actions_from(found.status.value, "staff"),
        status_labels=STATUS_LABELS,
        sla_labels=SLA_LABELS,
        error=request.args.get("error", ""),
        notice=request.args.get("notice", ""),
        done=optional_int(request.args.get("done", "")),
        back=around.back,
        prev_url=around.prev,
        next_url=around.next,
    )


@bp.post("/warm-requests/<request_id:int>/<action:str>")
@page_guard(Permission.WARM_REQUESTS_HANDLE)
async def act(request: Request, request_id: int, action: str) -> HTTPResponse:
    scope, actor = request.ctx.scope, request.ctx.actor
    try:
        if action == "claim":
            await actions.assign(scope, request_id, request.ctx.staff.id, actor)
        elif action in ACTIONS:
            await ACTIONS[action](scope, request_id, form_value(request, "content"), actor)
        elif action == "escalate":
            await actions.escalate(scope, request_id, reason_of(request, "content"), actor)
        else:
            return redirect(case_again(request, WARM_REQUESTS.case_path, request_id, "没有这项操作"))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(case_again(request, WARM_REQUESTS.case_path, request_id, exc.message))
    if action in ("claim", "reply"):  # taking it on, or a turn of the conversation: the case goes on
        return redirect(case_again(request, WARM_REQUESTS.case_path, request_id, ""))
    if action == "escalate" and local_back(form_value(request, "back")) is None:
        return redirect(WARM_REQUESTS.path)  # it has left this union: its page is no longer ours
    return redirect(await after_action(request, WARM_REQUESTS.case_path, request_id, now(), action))


@bp.get("/sla-policies")
@page_guard(Permission.SLA_POLICIES_MANAGE)
async def policies(request: Request) -> HTTPResponse:
    scope = request.ctx.scope
    org_id = optional_int(request.args.get("org_id", "")) or request.ctx.staff.org_id
    targets = await effective_policies(scope, org_id)
    sources = {t.source_org_id for t in targets if t.source_org_id is not None}
    return render(
        request,
        "admin/sla_policies.html",
        org=await Org.get(id=org_id),
        orgs=await scope.restrict(Org.all()).order_by("depth", "id").limit(500),
        targets=targets,
        types=REQUEST_TYPES,
        source_names=await org_names(sources),
        calendar_labels=CALENDAR_LABELS,
        error=request.args.get("error", ""),
        saved=request.args.get("saved", ""),
    )


def _minutes(request: Request, name: str) -> int:
    text = form_value(request, name)
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise Invalid("sla.targets", "时限须为正整数（分钟）", {"field": name})
    return int(text)


@bp.post("/sla-policies")
@page_guard(Permission.SLA_POLICIES_MANAGE)
async def save_policy(request: Request) -> HTTPResponse:
    org_id = optional_int(form_value(request, "org_id")) or request.ctx.staff.org_id
    try:
        calendar = form_value(request, "calendar")
        if calendar not in set(CalendarKind):
            raise Invalid("sla.calendar", "请选择计时方式", {"field": "calendar"})
        await set_policy(
            request.ctx.scope,
            org_id=org_id,
            code=form_value(request, "request_type"),
            calendar=CalendarKind(calendar),
            first_response_minutes=_minutes(request, "first_response_minutes"),
            resolution_minutes=_minutes(request, "resolution_minutes"),
            actor=request.ctx.actor,
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/admin/sla-policies?org_id={org_id}&error={quote(exc.message)}")
    return redirect(f"/admin/sla-policies?org_id={org_id}&saved=1")
