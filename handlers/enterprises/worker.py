"""Enterprises for workers: register one and act for it, invite colleagues, join by invitation."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.enterprises.shapes import ContactOut, EnterpriseOut, contact_out, enterprises_out
from models.enterprises import actions
from models.enterprises.queries import contact_scope, contacts_of
from models.enterprises.tables import Enterprise
from server.auth.guards import worker_required
from server.clock import now
from server.http import DbId, LocalTime, Shape, documented, parse_body, respond
from server.idempotency import idempotent

bp = Blueprint("enterprises", url_prefix="/api/v1")


class EnterpriseIn(Shape):
    name: str = Field(min_length=1, max_length=100)
    credit_code: str = Field(min_length=1, max_length=40, description="18 位统一社会信用代码（含校验位）")
    industry: str = Field(max_length=32, description="行业代码，见 /api/v1/catalogue 的 industries")
    org_id: DbId = Field(description="企业所属的工会组织")
    address: str = Field("", max_length=200)
    contact_name: str = Field("", max_length=64)
    contact_phone: str = Field("", max_length=20)


class EnterpriseDetail(EnterpriseOut):
    contacts: list[ContactOut]


class EnterpriseList(Shape):
    items: list[EnterpriseOut]
    total: int


class InvitationOut(Shape):
    code: str = Field(description="8 位邀请码，仅此一次返回；单次有效")
    expires_at: LocalTime


class JoinIn(Shape):
    code: str = Field(min_length=1, max_length=32)


async def _detail(enterprise: Enterprise) -> EnterpriseDetail:
    (out,) = await enterprises_out([enterprise])
    return EnterpriseDetail(**out.model_dump(), contacts=[contact_out(c) for c in await contacts_of(enterprise.id)])


@bp.post("/enterprises")
@documented(
    "登记企业，本人成为企业联系人（统一社会信用代码已登记时 409，请现有联系人邀请；支持 Idempotency-Key）",
    tag="enterprises",
    body=EnterpriseIn,
    response=EnterpriseDetail,
    status=201,
    secured="worker",
)
@worker_required
@idempotent
async def register(request: Request) -> HTTPResponse:
    body = parse_body(request, EnterpriseIn)
    enterprise = await actions.register(request.ctx.user.id, actions.EnterpriseInput(**body.model_dump()))
    return respond(await _detail(enterprise), status=201)


@bp.get("/me/enterprises")
@documented("我作为联系人的企业", tag="enterprises", response=EnterpriseList, secured="worker")
@worker_required
async def my_enterprises(request: Request) -> HTTPResponse:
    scope = await contact_scope(request.ctx.user.id)
    found = await scope.restrict(Enterprise.all()).order_by("id")
    return respond(EnterpriseList(items=await enterprises_out(found), total=len(found)))


@bp.get("/enterprises/<enterprise_id:int>")
@documented("企业详情与联系人（仅该企业联系人可见）", tag="enterprises", response=EnterpriseDetail, secured="worker")
@worker_required
async def get_enterprise(request: Request, enterprise_id: int) -> HTTPResponse:
    enterprise = await (await contact_scope(request.ctx.user.id)).get(Enterprise.all(), id=enterprise_id)
    return respond(await _detail(enterprise))


@bp.post("/enterprises/<enterprise_id:int>/invitations")
@documented(
    f"邀请同事成为企业联系人：返回单次有效、{actions.INVITATION_DAYS} 天内有效的邀请码",
    tag="enterprises",
    response=InvitationOut,
    status=201,
    secured="worker",
    description="邀请码只在本次应答中出现，服务器只保存其哈希，因此本接口不支持 Idempotency-Key"
    "（保存应答即保存了邀请码）。网络重试会再生成一个新邀请码，未使用的邀请码到期自动失效。",
)
@worker_required
async def invite(request: Request, enterprise_id: int) -> HTTPResponse:
    invitation, code = await actions.invite(request.ctx.user.id, enterprise_id, now())
    return respond(InvitationOut(code=code, expires_at=invitation.expires_at), status=201)


@bp.post("/enterprises/join")
@documented(
    "凭邀请码成为企业联系人（支持 Idempotency-Key）",
    tag="enterprises",
    body=JoinIn,
    response=EnterpriseDetail,
    secured="worker",
)
@worker_required
@idempotent
async def join(request: Request) -> HTTPResponse:
    body = parse_body(request, JoinIn)
    enterprise = await actions.join(request.ctx.user.id, body.code, now())
    return respond(await _detail(enterprise))
