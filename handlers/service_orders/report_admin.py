"""The rectification report for caseworkers of the order's union subtree: read and export."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.service_orders.report_shapes import ReportOut, report_out, xlsx_file
from models.kernel.permissions import Permission
from models.kernel.sheets import XLSX_MEDIA_TYPE
from models.service_orders.report.excel import export_report
from models.service_orders.tables import ServiceOrder
from server.auth.guards import staff_required
from server.http import documented, respond

bp = Blueprint("admin_service_order_reports", url_prefix="/api/v1/admin/service-orders")


@bp.get("/<order_id:int>/report")
@documented("订单的整改报告与汇总", tag="admin-service-orders", response=ReportOut, secured="staff")
@staff_required(Permission.SERVICE_ORDERS_READ)
async def get_report(request: Request, order_id: int) -> HTTPResponse:
    order = await request.ctx.scope.get(ServiceOrder.all(), id=order_id)
    return respond(await report_out(order))


@bp.get("/<order_id:int>/report.xlsx")
@documented(
    "导出订单的整改报告（Excel，记入审计日志）",
    tag="admin-service-orders",
    file_response=XLSX_MEDIA_TYPE,
    secured="staff",
)
@staff_required(Permission.SERVICE_ORDERS_READ)
async def export_sheet(request: Request, order_id: int) -> HTTPResponse:
    order = await request.ctx.scope.get(ServiceOrder.all(), id=order_id)
    return xlsx_file(await export_report(order, request.ctx.actor), order)
