"""Enterprises for caseworkers: those of their subtree, and verifying one before its first order."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.enterprises.shapes import EnterpriseOut, enterprises_out
from models.enterprises import actions
from models.enterprises.queries import contacts_of, staff_enterprises
from models.enterprises.tables import Enterprise, EnterpriseStatus
from models.kernel.permissions import Permission
from models.profiles.identity import mask_phone
from server.auth.guards import staff_required
from server.clock import now
from server.http import LocalTime, PageQuery, Shape, documented, parse_query, respond

bp = Blueprint("admin_enterprises", url_prefix="/api/v1/admin/enterprises")


class EnterpriseQuery(PageQuery):
    status: EnterpriseStatus | None = None
    q: str = Field("", max_length=100, description="按企业名称或统一社会信用代码搜索")


class EnterprisePage(Shape):
    items: list[EnterpriseOut]
    total: int


class StaffContactOut(Shape):
    user_id: int
    real_name: str
    phone: str = Field(description="联系人手机号（已脱敏）")
    joined_at: LocalTime
    invited: bool


class AdminEnterpriseDetail(EnterpriseOut):
    contacts: list[StaffContactOut]


async def _detail(enterprise: Enterprise) -> AdminEnterpriseDetail:
    (out,) = await enterprises_out([enterprise])
    contacts = [
        StaffContactOut(
            user_id=c.user_id,
            real_name=c.real_name,
            phone=mask_phone(c.phone) if c.phone else "",
            joined_at=c.joined_at,
            invited=c.invited,
        )
        for c in await contacts_of(enterprise.id)
    ]
    return AdminEnterpriseDetail(**out.model_dump(), contacts=contacts)


@bp.get("")
@documented(
    "企业列表（本级及下级工会），按核验状态筛选、按名称或信用代码搜索",
    tag="admin-enterprises",
    query=EnterpriseQuery,
    response=EnterprisePage,
    secured="staff",
)
@staff_required(Permission.ENTERPRISES_READ)
async def list_enterprises(request: Request) -> HTTPResponse:
    chosen = parse_query(request, EnterpriseQuery)
    query = staff_enterprises(request.ctx.scope, status=chosen.status, q=chosen.q)
    found = await query.order_by("-id").offset(chosen.offset).limit(chosen.page_size)
    return respond(EnterprisePage(items=await enterprises_out(found), total=await query.count()))


@bp.get("/<enterprise_id:int>")
@documented("企业详情与联系人", tag="admin-enterprises", response=AdminEnterpriseDetail, secured="staff")
@staff_required(Permission.ENTERPRISES_READ)
async def get_enterprise(request: Request, enterprise_id: int) -> HTTPResponse:
    return respond(await _detail(await request.ctx.scope.get(Enterprise.all(), id=enterprise_id)))


@bp.post("/<enterprise_id:int>/verify")
@documented(
    "核验企业（每家一次，记入审计日志；核验后方可派单）",
    tag="admin-enterprises",
    response=AdminEnterpriseDetail,
    secured="staff",
)
@staff_required(Permission.ENTERPRISES_VERIFY)
async def verify(request: Request, enterprise_id: int) -> HTTPResponse:
    enterprise = await actions.verify(request.ctx.scope, enterprise_id, request.ctx.actor, now())
    return respond(await _detail(enterprise))
