"""Workers' demands from the mini-program: file one, follow the union's replies."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.appeals.shapes import AppealOut, AppealPage, appeal_out
from models.appeals import actions, queries
from models.appeals.tables import CONTENT_MAX, EMPLOYER_MAX, AppealStatus
from models.orgs import org_names
from server.auth.guards import worker_required
from server.http import DbId, PageQuery, Shape, documented, parse_body, parse_query, respond
from server.idempotency import idempotent

bp = Blueprint("appeals", url_prefix="/api/v1/appeals")


class AppealIn(Shape):
    topic: str = Field(max_length=32, description="诉求类别代码，见 /api/v1/catalogue 的 appeal_topics")
    content: str = Field(min_length=1, max_length=CONTENT_MAX)
    platform: str = Field("none", max_length=32, description="平台代码，见 /api/v1/catalogue 的 platforms")
    employer: str = Field("", max_length=EMPLOYER_MAX, description="用工单位或平台名称（平台选“其他”时必填）")
    org_id: DbId | None = Field(None, description="向哪个工会提出；不填则为本人所在工会（须已入会）")
    anonymous: bool = Field(False, description="匿名：工会工作人员看不到提出人的任何身份信息")


class AppealCreated(Shape):
    id: int
    status: AppealStatus


@bp.post("")
@documented(
    "提出职工诉求（支持 Idempotency-Key）；可匿名",
    tag="appeals",
    body=AppealIn,
    response=AppealCreated,
    status=201,
    secured="worker",
)
@worker_required
@idempotent
async def submit(request: Request) -> HTTPResponse:
    body = parse_body(request, AppealIn)
    appeal = await actions.submit(
        request.ctx.user,
        topic=body.topic,
        content=body.content,
        platform=body.platform,
        employer=body.employer,
        org_id=body.org_id,
        anonymous=body.anonymous,
        actor=request.ctx.actor,
    )
    return respond(AppealCreated(id=appeal.id, status=appeal.status), status=201)


@bp.get("")
@documented("我的诉求，含工会的答复", tag="appeals", query=PageQuery, response=AppealPage, secured="worker")
@worker_required
async def list_own(request: Request) -> HTTPResponse:
    page = parse_query(request, PageQuery)
    query = queries.own_appeals(request.ctx.user)
    total = await query.count()
    items = await query.order_by("-id").offset(page.offset).limit(page.page_size)
    names = await org_names({item.org_id for item in items})
    replies = await queries.replies_of([item.id for item in items])
    return respond(AppealPage(items=[appeal_out(item, names, replies[item.id]) for item in items], total=total))


@bp.get("/<appeal_id:int>")
@documented("我的诉求详情，含工会的答复", tag="appeals", response=AppealOut, secured="worker")
@worker_required
async def get_own(request: Request, appeal_id: int) -> HTTPResponse:
    appeal = await queries.own_appeal(request.ctx.user, appeal_id)
    replies = await queries.replies_of([appeal.id])
    return respond(appeal_out(appeal, await org_names({appeal.org_id}), replies[appeal.id]))
