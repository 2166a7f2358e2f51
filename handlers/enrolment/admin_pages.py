"""Enrolment applications: the list (filters, search, sorting, paging, export, batch approve) and
the detail page with approve / reject / return and the audited "show full ID"."""

from __future__ import annotations

from urllib.parse import urlencode

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.desk.queues import ENROLMENT_SORTS, ENROLMENTS, after_action, local_back, neighbours
from handlers.pages import (
    EXPORT_ROW_LIMIT,
    form_value,
    form_values,
    listing,
    optional_int,
    page_guard,
    reason_of,
    render,
    with_query,
    xlsx,
)
from models.catalogue import OCCUPATIONS, PLATFORMS
from models.desk.saved_filters import saved_by
from models.enrolment import actions, queries, tables
from models.enrolment.machine import MACHINE
from models.enrolment.queries import QUEUE_LABELS, REVIEW_DUE
from models.enrolment.tables import STATUS_LABELS, Enrolment, EnrolmentStatus
from models.errors import DomainError, NotFound
from models.kernel.history import history_of, names_for
from models.kernel.permissions import Permission
from models.orgs import Org, org_names
from models.profiles.identity import is_ascii_digits, mask_phone
from models.unions.reasons import ReasonKind, reasons_for
from server.clock import now

bp = Blueprint("admin_pages_enrolments")


@bp.get("/enrolments")
@page_guard(Permission.ENROLMENTS_READ)
async def enrolment_list(request: Request) -> HTTPResponse:
    moment = now()
    chosen, query = await ENROLMENTS.from_request(request, moment)
    page_of = await listing(request, query)
    items = page_of["items"]
    return render(
        request,
        "admin/enrolments.html",
        **page_of,
        chosen=chosen,
        org_names=await org_names({item.org_id for item in items}),
        status_labels=STATUS_LABELS,
        statuses=list(EnrolmentStatus),
        occupations=OCCUPATIONS,
        platforms=PLATFORMS,
        sorts=ENROLMENT_SORTS,
        queues=QUEUE_LABELS,
        mask_phone=mask_phone,
        export_url=with_query(request, page=None).replace("/admin/enrolments", "/admin/enrolments/export", 1),
        back=with_query(request, batch=None, done=None, failed=None, notice=None),
        scoped_org=await Org.get_or_none(id=optional_int(chosen["org_id"])) if chosen["org_id"] else None,
        unscoped_url=with_query(request, org_id=None, page=None),
        batch=batch_result(request),
        notice=request.args.get("notice", ""),
        now=moment,
        review_due=REVIEW_DUE,
        decisions=DECISION_LABELS,
        saved=await saved_by(request.ctx.staff, "/admin/enrolments"),
    )


@bp.get("/enrolments/export")
@page_guard(Permission.ENROLMENTS_READ)
async def enrolment_export(request: Request) -> HTTPResponse:
    _, query = await ENROLMENTS.from_request(request, now())
    items = await query.limit(EXPORT_ROW_LIMIT)
    names = await org_names({item.org_id for item in items})
    rows = (
        [
            item.id,
            item.real_name,
            item.id_masked,
            mask_phone(item.phone),
            names.get(item.org_id, ""),
            queries.occupation_label(item),
            queries.platform_label(item),
            "是" if item.is_gig_worker else "否",
            STATUS_LABELS[item.status],
            item.submitted_at,
            item.reason,
        ]
        for item in items
    )
    header = [
        "编号",
        "姓名",
        "身份证号",
        "手机号",
        "申请加入",
        "职业",
        "平台",
        "新就业形态",
        "状态",
        "提交时间",
        "原因",
    ]
    return await xlsx(request, "入会申请.xlsx", "入会申请", header, rows)


DECISION_LABELS = {"approve": "通过", "reject": "驳回", "return": "退回补充"}


def batch_result(request: Request) -> dict[str, object] | None:
    """What the last batch did, from the address it redirected to: counts and the ids that failed."""
    action = request.args.get("batch", "")
    if action not in DECISION_LABELS:
        return None
    failed = [part for part in request.args.get("failed", "").split(",") if is_ascii_digits(part)]
    done = request.args.get("done", "0")
    return {"label": DECISION_LABELS[action], "done": int(done) if is_ascii_digits(done) else 0, "failed": failed}


