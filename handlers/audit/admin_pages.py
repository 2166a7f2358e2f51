"""The audit log of the subtree, for union admins: filters, paging, export."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.pages import (
    EXPORT_ROW_LIMIT,
    args_of,
    listing,
    optional_date,
    page_guard,
    render,
    with_query,
    xlsx,
)
from models.audit import AuditEntry
from models.kernel.permissions import Permission

bp = Blueprint("admin_pages_audit")


def _filtered(request: Request) -> tuple[dict[str, str], object]:
    chosen = args_of(request, ("actor", "action", "object_type", "from", "to"))
    query = request.ctx.scope.restrict(AuditEntry.all())
    if chosen["actor"]:
        query = query.filter(actor_name__icontains=chosen["actor"])
    if chosen["action"]:
        query = query.filter(action__startswith=chosen["action"])
    if chosen["object_type"]:
        query = query.filter(object_type=chosen["object_type"])
    if since := optional_date(chosen["from"]):
        query = query.filter(created_at__gte=since)
    if until := optional_date(chosen["to"]):
        query = query.filter(created_at__lt=until)
    return chosen, query.order_by("-id")


@bp.get("/audit")
@page_guard(Permission.AUDIT_READ)
async def audit_list(request: Request) -> HTTPResponse:
    chosen, query = _filtered(request)
    page_of = await listing(request, query)
    return render(
        request,
        "admin/audit.html",
        **page_of,
        chosen=chosen,
        export_url=with_query(request, page=None).replace("/admin/audit", "/admin/audit/export", 1),
    )


@bp.get("/audit/export")
@page_guard(Permission.AUDIT_READ)
async def audit_export(request: Request) -> HTTPResponse:
    _, query = _filtered(request)
    rows = (
        [e.id, e.created_at, e.actor_kind, e.actor_name, e.action, e.object_type, e.object_id, e.ip, e.request_id]
        for e in await query.limit(EXPORT_ROW_LIMIT)
    )
    return await xlsx(
        request,
        "审计日志.xlsx",
        "审计日志",
        ["编号", "时间", "类型", "操作人", "操作", "对象", "对象编号", "IP", "请求编号"],
        rows,
    )
