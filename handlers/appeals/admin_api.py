"""Workers' demands for caseworkers, inside their subtree: read (anonymous ones without who filed
them), reply, take up for negotiation, tally."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.appeals.shapes import AdminAppealOut, AdminAppealPage, admin_appeal_out
from models.appeals import actions, queries
from models.appeals.tables import CONTENT_MAX, Appeal, AppealStatus
from models.catalogue import APPEAL_TOPICS, PLATFORMS
from models.kernel.permissions import Permission
from models.orgs import org_names
from server.auth.guards import staff_required
from server.http import BoundedDate, DbId, PageQuery, Shape, documented, parse_body, parse_query, respond

bp = Blueprint("admin_appeals", url_prefix="/api/v1/admin/appeals")


class Window(Shape):
    org_id: DbId | None = Field(None, description="只看该组织及其下级")
    day_from: BoundedDate | None = Field(None, alias="from", description="提出日期起（含），北京时间")
    day_to: BoundedDate | None = Field(None, alias="to", description="提出日期止（含），北京时间")


class AdminAppealQuery(PageQuery, Window):
    topic: str | None = Field(None, max_length=32)
    platform: str | None = Field(None, max_length=32)
    status: AppealStatus | None = None


class TallyQuery(Window):
    group: Literal["month"] | None = Field(None, description="month：再按月份（北京时间）分组")


class TallyItem(Shape):
    topic: str
    topic_label: str
    platform: str
    platform_label: str
    month: str | None = Field(description="YYYY-MM，仅在 group=month 时给出")
    count: int


class TallyOut(Shape):
    items: list[TallyItem]
    total: int = Field(description="诉求总数")


class ReplyIn(Shape):
    content: str = Field(min_length=1, max_length=CONTENT_MAX)


async def _one(appeal: Appeal) -> AdminAppealOut:
    replies = await queries.replies_of([appeal.id])
    filer = (await queries.filers([appeal])).get(appeal.id)
    return admin_appeal_out(appeal, await org_names({appeal.org_id}), replies[appeal.id], filer)


@bp.get("")
@documented(
    "职工诉求列表（本级及下级）：按类别、平台、状态、日期筛选；匿名诉求不含提出人信息",
    tag="admin-appeals",
    query=AdminAppealQuery,
    response=AdminAppealPage,
    secured="staff",
)
@staff_required(Permission.APPEALS_READ)
async def list_appeals(request: Request) -> HTTPResponse:
    query = parse_query(request, AdminAppealQuery)
    scoped = await queries.staff_appeals(
        request.ctx.scope,
        org_id=query.org_id,
        topic=query.topic,
        platform=query.platform,
        status=query.status,
        day_from=query.day_from,
        day_to=query.day_to,
    )
    total = await scoped.count()
    items = await scoped.order_by("-submitted_at", "-id").offset(query.offset).limit(query.page_size)
    names = await org_names({item.org_id for item in items})
    replies = await queries.replies_of([item.id for item in items])
    found = await queries.filers(items)
    return respond(
        AdminAppealPage(
            items=[admin_appeal_out(item, names, replies[item.id], found.get(item.id)) for item in items],
            total=total,
        )
    )


@bp.get("/tally")
@documented(
    "诉求统计（本级及下级）：按类别 × 平台（可再按月）计数，供集体协商使用",
    tag="admin-appeals",
    query=TallyQuery,
    response=TallyOut,
    secured="staff",
)
@staff_required(Permission.APPEALS_READ)
async def tally(request: Request) -> HTTPResponse:
    query = parse_query(request, TallyQuery)
    rows = await queries.tally(
        request.ctx.scope,
        org_id=query.org_id,
        day_from=query.day_from,
        day_to=query.day_to,
        by_month=query.group == "month",
    )
    return respond(
        TallyOut(
            items=[
                TallyItem(
                    topic=row.topic,
                    topic_label=APPEAL_TOPICS.get(row.topic, row.topic),
                    platform=row.platform,
                    platform_label=PLATFORMS.get(row.platform, row.platform),
                    month=row.month,
                    count=row.count,
                )
                for row in rows
            ],
            total=sum(row.count for row in rows),
        )
    )


@bp.get("/<appeal_id:int>")
@documented("职工诉求详情与答复", tag="admin-appeals", response=AdminAppealOut, secured="staff")
@staff_required(Permission.APPEALS_READ)
async def get_appeal(request: Request, appeal_id: int) -> HTTPResponse:
    return respond(await _one(await request.ctx.scope.get(Appeal.all(), id=appeal_id)))


@bp.post("/<appeal_id:int>/reply")
@documented(
    "答复职工诉求（通知提出人；可多次答复）",
    tag="admin-appeals",
    body=ReplyIn,
    response=AdminAppealOut,
    secured="staff",
)
@staff_required(Permission.APPEALS_REPLY)
async def reply(request: Request, appeal_id: int) -> HTTPResponse:
    body = parse_body(request, ReplyIn)
    return respond(await _one(await actions.reply(request.ctx.scope, appeal_id, body.content, request.ctx.actor)))


@bp.post("/<appeal_id:int>/take-up")
@documented("将诉求纳入集体协商（通知提出人）", tag="admin-appeals", response=AdminAppealOut, secured="staff")
@staff_required(Permission.APPEALS_TAKE_UP)
async def take_up(request: Request, appeal_id: int) -> HTTPResponse:
    return respond(await _one(await actions.take_up(request.ctx.scope, appeal_id, request.ctx.actor)))
