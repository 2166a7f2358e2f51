"""The union tree of the staff member's subtree; union admins add, rename and open unions."""

from __future__ import annotations

from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.pages import args_of, form_value, form_values, listing, optional_int, page_guard, render
from models.errors import DomainError, Invalid
from models.kernel.permissions import Permission, may
from models.orgs import ORG_TYPE_LABELS, Org, OrgType, child_counts
from models.unions import tree_admin
from models.unions.service_area import SERVABLE_PLATFORMS, Area, service_of, set_service

bp = Blueprint("admin_pages_tree")


@bp.get("/orgs")
@page_guard(Permission.TREE_READ)
async def org_list(request: Request) -> HTTPResponse:
    chosen = args_of(request, ("q", "parent_id"))
    scope = request.ctx.scope
    parent_id = optional_int(chosen["parent_id"])
    added_id = optional_int(request.args.get("added", ""))
    query = scope.restrict(Org.all())
    if chosen["q"]:
        query = query.filter(name__icontains=chosen["q"])
    elif parent_id is not None:
        query = query.filter(parent_id=parent_id)
    else:
        query = query.filter(id=scope.org_id) if not scope.sees_everything else query.filter(parent_id=None)
    parent = await scope.get(Org.all(), id=parent_id) if parent_id is not None else None
    page_of = await listing(request, query.order_by("depth", "id"))
    items = page_of["items"]
    return render(
        request,
        "admin/orgs.html",
        **page_of,
        chosen=chosen,
        parent=parent,
        counts=await child_counts([o.id for o in items]),
        type_labels=ORG_TYPE_LABELS,
        types=[t for t in OrgType if t != OrgType.PROVINCE],
        likely_type=tree_admin.likely_child_type(parent) if parent else None,
        added=await scope.restrict(Org.filter(id=added_id)).first() if added_id else None,
        can_manage=may(request.ctx.staff, Permission.TREE_MANAGE),
        error=request.args.get("error", ""),
    )


@bp.post("/orgs/<parent_id:int>/children")
@page_guard(Permission.TREE_MANAGE)
async def add_child(request: Request, parent_id: int) -> HTTPResponse:
    try:
        added = await tree_admin.add_child(
            request.ctx.scope,
            parent_id,
            form_value(request, "name"),
            OrgType(form_value(request, "org_type")),
            form_value(request, "region_code"),
            form_value(request, "accepts_members") == "on",
            request.ctx.actor,
        )
    except (DomainError, ValueError) as exc:
        if isinstance(exc, DomainError) and exc.status == 404:
            raise
        message = exc.message if isinstance(exc, DomainError) else "组织类型无效"
        return redirect(f"/admin/orgs?parent_id={parent_id}&error={quote(message)}")
    return redirect(f"/admin/orgs?parent_id={parent_id}&added={added.id}")


@bp.post("/orgs/<org_id:int>")
@page_guard(Permission.TREE_MANAGE)
async def update_org(request: Request, org_id: int) -> HTTPResponse:
    back = form_value(request, "back", "/admin/orgs")
    back = back if back.startswith("/admin/") else "/admin/orgs"
    try:
        await tree_admin.update(
            request.ctx.scope,
            org_id,
            form_value(request, "name"),
            form_value(request, "accepts_members") == "on",
            request.ctx.actor,
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        separator = "&" if "?" in back else "?"
        return redirect(f"{back}{separator}error={exc.message}")
    return redirect(back)


@bp.get("/orgs/<org_id:int>/service")
@page_guard(Permission.TREE_READ)
async def service_page(request: Request, org_id: int) -> HTTPResponse:
    org = await request.ctx.scope.get(Org.all(), id=org_id)
    return render(
        request,
        "admin/org_service.html",
        org=org,
        service=(await service_of([org.id]))[org.id],
        platforms=SERVABLE_PLATFORMS,
        can_manage=may(request.ctx.staff, Permission.TREE_MANAGE),
        error=request.args.get("error", ""),
        saved=request.args.get("saved", ""),
    )


def _area_of(request: Request) -> Area | None:
    """The form's circle; all three fields empty means no area."""
    texts = [form_value(request, name) for name in ("lat", "lng", "radius_m")]
    if not any(texts):
        return None
    try:
        lat, lng, radius = float(texts[0]), float(texts[1]), int(texts[2])
    except ValueError:
        raise Invalid("org.area", "请填写中心点纬度、经度（数字）和服务半径（整数米），或三项都留空") from None
    return Area(lat, lng, radius)


@bp.post("/orgs/<org_id:int>/service")
@page_guard(Permission.TREE_MANAGE)
async def save_service(request: Request, org_id: int) -> HTTPResponse:
    try:
        await set_service(
            request.ctx.scope, org_id, _area_of(request), form_values(request, "platforms"), request.ctx.actor
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/admin/orgs/{org_id}/service?error={quote(exc.message)}")
    return redirect(f"/admin/orgs/{org_id}/service?saved=1")