@bp.post("/enrolments/batch")
@page_guard(Permission.ENROLMENTS_REVIEW)
async def batch_decide(request: Request) -> HTTPResponse:
    """Approve, reject or return the selected applications one by one; without a selection (or
    a reason where one is needed) nothing is done and the list says why."""
    back = local_back(form_value(request, "back")) or ENROLMENTS.path
    action = form_value(request, "action")
    ids = [enrolment_id for raw in form_values(request, "ids") if (enrolment_id := optional_int(raw)) is not None]
    separator = "&" if "?" in back else "?"
    if action not in DECISION_LABELS:
        return redirect(f"{back}{separator}notice=batch_unknown")
    if not ids:
        return redirect(f"{back}{separator}notice=batch_empty")
    reason = form_value(request, "reason")
    if action != "approve" and not reason:
        return redirect(f"{back}{separator}notice=batch_reason")
    outcomes = await actions.decide_each(request.ctx.scope, ids, action, reason, request.ctx.actor)
    failed = ",".join(str(o.enrolment_id) for o in outcomes if o.error is not None)
    done = sum(1 for o in outcomes if o.error is None)
    return redirect(f"{back}{separator}{urlencode({'batch': action, 'done': done, 'failed': failed})}")


async def _detail(request: Request, enrolment: Enrolment, **extra: object) -> HTTPResponse:
    org = await Org.get(id=enrolment.org_id)
    around = await neighbours(request, ENROLMENTS.case_path, enrolment.id, now())
    history = await history_of(MACHINE.case_type, enrolment.id)
    return render(
        request,
        "admin/enrolment_detail.html",
        status=extra.pop("status", 200),
        item=enrolment,
        org=org,
        history=history,
        who=await names_for(history, people={enrolment.user_id: enrolment.real_name}, roles={"user": "申请人"}),
        notes=queries.submission_notes(enrolment, history),
        reject_reasons=await reasons_for(enrolment.org_id, ReasonKind.REJECT),
        return_reasons=await reasons_for(enrolment.org_id, ReasonKind.RETURN),
        status_labels=STATUS_LABELS,
        phone=mask_phone(enrolment.phone),
        occupation=queries.occupation_label(enrolment),
        platform=queries.platform_label(enrolment),
        reviewable=enrolment.status in tables.REVIEWABLE,
        back=around.back,
        prev_url=around.prev,
        next_url=around.next,
        **extra,
    )


@bp.get("/enrolments/<enrolment_id:int>")
@page_guard(Permission.ENROLMENTS_READ)
async def enrolment_detail(request: Request, enrolment_id: int) -> HTTPResponse:
    enrolment = await request.ctx.scope.get(Enrolment.all(), id=enrolment_id)
    done = request.args.get("done", "")
    return await _detail(
        request, enrolment, notice=request.args.get("notice", ""), done=done if is_ascii_digits(done) else ""
    )


@bp.post("/enrolments/<enrolment_id:int>/<action:str>")
@page_guard(Permission.ENROLMENTS_REVIEW)
async def decide(request: Request, enrolment_id: int, action: str) -> HTTPResponse:
    if action not in {"approve", "reject", "return"}:
        raise NotFound("route.not_found", "请求的地址不存在")
    reason = reason_of(request)
    try:
        if action == "approve":
            await actions.approve(request.ctx.scope, enrolment_id, request.ctx.actor)
        elif action == "reject":
            await actions.reject(request.ctx.scope, enrolment_id, reason, request.ctx.actor)
        else:
            await actions.return_for_information(request.ctx.scope, enrolment_id, reason, request.ctx.actor)
    except DomainError as exc:
        if exc.status == 404:
            raise
        enrolment = await request.ctx.scope.get(Enrolment.all(), id=enrolment_id)
        return await _detail(request, enrolment, error=exc.message, status=exc.status)
    return redirect(await after_action(request, ENROLMENTS.case_path, enrolment_id, now(), action))


@bp.post("/enrolments/<enrolment_id:int>/reveal-id")
@page_guard(Permission.ENROLMENTS_REVEAL_ID)
async def reveal(request: Request, enrolment_id: int) -> HTTPResponse:
    number = await actions.reveal_id_number(request.ctx.scope, enrolment_id, request.app.ctx.cipher, request.ctx.actor)
    enrolment = await request.ctx.scope.get(Enrolment.all(), id=enrolment_id)
    return await _detail(request, enrolment, full_id=number)
