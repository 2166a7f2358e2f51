"""The audit log, for union admins: their subtree's entries only."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.audit import AuditEntry
from models.kernel.permissions import Permission
from server.auth.guards import staff_required
from server.http import BoundedDateTime, LocalTime, PageQuery, Shape, documented, parse_query, respond

bp = Blueprint("admin_audit", url_prefix="/api/v1/admin/audit")


class AuditQuery(PageQuery):
    action: str | None = Field(None, max_length=64)
    actor: str | None = Field(None, max_length=64, description="操作人用户名")
    object_type: str | None = Field(None, max_length=32)
    object_id: str | None = Field(None, max_length=64)
    since: BoundedDateTime | None = None
    until: BoundedDateTime | None = None


class AuditOut(Shape):
    id: int
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    org_id: int | None
    ip: str
    request_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: LocalTime


class AuditPage(Shape):
    items: list[AuditOut]
    total: int


@bp.get("")
@documented(
    "审计日志（本级及下级工会），按时间倒序", tag="admin-audit", query=AuditQuery, response=AuditPage, secured="staff"
)
@staff_required(Permission.AUDIT_READ)
async def list_audit(request: Request) -> HTTPResponse:
    query = parse_query(request, AuditQuery)
    entries = request.ctx.scope.restrict(AuditEntry.all())
    filters = {
        "action": query.action,
        "actor_name": query.actor,
        "object_type": query.object_type,
        "object_id": query.object_id,
        "created_at__gte": query.since,
        "created_at__lt": query.until,
    }
    entries = entries.filter(**{key: value for key, value in filters.items() if value is not None})
    total = await entries.count()
    page = await entries.order_by("-id").offset(query.offset).limit(query.page_size)
    return respond(AuditPage(items=[AuditOut.model_validate(entry) for entry in page], total=total))
