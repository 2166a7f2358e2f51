"""The audit log of the subtree, for union admins: filters, paging, export, in words a caseworker
reads: actions and objects in Chinese, objects linked to their page, people by name, changes as
before → after."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from tortoise.expressions import Q, Subquery

from handlers.notifications.shapes import case_page
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
from models.accounts import STAFF_ROLE_LABELS, StaffAccount, staff_names
from models.appeals.machine import MACHINE as APPEAL_MACHINE
from models.audit import ACTION_LABELS, ACTOR_KIND_LABELS, OBJECT_LABELS, AuditEntry, action_label, object_label
from models.enrolment.machine import MACHINE as ENROLMENT_MACHINE
from models.enterprises.tables import ENTERPRISE_STATUS_LABELS
from models.kernel.assignment import ASSIGNEE_KIND_LABELS
from models.kernel.permissions import Permission
from models.membership.machine import CHANGE_MACHINE
from models.notifications.broadcasts import BROADCAST_MACHINE
from models.profiles.actions import real_names
from models.service_orders.machine import MACHINE as ORDER_MACHINE
from models.warm_requests.machine import MACHINE as WARM_MACHINE

bp = Blueprint("admin_pages_audit")

# A case's status in an entry's before/after is shown with its machine's label.
STATUS_LABELS: dict[str, Mapping[str, str]] = {
    **{
        machine.case_type: machine.labels
        for machine in (
            APPEAL_MACHINE,
            ENROLMENT_MACHINE,
            CHANGE_MACHINE,
            BROADCAST_MACHINE,
            ORDER_MACHINE,
            WARM_MACHINE,
        )
    },
    "enterprise": ENTERPRISE_STATUS_LABELS,
}
FIELD_LABELS = {
    "status": "状态",
    "reason": "原因",
    "note": "备注",
    "role": "角色",
    "role_label": "角色名称",
    "active": "启用",
    "name": "名称",
    "title": "标题",
    "file": "文件",
    "rows": "行数",
    "filter": "筛选条件",
    "error": "错误",
    "why": "原因",
    "username": "用户名",
    "display_name": "姓名",
    "accepts_members": "接收入会",
    "gig_only": "仅新就业形态",
    "expert_id": "专家编号",
    "org_id": "所属工会",
    "enterprise_id": "企业编号",
    "order_id": "订单编号",
    "member_no": "会员编号",
    "address": "地址",
    "lat": "纬度",
    "lng": "经度",
    "hours": "开放时间",
    "amenities": "设施",
    "contact_phone": "联系电话",
    "starts_on": "开始日期",
    "ends_on": "结束日期",
    "assignee": "承办人",
    "assignee_kind": "承办人类型",
    "respond_by": "答复期限",
    "titles": "荣誉称号",
    "industries": "行业",
    "skills": "专长",
    "regions": "服务区域",
    "years": "从业年限",
    "bio": "简介",
    "max_active_orders": "同时服务上限",
    "area": "服务范围",
    "platforms": "平台",
    "id_number": "身份证号",
    "phone": "手机号",
}

# Fields whose values are codes, shown by their labels.
CODE_LABELS: dict[str, Mapping[str, str]] = {"role": STAFF_ROLE_LABELS, "assignee_kind": ASSIGNEE_KIND_LABELS}


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ReadableEntry:
    entry: AuditEntry
    actor: str
    actor_kind: str
    action: str
    object: str
    link: str | None
    changes: list[Change]


def _text(value: Any, field: str, object_type: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "status" and isinstance(value, str):
        return STATUS_LABELS.get(object_type, {}).get(value, value)
    if field in CODE_LABELS and isinstance(value, str):
        return CODE_LABELS[field].get(value, value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def changes_of(entry: AuditEntry) -> list[Change]:
    """Each field the entry names, before → after; a field only before or only after shows one side."""
    before, after = entry.before or {}, entry.after or {}
    fields = list(before) + [key for key in after if key not in before]
    return [
        Change(
            FIELD_LABELS.get(key, key),
            _text(before[key], key, entry.object_type) if key in before else None,
            _text(after[key], key, entry.object_type) if key in after else None,
        )
        for key in fields
    ]


async def readable(entries: list[AuditEntry]) -> list[ReadableEntry]:
    staff = await staff_names(e.actor_id for e in entries if e.actor_kind == "staff")
    workers = await real_names(e.actor_id for e in entries if e.actor_kind == "user")
    names = {"staff": staff, "user": workers}
    return [
        ReadableEntry(
            entry=e,
            actor=names.get(e.actor_kind, {}).get(e.actor_id or 0) or e.actor_name,
            actor_kind=ACTOR_KIND_LABELS.get(e.actor_kind, e.actor_kind),
            action=action_label(e.action),
            object=f"{object_label(e.object_type)} {e.object_id}".strip(),
            link=case_page(e.object_type, e.object_id) if e.object_id else None,
            changes=changes_of(e),
        )
        for e in entries
    ]


async def _filtered(request: Request) -> tuple[dict[str, str], Any]:
    chosen = args_of(request, ("actor", "action", "object_type", "from", "to"))
    query = request.ctx.scope.restrict(AuditEntry.all())
    if chosen["actor"]:
        # By the name shown (a staff member's display name) or the login name kept in the entry.
        named = StaffAccount.filter(display_name__icontains=chosen["actor"]).values_list("id", flat=True)
        query = query.filter(
            Q(actor_name__icontains=chosen["actor"]) | Q(actor_kind="staff", actor_id__in=Subquery(named))
        )
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
    chosen, query = await _filtered(request)
    page_of = await listing(request, query)
    page_of["items"] = await readable(page_of["items"])
    return render(
        request,
        "admin/audit.html",
        **page_of,
        chosen=chosen,
        action_labels=ACTION_LABELS,
        object_labels=OBJECT_LABELS,
        export_url=with_query(request, page=None).replace("/admin/audit", "/admin/audit/export", 1),
    )


@bp.get("/audit/export")
@page_guard(Permission.AUDIT_READ)
async def audit_export(request: Request) -> HTTPResponse:
    _, query = await _filtered(request)
    entries = await readable(await query.limit(EXPORT_ROW_LIMIT))
    rows = (
        [
            r.entry.id,
            r.entry.created_at,
            r.actor_kind,
            r.actor,
            r.action,
            r.object,
            "；".join(f"{c.field}：{c.before or ''} → {c.after or ''}" for c in r.changes),
            r.entry.ip,
            r.entry.request_id,
        ]
        for r in entries
    )
    return await xlsx(
        request,
        "审计日志.xlsx",
        "审计日志",
        ["编号", "时间", "类型", "操作人", "操作", "对象", "变更", "IP", "请求编号"],
        rows,
    )
