"""企业核验 for caseworkers: the enterprises of their subtree by status, each with its contacts,
and the one-time verification before an enterprise's first order is dispatched."""

from __future__ import annotations

from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.pages import args_of, form_value, listing, page_guard, render
from models.catalogue import INDUSTRIES
from models.enterprises import actions
from models.enterprises.queries import contacts_of, staff_enterprises
from models.enterprises.tables import ENTERPRISE_STATUS_LABELS, Enterprise, EnterpriseStatus
from models.errors import DomainError
from models.kernel.permissions import Permission
from models.orgs import Org, org_names
from models.profiles.identity import mask_phone
from server.clock import now

bp = Blueprint("admin_pages_enterprises")


@bp.get("/enterprises")
@page_guard(Permission.ENTERPRISES_READ)
async def enterprise_list(request: Request) -> HTTPResponse:
    chosen = args_of(request, ("status", "q"))
    status = EnterpriseStatus(chosen["status"]) if chosen["status"] in set(EnterpriseStatus) else None
    query = staff_enterprises(request.ctx.scope, status=status, q=chosen["q"])
    page_of = await listing(request, query.order_by("-id"))
    names = await org_names({e.org_id for e in page_of["items"]})
    return render(
        request,
        "admin/enterprises.html",
        **page_of,
        chosen=chosen,
        org_names=names,
        industries=INDUSTRIES,
        status_labels=ENTERPRISE_STATUS_LABELS,
        verified=request.args.get("verified", ""),
        error=request.args.get("error", ""),
    )


@bp.get("/enterprises/<enterprise_id:int>")
@page_guard(Permission.ENTERPRISES_READ)
async def enterprise_detail(request: Request, enterprise_id: int) -> HTTPResponse:
    enterprise = await request.ctx.scope.get(Enterprise.all(), id=enterprise_id)
    return render(
        request,
        "admin/enterprise_detail.html",
        item=enterprise,
        org=await Org.get(id=enterprise.org_id),
        contacts=await contacts_of(enterprise.id),
        mask_phone=mask_phone,
        industries=INDUSTRIES,
        status_labels=ENTERPRISE_STATUS_LABELS,
        verified=request.args.get("verified", ""),
        error=request.args.get("error", ""),
    )


@bp.post("/enterprises/<enterprise_id:int>/verify")
@page_guard(Permission.ENTERPRISES_VERIFY)
async def verify(request: Request, enterprise_id: int) -> HTTPResponse:
    back = form_value(request, "back")
    back = back if back.startswith("/admin/enterprises") else f"/admin/enterprises/{enterprise_id}"
    separator = "&" if "?" in back else "?"
    try:
        await actions.verify(request.ctx.scope, enterprise_id, request.ctx.actor, now())
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"{back}{separator}error={quote(exc.message)}")
    return redirect(f"{back}{separator}verified={enterprise_id}")
