"""Service orders for experts (劳模工匠): the orders offered to them, accept or decline, record
visits and deliver the report. Only orders offered to or held by the expert are visible."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.service_orders.shapes import (
    AssignmentPage,
    OrderDetail,
    ReasonIn,
    VisitOut,
    assignments_out,
    order_detail,
    visit_out,
)
from models.errors import Forbidden
from models.experts.queries import expert_of_user
from models.experts.tables import Expert
from models.kernel.assignment import ExpertScope
from models.service_orders import actions
from models.service_orders.queries import expert_orders, offers_to
from models.service_orders.tables import OrderStatus, ServiceOrder
from server.auth.guards import worker_required
from server.clock import now
from server.http import BoundedDateTime, PageQuery, Shape, documented, parse_body, parse_query, respond
from server.idempotency import idempotent

bp = Blueprint("expert_service_orders", url_prefix="/api/v1")


class AssignmentQuery(PageQuery):
    status: OrderStatus | None = None


class VisitIn(Shape):
    visited_at: BoundedDateTime
    places: list[str] = Field(min_length=1, max_length=10, description="到访地点代码，见目录 visit_places")
    summary: str = Field(min_length=1, max_length=4000, description="现场调研与发现")


async def _expert(request: Request) -> Expert:
    expert = await expert_of_user(request.ctx.user.id)
    if expert is None:
        raise Forbidden("expert.required", "您还不是已绑定的劳模工匠，不能进行此操作")
    return expert


async def _detail(expert: Expert, order_id: int) -> HTTPResponse:
    found = await ExpertScope(expert.id).get(ServiceOrder.all(), id=order_id)
    return respond(await order_detail(found, now()))


@bp.get("/expert/assignments")
@documented(
    "派给我的服务订单（待答复、已接单……）",
    tag="expert",
    query=AssignmentQuery,
    response=AssignmentPage,
    secured="worker",
)
@worker_required
async def list_assignments(request: Request) -> HTTPResponse:
    expert = await _expert(request)
    chosen = parse_query(request, AssignmentQuery)
    query = expert_orders(expert.id, chosen.status)
    items = await query.order_by("-id").offset(chosen.offset).limit(chosen.page_size)
    deadlines = await offers_to(expert.id, [o.id for o in items])
    return respond(AssignmentPage(items=await assignments_out(items, deadlines, now()), total=await query.count()))


@bp.get("/expert/assignments/<order_id:int>")
@documented("派给我的服务订单详情", tag="expert", response=OrderDetail, secured="worker")
@worker_required
async def get_assignment(request: Request, order_id: int) -> HTTPResponse:
    return await _detail(await _expert(request), order_id)


@bp.post("/expert/assignments/<order_id:int>/accept")
@documented("接单", tag="expert", response=OrderDetail, secured="worker")
@worker_required
@idempotent
async def accept(request: Request, order_id: int) -> HTTPResponse:
    expert = await _expert(request)
    await actions.accept(expert, order_id, request.ctx.actor)
    return await _detail(expert, order_id)


@bp.post("/expert/assignments/<order_id:int>/decline")
@documented("婉拒派单（须说明原因）", tag="expert", body=ReasonIn, response=OrderDetail, secured="worker")
@worker_required
@idempotent
async def decline(request: Request, order_id: int) -> HTTPResponse:
    expert = await _expert(request)
    body = parse_body(request, ReasonIn)
    order = await actions.decline(expert, order_id, body.reason, request.ctx.actor)
    # Declined, the order is no longer the expert's to see: answer with what it was left as.
    return respond(await order_detail(order, now()))


@bp.post("/service-orders/<order_id:int>/visits")
@documented(
    "记录上门服务（首次上门即开始服务）", tag="expert", body=VisitIn, response=VisitOut, status=201, secured="worker"
)
@worker_required
@idempotent
async def record_visit(request: Request, order_id: int) -> HTTPResponse:
    expert = await _expert(request)
    body = parse_body(request, VisitIn)
    visit = await actions.record_visit(
        expert, order_id, visited_at=body.visited_at, places=body.places, summary=body.summary, actor=request.ctx.actor
    )
    return respond(visit_out(visit), status=201)


@bp.post("/service-orders/<order_id:int>/deliver")
@documented("交付整改报告（至少一条整改意见）", tag="expert", response=OrderDetail, secured="worker")
@worker_required
@idempotent
async def deliver(request: Request, order_id: int) -> HTTPResponse:
    expert = await _expert(request)
    await actions.deliver(expert, order_id, request.ctx.actor)
    return await _detail(expert, order_id)
