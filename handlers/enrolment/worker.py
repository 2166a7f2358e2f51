"""Enrolment for workers: apply to a union, follow the application, resubmit or withdraw."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.enrolment.shapes import (
    EnrolmentDetail,
    EnrolmentPage,
    enrolment_detail,
    enrolment_out,
    org_names,
)
from models.enrolment import actions, queries
from models.enrolment.tables import EnrolmentStatus
from server.auth.guards import worker_required
from server.http import DbId, PageQuery, Shape, documented, parse_body, parse_query, respond
from server.idempotency import idempotent

bp = Blueprint("enrolment", url_prefix="/api/v1/enrolments")


class EnrolmentIn(Shape):
    org_id: DbId
    occupation: str | None = Field(None, max_length=32, description="不填则取个人信息中的职业")
    occupation_other: str = Field("", max_length=32)
    platform: str | None = Field(None, max_length=32)
    platform_other: str = Field("", max_length=32)
    is_gig_worker: bool | None = Field(None, description="不填则按职业判断是否为新就业形态劳动者")
    note: str = Field("", max_length=500)


class ResubmitIn(Shape):
    note: str = Field("", max_length=500)


class EnrolmentCreated(Shape):
    id: int
    status: EnrolmentStatus


@bp.post("")
@documented(
    "提交入会申请（支持 Idempotency-Key）；已是会员或已有在办申请时 409",
    tag="enrolment",
    body=EnrolmentIn,
    response=EnrolmentCreated,
    status=201,
    secured="worker",
)
@worker_required
@idempotent
async def submit(request: Request) -> HTTPResponse:
    body = parse_body(request, EnrolmentIn)
    enrolment = await actions.submit(
        request.ctx.user,
        body.org_id,
        body.occupation,
        body.occupation_other,
        body.platform,
        body.platform_other,
        body.is_gig_worker,
        body.note,
        request.ctx.actor,
    )
    return respond(EnrolmentCreated(id=enrolment.id, status=enrolment.status), status=201)


@bp.get("")
@documented("我的入会申请", tag="enrolment", query=PageQuery, response=EnrolmentPage, secured="worker")
@worker_required
async def list_own(request: Request) -> HTTPResponse:
    page = parse_query(request, PageQuery)
    items, total = await queries.own_page(request.ctx.user, offset=page.offset, limit=page.page_size)
    names = await org_names({item.org_id for item in items})
    return respond(EnrolmentPage(items=[enrolment_out(item, names[item.org_id]) for item in items], total=total))


@bp.get("/<enrolment_id:int>")
@documented("入会申请详情，含办理记录", tag="enrolment", response=EnrolmentDetail, secured="worker")
@worker_required
async def get_own(request: Request, enrolment_id: int) -> HTTPResponse:
    return respond(await enrolment_detail(await queries.own_enrolment(request.ctx.user, enrolment_id)))


@bp.post("/<enrolment_id:int>/resubmit")
@documented(
    "补充材料后重新提交（先用 PUT /me/profile 更新个人信息）",
    tag="enrolment",
    body=ResubmitIn,
    response=EnrolmentDetail,
    secured="worker",
)
@worker_required
@idempotent
async def resubmit(request: Request, enrolment_id: int) -> HTTPResponse:
    body = parse_body(request, ResubmitIn)
    enrolment = await actions.resubmit(request.ctx.user, enrolment_id, body.note, request.ctx.actor)
    return respond(await enrolment_detail(enrolment))


@bp.post("/<enrolment_id:int>/withdraw")
@documented("撤回入会申请", tag="enrolment", response=EnrolmentDetail, secured="worker")
@worker_required
@idempotent
async def withdraw(request: Request, enrolment_id: int) -> HTTPResponse:
    enrolment = await actions.withdraw(request.ctx.user, enrolment_id, request.ctx.actor)
    return respond(await enrolment_detail(enrolment))
