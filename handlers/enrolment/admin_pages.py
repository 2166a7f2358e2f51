"""Enrolment applications: the list (filters, search, sorting, paging, export, batch approve) and
the detail page with approve / reject / return and the audited "show full ID"."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.pages import (
    EXPORT_ROW_LIMIT,
    args_of,
    form_value,
    form_values,
    listing,
    optional_bool,
    optional_date,
    optional_int,
    page_guard,
    reason_of,
    render,
    with_query,
    xlsx,
)
from models.catalogue import OCCUPATIONS, PLATFORMS
from models.enrolment import actions, queries, tables
from models.enrolment.machine import MACHINE
from models.enrolment.tables import STATUS_LABELS, Enrolment, EnrolmentStatus
from models.errors import DomainError, NotFound
from models.kernel.history import history_of, names_for
from models.kernel.permissions import Permission
from models.orgs import Org
from models.profiles.identity import mask_phone
from models.unions.reasons import ReasonKind, reasons_for

bp = Blueprint("admin_pages_enrolments")

FILTERS = ("status", "org_id", "gig", "occupation", "platform", "q", "from", "to", "sort")
SORTS = {"-submitted_at": "最新提交", "submitted_at": "最早提交", "name": "姓名"}
SORT_FIELDS = {"-submitted_at": "-submitted_at", "submitted_at": "submitted_at", "name": "real_name"}


def _filtered(request: Request) -> tuple[dict[str, str], object]:
    chosen = args_of(request, FILTERS)
    status = chosen["status"] if chosen["status"] in {s.value for s in EnrolmentStatus} else None
    query = queries.reviewable_enrolments(
        request.ctx.scope,
        status=EnrolmentStatus(status) if status else None,
        org_id=optional_int(chosen["org_id"]),
        is_gig_worker=optional_bool(chosen["gig"]),
        occupation=chosen["occupation"] or None,
        platform=chosen["platform"] or None,
        submitted_from=optional_date(chosen["from"]),
        submitted_to=optional_date(chosen["to"]),
        q=chosen["q"] or None,
    )
    return chosen, query.order_by(SORT_FIELDS.get(chosen["sort"], "-submitted_at"), "-id")


async def _org_names(ids: set[int]) -> dict[int, str]:
    return dict(await Org.filter(id__in=list(ids)).values_list("id", "name"))


@bp.get("/enrolments")
@page_guard(Permission.ENROLMENTS_READ)
async def enrolment_list(request: Request) -> HTTPResponse:
    chosen, query = _filtered(request)
    if (org_id := optional_int(chosen["org_id"])) is not None:
        await request.ctx.scope.require(org_id)
    page_of = await listing(request, query)
    items = page_of["items"]
    return render(
        request,
        "admin/enrolments.html",
        **page_of,
        chosen=chosen,
        org_names=await _org_names({item.org_id for item in items}),
        status_labels=STATUS_LABELS,
        statuses=list(EnrolmentStatus),
        occupations=OCCUPATIONS,
        platforms=PLATFORMS,
        sorts=SORTS,
        mask_phone=mask_phone,
        export_url=with_query(request, page=None).replace("/admin/enrolments", "/admin/enrolments/export", 1),
        results=request.args.get("batch", ""),
    )


@bp.get("/enrolments/export")
@page_guard(Permission.ENROLMENTS_READ)
async def enrolment_export(request: Request) -> HTTPResponse:
    _, query = _filtered(request)
    items = await query.limit(EXPORT_ROW_LIMIT)
    names = await _org_names({item.org_id for item in items})
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


@bp.post("/enrolments/batch-approve")
@page_guard(Permission.ENROLMENTS_REVIEW)
async def batch_approve(request: Request) -> HTTPResponse:
    done, failed = 0, 0
    ids = [optional_int(raw_id) for raw_id in form_values(request, "ids")]
    for enrolment_id in dict.fromkeys(ids):
        if enrolment_id is None:
            continue
        try:
            await actions.approve(request.ctx.scope, enrolment_id, request.ctx.actor)
            done += 1
        except DomainError:
            failed += 1
    back = form_value(request, "back", "/admin/enrolments")
    separator = "&" if "?" in back else "?"
    return redirect(f"{back if back.startswith('/admin/') else '/admin/enrolments'}{separator}batch={done}-{failed}")


async def _detail(request: Request, enrolment: Enrolment, **extra: object) -> HTTPResponse:
    org = await Org.get(id=enrolment.org_id)
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
        **extra,
    )


@bp.get("/enrolments/<enrolment_id:int>")
@page_guard(Permission.ENROLMENTS_READ)
async def enrolment_detail(request: Request, enrolment_id: int) -> HTTPResponse:
    enrolment = await request.ctx.scope.get(Enrolment.all(), id=enrolment_id)
    return await _detail(request, enrolment, notice=request.args.get("notice", ""))


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
    return redirect(f"/admin/enrolments/{enrolment_id}?notice={action}")


@bp.post("/enrolments/<enrolment_id:int>/reveal-id")
@page_guard(Permission.ENROLMENTS_REVEAL_ID)
async def reveal(request: Request, enrolment_id: int) -> HTTPResponse:
    number = await actions.reveal_id_number(request.ctx.scope, enrolment_id, request.app.ctx.cipher, request.ctx.actor)
    enrolment = await request.ctx.scope.get(Enrolment.all(), id=enrolment_id)
    return await _detail(request, enrolment, full_id=number)
