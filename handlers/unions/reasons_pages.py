"""Preset reasons (常用原因): union admins keep each union's lists of the subtree; caseworkers
pick from them on the reject, return and cancel forms."""

from __future__ import annotations

from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.pages import form_value, optional_int, page_guard, render
from models.errors import DomainError
from models.kernel.permissions import Permission
from models.orgs import Org
from models.unions import reasons
from models.unions.tables import PresetReason

bp = Blueprint("admin_pages_reasons")

NOTICES = {"add": "已添加。", "save": "已保存。", "delete": "已删除。", "up": "已上移。", "down": "已下移。"}


def _back(org_id: int, **query: str) -> HTTPResponse:
    extra = "".join(f"&{key}={quote(value)}" for key, value in query.items())
    return redirect(f"/admin/reasons?org_id={org_id}{extra}")


@bp.get("/reasons")
@page_guard(Permission.PRESET_REASONS_MANAGE)
async def reason_lists(request: Request) -> HTTPResponse:
    scope = request.ctx.scope
    org_id = optional_int(request.args.get("org_id", "")) or request.ctx.staff.org_id
    return render(
        request,
        "admin/reasons.html",
        org=await scope.get(Org.all(), id=org_id),
        orgs=await scope.restrict(Org.all()).order_by("depth", "id").limit(500),
        lists=await reasons.lists_of(scope, org_id),
        kind_labels=reasons.KIND_LABELS,
        max_length=reasons.MAX_LENGTH,
        notice=NOTICES.get(request.args.get("done", ""), ""),
        error=request.args.get("error", ""),
    )


@bp.post("/reasons")
@page_guard(Permission.PRESET_REASONS_MANAGE)
async def add_reason(request: Request) -> HTTPResponse:
    org_id = optional_int(form_value(request, "org_id")) or request.ctx.staff.org_id
    try:
        await reasons.add(
            request.ctx.scope, org_id, form_value(request, "kind"), form_value(request, "text"), request.ctx.actor
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _back(org_id, error=exc.message)
    return _back(org_id, done="add")


@bp.post("/reasons/<reason_id:int>")
@page_guard(Permission.PRESET_REASONS_MANAGE)
async def change_reason(request: Request, reason_id: int) -> HTTPResponse:
    scope, actor = request.ctx.scope, request.ctx.actor
    org_id = (await scope.get(PresetReason.all(), id=reason_id)).org_id
    action = form_value(request, "action")
    try:
        if action == "save":
            await reasons.edit(scope, reason_id, form_value(request, "text"), actor)
        elif action == "delete":
            await reasons.delete(scope, reason_id, actor)
        elif action in {"up", "down"}:
            await reasons.move(scope, reason_id, action == "up", actor)
        else:
            return _back(org_id, error="没有这项操作")
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _back(org_id, error=exc.message)
    return _back(org_id, done=action)
