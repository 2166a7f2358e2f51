"""Service orders for an enterprise's contacts: order help, follow it, call it off before work
starts, confirm the outcome and rate the service."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.service_orders.shapes import OrderDetail, OrderPage, ReasonIn, order_detail, orders_out
from models.enterprises.queries import contact_scope
from models.service_orders import actions
from models.service_orders.queries import contact_page
from models.service_orders.tables import OrderStatus, ServiceOrder
from server.auth.guards import worker_required
from server.clock import now
from server.http import BoundedDate, DbId, PageQuery, Shape, documented, parse_body, parse_query, respond
from server.idempotency import idempotent

bp = Blueprint("service_orders", url_prefix="/api/v1/service-orders")


class NeedsIn(Shape):
    industries: list[str] = Field(default_factory=list, max_length=20, description="行业代码，见目录 industries")
    skills: list[str] = Field(default_factory=list, max_length=30, description="技能代码，见目录 skills")


class OrderIn(Shape):
    enterprise_id: DbId
    category: str = Field(max_length=32, description="服务类别，见目录 order_categories")
    title: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=4000)
    deadline: BoundedDate = Field(description="企业要求的截止日期（如验厂日期），不早于今天")
    needs: NeedsIn = Field(default_factory=NeedsIn)


class OwnQuery(PageQuery):
    status: OrderStatus | None = None


class ConfirmIn(Shape):
    outcome: str = Field(min_length=1, max_length=200, description="服务成效，如“客户验厂通过”")
    note: str = Field("", max_length=2000)


class RatingIn(Shape):
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=500)


class RatingOut(Shape):
    id: int
    score: int


async def _detail(request: Request, order_id: int) -> HTTPResponse:
    found = await (await contact_scope(request.ctx.user.id)).get(ServiceOrder.all(), id=order_id)
    return respond(await order_detail(found, now()))


@bp.post("")
@documented(
    "企业联系人下单（点单；支持 Idempotency-Key）",
    tag="service-orders",
    body=OrderIn,
    response=OrderDetail,
    status=201,
    secured="worker",
)
@worker_required
@idempotent
async def place(request: Request) -> HTTPResponse:
    body = parse_body(request, OrderIn)
    order = await actions.place_order(
        request.ctx.user.id,
        enterprise_id=body.enterprise_id,
        category=body.category,
        title=body.title,
        description=body.description,
        deadline_on=body.deadline,
        industries=body.needs.industries,
        skills=body.needs.skills,
        actor=request.ctx.actor,
    )
    return respond(await order_detail(order, now()), status=201)


@bp.get("")
@documented("我所联系企业的服务订单", tag="service-orders", query=OwnQuery, response=OrderPage, secured="worker")
@worker_required
async def list_own(request: Request) -> HTTPResponse:
    chosen = parse_query(request, OwnQuery)
    items, total = await contact_page(request.ctx.user.id, chosen.status, offset=chosen.offset, limit=chosen.page_size)
    return respond(OrderPage(items=await orders_out(items, now()), total=total))


@bp.get("/<order_id:int>")
@documented(
    "服务订单详情：办理记录、接单专家、上门记录、报告条目数",
    tag="service-orders",
    response=OrderDetail,
    secured="worker",
)
@worker_required
async def get_own(request: Request, order_id: int) -> HTTPResponse:
    return await _detail(request, order_id)


@bp.post("/<order_id:int>/cancel")
@documented(
    "企业取消订单（专家首次上门前）", tag="service-orders", body=ReasonIn, response=OrderDetail, secured="worker"
)
@worker_required
@idempotent
async def cancel(request: Request, order_id: int) -> HTTPResponse:
    body = parse_body(request, ReasonIn)
    await actions.cancel_by_contact(request.ctx.user.id, order_id, body.reason, request.ctx.actor)
    return await _detail(request, order_id)


@bp.post("/<order_id:int>/confirm")
@documented("企业确认服务成效", tag="service-orders", body=ConfirmIn, response=OrderDetail, secured="worker")
@worker_required
@idempotent
async def confirm(request: Request, order_id: int) -> HTTPResponse:
    body = parse_body(request, ConfirmIn)
    await actions.confirm(request.ctx.user.id, order_id, body.outcome, body.note, request.ctx.actor)
    return await _detail(request, order_id)


@bp.post("/<order_id:int>/rating")
@documented(
    "评价服务（确认成效后，每单一次）",
    tag="service-orders",
    body=RatingIn,
    response=RatingOut,
    status=201,
    secured="worker",
)
@worker_required
@idempotent
async def rating(request: Request, order_id: int) -> HTTPResponse:
    body = parse_body(request, RatingIn)
    rated = await actions.rate_order(request.ctx.user.id, order_id, body.score, body.comment, request.ctx.actor)
    return respond(RatingOut(id=rated.id, score=rated.score), status=201)
