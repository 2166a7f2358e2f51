"""The rectification report of an order for caseworkers: figures per area and department, before
and after the enterprise's work, every item by area, and the Excel export."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.pages import page_guard, render
from handlers.service_orders.report_shapes import xlsx_file
from models.enterprises.tables import Enterprise
from models.kernel.permissions import Permission
from models.service_orders.report.excel import export_report
from models.service_orders.report.items import report_items
from models.service_orders.report.summary import summary_of
from models.service_orders.tables import (
    ITEM_STATUS_LABELS,
    ORDER_STATUS_LABELS,
    REPORT_AREA_LABELS,
    ReportArea,
    ServiceOrder,
)

bp = Blueprint("admin_pages_service_order_reports")


@bp.get("/service-orders/<order_id:int>/report")
@page_guard(Permission.SERVICE_ORDERS_READ)
async def report_page(request: Request, order_id: int) -> HTTPResponse:
    order = await request.ctx.scope.get(ServiceOrder.all(), id=order_id)
    items = await report_items(order.id)
    by_area: dict[ReportArea, list] = {area: [] for area in ReportArea}
    for item in items:
        by_area[item.area].append(item)
    return render(
        request,
        "admin/service_order_report.html",
        order=order,
        enterprise=await Enterprise.get(id=order.enterprise_id),
        total=len(items),
        by_area=by_area,
        figures=summary_of(items),
        area_labels=REPORT_AREA_LABELS,
        item_status_labels=ITEM_STATUS_LABELS,
        order_status_labels=ORDER_STATUS_LABELS,
    )


@bp.get("/service-orders/<order_id:int>/report.xlsx")
@page_guard(Permission.SERVICE_ORDERS_READ)
async def report_export(request: Request, order_id: int) -> HTTPResponse:
    order = await request.ctx.scope.get(ServiceOrder.all(), id=order_id)
    return xlsx_file(await export_report(order, request.ctx.actor), order)
