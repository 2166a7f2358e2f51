"""Staff accounts of the subtree: union admins create them (with a temporary password), disable
them and change their role."""

from __future__ import annotations

import secrets

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from tortoise.expressions import Q

from handlers.pages import args_of, form_value, listing, optional_int, page_guard, render
from models.accounts import STAFF_ROLE_LABELS, StaffAccount, StaffRole
from models.errors import DomainError
from models.kernel.permissions import Permission
from models.orgs import Org, org_names
from models.unions import staff as staff_rules

bp = Blueprint("admin_pages_accounts")

DONE = {
    "disable": "已停用账号“{who}”：其登录已全部失效，不能再登录。",
    "enable": "已启用账号“{who}”，可以重新登录。",
    "role": "已修改账号“{who}”的角色。",
}


async def _changed(request: Request) -> str:
    """The name of the account just changed, for the notice (looked up: the address only has its id)."""
    staff_id = optional_int(request.args.get("who", ""))
    found = await request.ctx.scope.restrict(StaffAccount.filter(id=staff_id)).first() if staff_id else None
    return (found.display_name or found.username) if found else ""


async def _page(request: Request, status: int = 200, **extra: object) -> HTTPResponse:
    chosen = args_of(request, ("q", "role"))
    query = request.ctx.scope.restrict(StaffAccount.all())
    if chosen["q"]:
        query = query.filter(Q(username__icontains=chosen["q"]) | Q(display_name__icontains=chosen["q"]))
    if chosen["role"] in {r.value for r in StaffRole}:
        query = query.filter(role=chosen["role"])
    page_of = await listing(request, query.order_by("id"))
    items = page_of["items"]
    names = await org_names({s.org_id for s in items})
    orgs = await request.ctx.scope.restrict(Org.all()).order_by("depth", "id").limit(500)
    assignable = sorted(staff_rules.ASSIGNABLE_ROLES.get(request.ctx.staff.role, set()))
    return render(
        request,
        "admin/accounts.html",
        status=status,
        **page_of,
        chosen=chosen,
        org_names=names,
        orgs=orgs,
        role_labels=STAFF_ROLE_LABELS,
        roles=list(StaffRole),
        assignable=assignable,
        done=DONE.get(request.args.get("done", ""), ""),
        who=await _changed(request),
        **extra,
    )


@bp.get("/accounts")
@page_guard(Permission.STAFF_MANAGE)
async def account_list(request: Request) -> HTTPResponse:
    return await _page(request)


@bp.post("/accounts")
@page_guard(Permission.STAFF_MANAGE)
async def create_account(request: Request) -> HTTPResponse:
    temporary = secrets.token_urlsafe(9) + "7a"
    try:
        created = await staff_rules.create_in_scope(
            request.ctx.staff,
            request.ctx.scope,
            form_value(request, "username"),
            form_value(request, "display_name"),
            StaffRole(form_value(request, "role", "caseworker")),
            optional_int(form_value(request, "org_id")) or 0,
            temporary,
            request.ctx.actor,
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return await _page(request, status=exc.status, error=exc.message)
    except ValueError:
        return await _page(request, status=422, error="角色无效")
    return await _page(request, created=created, temporary_password=temporary)


@bp.post("/accounts/<staff_id:int>")
@page_guard(Permission.STAFF_MANAGE)
async def update_account(request: Request, staff_id: int) -> HTTPResponse:
    try:
        action = form_value(request, "action")
        if action in {"disable", "enable"}:
            changed = await staff_rules.set_active(
                request.ctx.scope, request.ctx.staff, staff_id, action == "enable", request.ctx.actor
            )
        else:
            action = "role"
            changed = await staff_rules.change_role(
                request.ctx.scope,
                request.ctx.staff,
                staff_id,
                StaffRole(form_value(request, "role")),
                request.ctx.actor,
            )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return await _page(request, status=exc.status, error=exc.message)
    except ValueError:
        return await _page(request, status=422, error="角色无效")
    return redirect(f"/admin/accounts?done={action}&who={changed.id}")
