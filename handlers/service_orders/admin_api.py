"""Service orders for caseworkers: the queue of their subtree, an order's detail, the ranked
candidates with their reasons, assigning (offering) an order to an expert, and cancelling."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.service_orders.shapes import (
    CandidatePage,
    OrderDetail,
    OrderPage,
    ReasonIn,
    candidate_out,
    order_detail,
    orders_out,
)
from models.kernel.permissions import Permission
from models.service_orders import actions
from models.service_orders.matching import candidates
from models.service_orders.queries import queue_page
from models.service_orders.tables import OrderStatus, ServiceOrder
from server.auth.guards import staff_required
from server.clock import now
from server.http import DbId, PageQuery, Shape, documented, parse_body, parse_query, respond

bp = Blueprint("admin_service_orders", url_prefix="/api/v1/admin/service-orders")


class QueueQuery(PageQuery):
    status: OrderStatus | None = None
    q: str = Field("", max_length=100, description="按订单标题或企业名称搜索")


class AssignIn(Shape):
    expert_id: DbId


async def _detail(request: Request, order_id: int) -> HTTPResponse:
    found = await request.ctx.scope.get(ServiceOrder.all(), id=order_id)
    return respond(await order_detail(found, now(), for_staff=True))


@bp.get("")
@documented(
    "服务订单队列（本级及下级）：截止日期、等待时长、截止状态",
    tag="admin-service-orders",
    query=QueueQuery,
    response=OrderPage,
    secured="staff",
)
@staff_required(Permission.SERVICE_ORDERS_READ)
async def list_orders(request: Request) -> HTTPResponse:
    chosen = parse_query(request, QueueQuery)
    items, total = await queue_page(
        request.ctx.scope, offset=chosen.offset, limit=chosen.page_size, status=chosen.status, q=chosen.q
    )
    return respond(OrderPage(items=await orders_out(items, now()), total=total))


@bp.get("/<order_id:int>")
@documented(
    "服务订单详情：办理记录、专家、上门记录、截止状态",
    tag="admin-service-orders",
    response=OrderDetail,
    secured="staff",
)
@staff_required(Permission.SERVICE_ORDERS_READ)
async def get_order(request: Request, order_id: int) -> HTTPResponse:
    return await _detail(request, order_id)


@bp.get("/<order_id:int>/candidates")
@documented(
    "为订单推荐的专家，按匹配分从高到低，附得分理由与利益冲突提示（满负荷的排在最后；分页，total 为全部可选专家数）",
    tag="admin-service-orders",
    query=PageQuery,
    response=CandidatePage,
    secured="staff",
)
@staff_required(Permission.SERVICE_ORDERS_READ)
async def list_candidates(request: Request, order_id: int) -> HTTPResponse:
    chosen = parse_query(request, PageQuery)
    order = await request.ctx.scope.get(ServiceOrder.all(), id=order_id)
    found = await candidates(request.ctx.scope, order, now())
    page = found[chosen.offset : chosen.offset + chosen.page_size]
    return respond(CandidatePage(items=[candidate_out(c) for c in page], total=len(found)))


@bp.post("/<order_id:int>/assign")
@documented(
    "派单：把订单发给专家，等专家在期限内接单或婉拒",
    tag="admin-service-orders",
    body=AssignIn,
    response=OrderDetail,
    secured="staff",
)
@staff_required(Permission.SERVICE_ORDERS_HANDLE)
async def assign(request: Request, order_id: int) -> HTTPResponse:
    body = parse_body(request, AssignIn)
    hours = request.app.ctx.settings.service_order_offer_hours
    await actions.assign_expert(request.ctx.scope, order_id, body.expert_id, request.ctx.actor, offer_hours=hours)
    return await _detail(request, order_id)


@bp.post("/<order_id:int>/cancel")
@documented(
    "工会取消订单（须说明原因）", tag="admin-service-orders", body=ReasonIn, response=OrderDetail, secured="staff"
)
@staff_required(Permission.SERVICE_ORDERS_HANDLE)
async def cancel(request: Request, order_id: int) -> HTTPResponse:
    body = parse_body(request, ReasonIn)
    await actions.cancel_by_union(request.ctx.scope, order_id, body.reason, request.ctx.actor)
    return await _detail(request, order_id)
