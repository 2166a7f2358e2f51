"""The roster for union staff: union admins keep the experts of their subtree and hand out the
codes that bind their WeChat accounts; caseworkers read the roster."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.experts.shapes import ExpertOut, Patents, Standards, experts_out
from models.catalogue import EXPERT_TITLES, INDUSTRIES, SKILLS
from models.experts import actions
from models.experts.queries import roster
from models.experts.tables import Expert
from models.kernel.permissions import Permission
from server.auth.guards import staff_required
from server.clock import now
from server.http import DbId, LocalTime, PageQuery, Shape, documented, parse_body, parse_query, respond

bp = Blueprint("admin_experts", url_prefix="/api/v1/admin/experts")

TitleCode = Literal[tuple(EXPERT_TITLES)]  # type: ignore[valid-type]
IndustryCode = Literal[tuple(INDUSTRIES)]  # type: ignore[valid-type]
SkillCode = Literal[tuple(SKILLS)]  # type: ignore[valid-type]


class ExpertIn(Shape):
    name: str = Field(min_length=1, max_length=64)
    titles: list[TitleCode] = Field(default_factory=list, max_length=20, description="见 catalogue 的 expert_titles")
    org_id: DbId = Field(description="管理该专家的工会（须在本级及下级）")
    industries: list[IndustryCode] = Field(default_factory=list, max_length=30)
    skills: list[SkillCode] = Field(default_factory=list, max_length=30)
    years: int = Field(0, ge=0, le=80, description="从业年限")
    patents: Patents = Field(default_factory=Patents)
    standards: Standards = Field(default_factory=Standards)
    regions: list[DbId] = Field(default_factory=list, max_length=50, description="服务区域：工会组织 id")
    max_active_orders: int = Field(2, ge=1, le=actions.MAX_ACTIVE_ORDERS, description="同时承接的订单数")
    bio: str = Field("", max_length=2000)
    employer_enterprise_id: DbId | None = Field(None, description="任职企业（利益冲突提示用）")
    active: bool = True


class ExpertCreated(ExpertOut):
    invite_code: str = Field(description="绑定微信账号的邀请码：仅此一次返回，单次有效")


class InviteOut(Shape):
    expert_id: int
    invite_code: str = Field(description="新的邀请码（旧的随即作废）：仅此一次返回，单次有效")
    invite_expires_at: LocalTime


class RosterQuery(PageQuery):
    q: str = Field("", max_length=64, description="按姓名搜索")
    industry: IndustryCode | None = None
    skill: SkillCode | None = None
    org_id: DbId | None = Field(None, description="只看该组织及其下级")
    active: bool | None = None


class ExpertPage(Shape):
    items: list[ExpertOut]
    total: int


def _input(body: ExpertIn) -> actions.ExpertInput:
    values = body.model_dump(exclude={"patents", "standards"})
    return actions.ExpertInput(
        **values,
        patents_us_invention=body.patents.us_invention,
        patents_cn_invention=body.patents.cn_invention,
        patents_utility_model=body.patents.utility_model,
        standards_national=body.standards.national,
        standards_group=body.standards.group,
    )


@bp.post("")
@documented(
    "新建专家（本级及下级工会）；返回一次性的绑定邀请码",
    tag="admin-experts",
    body=ExpertIn,
    response=ExpertCreated,
    status=201,
    secured="staff",
)
@staff_required(Permission.EXPERTS_MANAGE)
async def create_expert(request: Request) -> HTTPResponse:
    body = parse_body(request, ExpertIn)
    expert, code = await actions.create_expert(request.ctx.scope, _input(body), request.ctx.actor, now())
    (out,) = await experts_out([expert])
    return respond(ExpertCreated(**out.model_dump(), invite_code=code), status=201)


@bp.get("")
@documented(
    "劳模工匠库（本级及下级），按姓名、行业、专长筛选",
    tag="admin-experts",
    query=RosterQuery,
    response=ExpertPage,
    secured="staff",
)
@staff_required(Permission.EXPERTS_READ)
async def list_experts(request: Request) -> HTTPResponse:
    chosen = parse_query(request, RosterQuery)
    if chosen.org_id is not None:
        await request.ctx.scope.require(chosen.org_id)
    query = await roster(
        request.ctx.scope,
        q=chosen.q,
        industry=chosen.industry,
        skill=chosen.skill,
        org_id=chosen.org_id,
        active=chosen.active,
    )
    found = await query.order_by("-id").offset(chosen.offset).limit(chosen.page_size)
    return respond(ExpertPage(items=await experts_out(found), total=await query.count()))


@bp.get("/<expert_id:int>")
@documented("专家详情", tag="admin-experts", response=ExpertOut, secured="staff")
@staff_required(Permission.EXPERTS_READ)
async def get_expert(request: Request, expert_id: int) -> HTTPResponse:
    (out,) = await experts_out([await request.ctx.scope.get(Expert.all(), id=expert_id)])
    return respond(out)


@bp.put("/<expert_id:int>")
@documented("修改专家（整体替换）", tag="admin-experts", body=ExpertIn, response=ExpertOut, secured="staff")
@staff_required(Permission.EXPERTS_MANAGE)
async def update_expert(request: Request, expert_id: int) -> HTTPResponse:
    body = parse_body(request, ExpertIn)
    expert = await actions.update_expert(request.ctx.scope, expert_id, _input(body), request.ctx.actor)
    (out,) = await experts_out([expert])
    return respond(out)


@bp.post("/<expert_id:int>/invite")
@documented(
    f"重新生成绑定邀请码（{actions.INVITE_DAYS} 天内有效，旧码作废；已绑定的专家 409）",
    tag="admin-experts",
    response=InviteOut,
    status=201,
    secured="staff",
)
@staff_required(Permission.EXPERTS_MANAGE)
async def reissue_invite(request: Request, expert_id: int) -> HTTPResponse:
    expert, code = await actions.reissue_invite(request.ctx.scope, expert_id, request.ctx.actor, now())
    assert expert.invite_expires_at is not None
    return respond(
        InviteOut(expert_id=expert.id, invite_code=code, invite_expires_at=expert.invite_expires_at), status=201
    )
