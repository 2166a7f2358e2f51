"""Enrolment review for caseworkers, inside their subtree only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.enrolment.shapes import EnrolmentDetail, EnrolmentOut, enrolment_detail, enrolment_out
from models.enrolment import actions, queries, tables
from models.enrolment.queries import EnrolmentQueue
from models.enrolment.tables import EnrolmentStatus
from models.kernel.permissions import Permission
from models.orgs import org_names
from models.profiles.search import person_match
from server.auth.guards import staff_required
from server.clock import now
from server.http import BoundedDateTime, DbId, PageQuery, Shape, documented, parse_body, parse_query, respond

bp = Blueprint("admin_enrolment", url_prefix="/api/v1/admin/enrolments")

SORTS = {"submitted_at": "submitted_at", "-submitted_at": "-submitted_at", "name": "real_name", "-name": "-real_name"}


class AdminEnrolmentQuery(PageQuery):
    status: EnrolmentStatus | None = None
    org_id: DbId | None = Field(None, description="只看该组织及其下级")
    is_gig_worker: bool | None = None
    occupation: str | None = Field(None, max_length=32)
    platform: str | None = Field(None, max_length=32)
    submitted_from: BoundedDateTime | None = None
    submitted_to: BoundedDateTime | None = None
    q: str | None = Field(None, max_length=32, description="按申请人姓名、手机号或身份证号末 4–6 位搜索")
    queue: EnrolmentQueue | None = Field(
        None, description="pending：待审核（含重新提交）；overdue：其中超过 3 天未审核"
    )
    sort: Literal["submitted_at", "-submitted_at", "name", "-name"] = "-submitted_at"


class AdminEnrolmentPage(Shape):
    items: list[EnrolmentOut]
    total: int


class ReasonIn(Shape):
    reason: str = Field(min_length=1, max_length=200)


class BatchIn(Shape):
    ids: list[DbId] = Field(min_length=1, max_length=100)


class BatchResult(Shape):
    id: int
    ok: bool
    code: str | None = None
    message: str | None = None


class BatchOut(Shape):
    results: list[BatchResult]


class RevealOut(Shape):
    id_number: str


@bp.get("")
@documented(
    "入会申请列表（本级及下级）：筛选、搜索、排序、分页；证件号与手机号脱敏",
    tag="admin-enrolment",
    query=AdminEnrolmentQuery,
    response=AdminEnrolmentPage,
    secured="staff",
)
@staff_required(Permission.ENROLMENTS_READ)
async def list_enrolments(request: Request) -> HTTPResponse:
    query = parse_query(request, AdminEnrolmentQuery)
    if query.org_id is not None:
        await request.ctx.scope.require(query.org_id)
    items, total = await queries.reviewable_page(
        request.ctx.scope,
        sort=SORTS[query.sort],
        offset=query.offset,
        limit=query.page_size,
        status=query.status,
        org_id=query.org_id,
        is_gig_worker=query.is_gig_worker,
        occupation=query.occupation,
        platform=query.platform,
        submitted_from=query.submitted_from,
        submitted_to=query.submitted_to,
        match=person_match(query.q, request.app.ctx.cipher) if query.q else None,
        queue=query.queue,
        at=now(),
    )
    names = await org_names({item.org_id for item in items})
    return respond(AdminEnrolmentPage(items=[enrolment_out(item, names[item.org_id]) for item in items], total=total))


@bp.get("/<enrolment_id:int>")
@documented("入会申请详情与办理记录", tag="admin-enrolment", response=EnrolmentDetail, secured="staff")
@staff_required(Permission.ENROLMENTS_READ)
async def get_enrolment(request: Request, enrolment_id: int) -> HTTPResponse:
    enrolment = await request.ctx.scope.get(tables.Enrolment.all(), id=enrolment_id)
    return respond(await enrolment_detail(enrolment))


@bp.post("/<enrolment_id:int>/approve")
@documented(
    "批准入会：生成会员号与电子会员卡，并通知申请人", tag="admin-enrolment", response=EnrolmentDetail, secured="staff"
)
@staff_required(Permission.ENROLMENTS_REVIEW)
async def approve(request: Request, enrolment_id: int) -> HTTPResponse:
    enrolment = await actions.approve(request.ctx.scope, enrolment_id, request.ctx.actor)
    return respond(await enrolment_detail(enrolment))


@bp.post("/<enrolment_id:int>/reject")
@documented(
    "驳回入会申请（须填写原因）", tag="admin-enrolment", body=ReasonIn, response=EnrolmentDetail, secured="staff"
)
@staff_required(Permission.ENROLMENTS_REVIEW)
async def reject(request: Request, enrolment_id: int) -> HTTPResponse:
    body = parse_body(request, ReasonIn)
    enrolment = await actions.reject(request.ctx.scope, enrolment_id, body.reason, request.ctx.actor)
    return respond(await enrolment_detail(enrolment))


@bp.post("/<enrolment_id:int>/return")
@documented(
    "退回补充材料（须填写需补充的内容）",
    tag="admin-enrolment",
    body=ReasonIn,
    response=EnrolmentDetail,
    secured="staff",
)
@staff_required(Permission.ENROLMENTS_REVIEW)
async def return_for_information(request: Request, enrolment_id: int) -> HTTPResponse:
    body = parse_body(request, ReasonIn)
    enrolment = await actions.return_for_information(request.ctx.scope, enrolment_id, body.reason, request.ctx.actor)
    return respond(await enrolment_detail(enrolment))


@bp.post("/<enrolment_id:int>/reveal-id")
@documented("查看完整身份证号（记入审计日志）", tag="admin-enrolment", response=RevealOut, secured="staff")
@staff_required(Permission.ENROLMENTS_REVEAL_ID)
async def reveal_id(request: Request, enrolment_id: int) -> HTTPResponse:
    number = await actions.reveal_id_number(request.ctx.scope, enrolment_id, request.app.ctx.cipher, request.ctx.actor)
    return respond(RevealOut(id_number=number))


@bp.post("/batch-approve")
@documented(
    "批量批准：逐条办理，返回每条的结果", tag="admin-enrolment", body=BatchIn, response=BatchOut, secured="staff"
)
@staff_required(Permission.ENROLMENTS_REVIEW)
async def batch_approve(request: Request) -> HTTPResponse:
    body = parse_body(request, BatchIn)
    outcomes = await actions.decide_each(request.ctx.scope, body.ids, "approve", "", request.ctx.actor)
    results = [
        BatchResult(id=o.enrolment_id, ok=True)
        if o.error is None
        else BatchResult(id=o.enrolment_id, ok=False, code=o.error.code, message=o.error.message)
        for o in outcomes
    ]
    return respond(BatchOut(results=results))
