"""Engagements for union staff: union admins record them and their trainings; caseworkers read
those of their subtree."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.engagements.shapes import EngagementOut, EngagementPage, TrainingOut, engagement_out
from models.engagements import actions
from models.engagements.queries import engagement_view, staff_engagements, views_of
from models.kernel.permissions import Permission
from server.auth.guards import staff_required
from server.http import BoundedDate, DbId, PageQuery, Shape, documented, parse_body, parse_query, respond

bp = Blueprint("admin_engagements", url_prefix="/api/v1/admin/engagements")


class EngagementQuery(PageQuery):
    enterprise_id: DbId | None = None
    expert_id: DbId | None = None


class EngagementIn(Shape):
    enterprise_id: DbId
    expert_id: DbId
    role: str = Field(min_length=1, max_length=actions.ROLE_MAX, description="聘任角色，如 首席质量官")
    starts_on: BoundedDate
    ends_on: BoundedDate | None = Field(None, description="不填为长期；不早于开始日期")
    order_id: DbId | None = Field(None, description="由哪个服务订单而来（须为该企业的订单）")


class TrainingIn(Shape):
    topic: str = Field(min_length=1, max_length=actions.TOPIC_MAX)
    held_on: BoundedDate = Field(description="培训日期（在聘任期内）")
    attendees: int = Field(0, ge=0, le=actions.MAX_ATTENDEES, description="参加人数")


@bp.get("")
@documented(
    "长期合作（本级及下级工会）",
    tag="admin-engagements",
    query=EngagementQuery,
    response=EngagementPage,
    secured="staff",
)
@staff_required(Permission.ENGAGEMENTS_READ)
async def list_engagements(request: Request) -> HTTPResponse:
    chosen = parse_query(request, EngagementQuery)
    query = staff_engagements(request.ctx.scope, enterprise_id=chosen.enterprise_id, expert_id=chosen.expert_id)
    found = await query.order_by("-starts_on", "-id").offset(chosen.offset).limit(chosen.page_size)
    return respond(EngagementPage(items=[engagement_out(v) for v in await views_of(found)], total=await query.count()))


@bp.post("")
@documented(
    "记录长期合作（如聘为首席质量官）",
    tag="admin-engagements",
    body=EngagementIn,
    response=EngagementOut,
    status=201,
    secured="staff",
)
@staff_required(Permission.ENGAGEMENTS_MANAGE)
async def create(request: Request) -> HTTPResponse:
    body = parse_body(request, EngagementIn)
    created = await actions.create_engagement(
        request.ctx.scope,
        enterprise_id=body.enterprise_id,
        expert_id=body.expert_id,
        role=body.role,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        order_id=body.order_id,
        actor=request.ctx.actor,
    )
    return respond(engagement_out(await engagement_view(request.ctx.scope, created.id)), status=201)


@bp.get("/<engagement_id:int>")
@documented("长期合作详情与培训记录", tag="admin-engagements", response=EngagementOut, secured="staff")
@staff_required(Permission.ENGAGEMENTS_READ)
async def get_engagement(request: Request, engagement_id: int) -> HTTPResponse:
    return respond(engagement_out(await engagement_view(request.ctx.scope, engagement_id)))


@bp.post("/<engagement_id:int>/trainings")
@documented("记录一次培训", tag="admin-engagements", body=TrainingIn, response=TrainingOut, status=201, secured="staff")
@staff_required(Permission.ENGAGEMENTS_MANAGE)
async def add_training(request: Request, engagement_id: int) -> HTTPResponse:
    body = parse_body(request, TrainingIn)
    training = await actions.add_training(
        request.ctx.scope,
        engagement_id,
        topic=body.topic,
        held_on=body.held_on,
        attendees=body.attendees,
        actor=request.ctx.actor,
    )
    return respond(TrainingOut.model_validate(training), status=201)
