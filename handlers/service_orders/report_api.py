"""The rectification report in the mini-program: the accepted expert writes it (a list or an
Excel sheet) until delivery; the enterprise's contacts read it, export it, and after delivery
track each item. Anyone else is told the order does not exist."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from pydantic import ValidationError
from sanic import Blueprint, Request
from sanic.exceptions import PayloadTooLarge
from sanic.response import HTTPResponse

from handlers.service_orders.report_shapes import (
    ItemOut,
    ReportIn,
    ReportOut,
    TrackIn,
    item_error,
    item_out,
    report_out,
    xlsx_file,
)
from models.errors import Forbidden, NotFound
from models.kernel.sheets import XLSX_MEDIA_TYPE
from models.service_orders.report.access import ReportRole, order_as, report_reader
from models.service_orders.report.excel import (
    MAX_IMPORT_BYTES,
    export_report,
    import_report,
    import_too_large,
)
from models.service_orders.report.items import replace_items, track_item
from server.auth.guards import worker_required
from server.clock import now
from server.http import documented, parse_body, respond
from server.idempotency import idempotent
from server.input_guard import guard_input

bp = Blueprint("service_order_reports", url_prefix="/api/v1/service-orders")

# A full report of 2,000 items with long guidance is several megabytes of JSON, more than the
# server's general body limit; these routes read their bodies themselves, up to their own limit.
MAX_REPORT_BYTES = 16 * 1024 * 1024

Handler = Callable[..., Awaitable[HTTPResponse]]


def _payload_too_large() -> Exception:
    return PayloadTooLarge("Request body exceeds the size limit")


def _declared(request: Request) -> int:
    return int(request.headers.get("content-length") or 0)  # Sanic has checked it is a number


async def _drop_body(request: Request) -> None:
    """Read and drop (never keep) what the client is still sending, so that it receives the
    refusal rather than a connection reset mid-upload."""
    request.stream.request_max_size = _declared(request)
    async for _ in request.stream:
        pass


def receiving(limit: int, too_large: Callable[[], Exception] = _payload_too_large) -> Callable[[Handler], Handler]:
    """Read a streamed route's body up to `limit` bytes (413 beyond), then check it as every
    other request's body is checked at the edge. Apply inside the auth guard, outside
    `idempotent` (which keys on the body)."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def received(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            if limit < _declared(request) <= 2 * limit:
                await _drop_body(request)
                raise too_large()
            request.stream.request_max_size = limit
            try:
                await request.receive_body()
            except PayloadTooLarge:
                raise too_large() from None
            guard_input(request)
            return await handler(request, *args, **kwargs)

        return received

    return decorate


def writing_expert(limit: int) -> Callable[[Handler], Handler]:
    """Only the order's expert may send a report: anyone else is refused (404, or 403 for its
    contacts) before the body is received, so that it is never held nor parsed (what is still
    on its way, up to `limit`, is dropped as it comes). Apply outside `receiving`."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def checked(request: Request, order_id: int, *args: Any, **kwargs: Any) -> HTTPResponse:
            try:
                await order_as(request.ctx.user.id, order_id, ReportRole.EXPERT)
            except (NotFound, Forbidden):
                if _declared(request) <= limit:
                    await _drop_body(request)
                raise
            return await handler(request, order_id, *args, **kwargs)

        return checked

    return decorate


async def _report(request: Request, order_id: int) -> HTTPResponse:
    reader = await report_reader(request.ctx.user.id, order_id)
    return respond(await report_out(reader.order))


@bp.get("/<order_id:int>/report")
@documented(
    "整改报告：全部整改意见与按区域、按部门的汇总（接单专家与企业联系人可见）",
    tag="service-orders",
    response=ReportOut,
    secured="worker",
)
@worker_required
async def get_report(request: Request, order_id: int) -> HTTPResponse:
    return await _report(request, order_id)


@bp.put("/<order_id:int>/report", stream=True)
@documented(
    "专家保存整改报告：整个列表替换原有内容（接单后、交付前；支持 Idempotency-Key）",
    tag="service-orders",
    body=ReportIn,
    response=ReportOut,
    secured="worker",
    description="校验不通过时 422 report.item_invalid，details 含 index（从 0 起）与 field；"
    "报告交付后 409 service_order.report_locked。",
)
@worker_required
@writing_expert(MAX_REPORT_BYTES)
@receiving(MAX_REPORT_BYTES)
@idempotent
async def put_report(request: Request, order_id: int) -> HTTPResponse:
    try:
        body = parse_body(request, ReportIn)
    except ValidationError as exc:
        raise item_error(exc) from exc
    order = await replace_items(request.ctx.user.id, order_id, [item.model_dump() for item in body.items])
    return respond(await report_out(order))


@bp.post("/<order_id:int>/report/import", stream=True)
@documented(
    "专家从 Excel 导入整改报告（替换原有内容）",
    tag="service-orders",
    file_body=XLSX_MEDIA_TYPE,
    response=ReportOut,
    secured="worker",
    description="请求体为 .xlsx 文件本身（Content-Type: "
    f"{XLSX_MEDIA_TYPE}），不超过 {MAX_IMPORT_BYTES // 1024 // 1024} MB。第一个工作表第 1 行为表头："
    "区域/领域、整改事项、现状得分、满分、目标得分、整改指导、责任部门（或 area、title、score、max_score、"
    "target_score、guidance、department）；区域可填代码或中文名称；满分默认 10，目标得分默认满分；其他列忽略。"
    "有问题的行全部列出：422 report.import_invalid，details.rows = [{row, errors: [{field, column, message}]}]，"
    "此时不导入任何内容。重复上传同一文件结果相同。",
)
@worker_required
@writing_expert(MAX_IMPORT_BYTES)
@receiving(MAX_IMPORT_BYTES, import_too_large)
async def import_sheet(request: Request, order_id: int) -> HTTPResponse:
    order = await import_report(request.ctx.user.id, order_id, request.body or b"")
    return respond(await report_out(order))


@bp.get("/<order_id:int>/report.xlsx")
@documented(
    "导出整改报告（Excel：整改意见与汇总两个工作表）",
    tag="service-orders",
    file_response=XLSX_MEDIA_TYPE,
    secured="worker",
)
@worker_required
async def export_sheet(request: Request, order_id: int) -> HTTPResponse:
    reader = await report_reader(request.ctx.user.id, order_id)
    return xlsx_file(await export_report(reader.order, request.ctx.actor), reader.order)


@bp.patch("/<order_id:int>/report/items/<item_id:int>")
@documented(
    "企业联系人跟踪整改：标记进度、重新评分（报告交付后；支持 Idempotency-Key）",
    tag="service-orders",
    body=TrackIn,
    response=ItemOut,
    secured="worker",
    description="交付前 409 service_order.report_not_tracking；当前得分超过该条满分 422。",
)
@worker_required
@idempotent
async def track(request: Request, order_id: int, item_id: int) -> HTTPResponse:
    body = parse_body(request, TrackIn)
    item = await track_item(
        request.ctx.user.id, order_id, item_id, status=body.status, current_score=body.current_score, at=now()
    )
    return respond(item_out(item))
