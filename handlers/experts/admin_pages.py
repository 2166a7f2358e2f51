"""劳模工匠库: the roster of the subtree with filters (caseworkers read it), and for union admins
the form that keeps an expert and the binding code, shown once after it is made."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.experts.shapes import experts_out
from handlers.pages import args_of, form_value, form_values, listing, optional_bool, optional_int, page_guard, render
from models.catalogue import EXPERT_TITLES, INDUSTRIES, SKILLS
from models.enterprises.tables import Enterprise
from models.errors import DomainError, Invalid
from models.experts import actions
from models.experts.queries import roster
from models.experts.tables import Expert
from models.kernel.permissions import Permission
from models.orgs import Org, ancestors
from models.profiles.identity import ascii_form, is_ascii_digits
from server.clock import now

bp = Blueprint("admin_pages_experts")

COUNT_LABELS = {
    "years": "从业年限",
    "patents_us_invention": "美国发明专利",
    "patents_cn_invention": "中国发明专利",
    "patents_utility_model": "实用新型专利",
    "standards_national": "国家标准",
    "standards_group": "团体标准",
}
LIST_FIELDS = ("titles", "industries", "skills", "regions")


def _number(values: dict[str, Any], name: str, label: str) -> int:
    text = ascii_form(str(values[name])).strip()
    if not text:
        return 0
    if not (is_ascii_digits(text) and len(text) <= 5):
        raise Invalid("request.invalid_number", f"{label}须为非负整数", {"field": name})
    return int(text)


def _submitted(request: Request) -> dict[str, Any]:
    """What the form sent, kept as typed so that a refused form is shown again as it was."""
    return {
        "name": form_value(request, "name"),
        "org_id": form_value(request, "org_id"),
        **{name: form_values(request, name) for name in LIST_FIELDS},
        **{name: form_value(request, name) for name in COUNT_LABELS},
        "max_active_orders": form_value(request, "max_active_orders", "2"),
        "bio": form_value(request, "bio"),
        "employer_enterprise_id": form_value(request, "employer_enterprise_id"),
        "active": form_value(request, "active") == "on",
    }


def _shown(expert: Expert) -> dict[str, Any]:
    return {
        "name": expert.name,
        "org_id": str(expert.org_id),
        "titles": expert.titles,
        "industries": expert.industries,
        "skills": expert.skills,
        "regions": [str(region) for region in expert.regions],
        **{name: str(getattr(expert, name)) for name in COUNT_LABELS},
        "max_active_orders": str(expert.max_active_orders),
        "bio": expert.bio,
        "employer_enterprise_id": str(expert.employer_enterprise_id or ""),
        "active": expert.active,
    }


def _input(values: dict[str, Any]) -> actions.ExpertInput:
    capacity = ascii_form(str(values["max_active_orders"])).strip()
    if not (is_ascii_digits(capacity) and 1 <= int(capacity) <= actions.MAX_ACTIVE_ORDERS):
        raise Invalid("expert.capacity_invalid", f"同时承接的订单数须在 1 至 {actions.MAX_ACTIVE_ORDERS} 之间")
    return actions.ExpertInput(
        name=values["name"],
        org_id=optional_int(values["org_id"]) or 0,
        titles=values["titles"],
        industries=values["industries"],
        skills=values["skills"],
        regions=[region for text in values["regions"] if (region := optional_int(text))],
        **{name: _number(values, name, label) for name, label in COUNT_LABELS.items()},
        max_active_orders=int(capacity),
        bio=values["bio"][:2000],
        employer_enterprise_id=optional_int(values["employer_enterprise_id"]),
        active=values["active"],
    )


async def _form(
    request: Request, values: dict[str, Any], *, expert: Expert | None = None, status: int = 200, **extra: Any
) -> HTTPResponse:
    """The create form (no `expert`) or an expert's page with its edit form."""
    scope = request.ctx.scope
    orgs = await scope.restrict(Org.all()).order_by("depth", "id").limit(500)
    # An expert may serve the unions above the admin's too (a district's expert serving the city).
    regions = [*(await ancestors(request.ctx.staff.org_id))[:-1], *orgs]
    chosen = [int(r) for r in values["regions"] if is_ascii_digits(str(r)) and len(str(r)) < 19]
    known = {org.id for org in regions}
    regions += await Org.filter(id__in=[r for r in chosen if r not in known])
    employers = await scope.restrict(Enterprise.all()).order_by("name").limit(500)
    return render(
        request,
        "admin/expert_form.html",
        status=status,
        values=values,
        expert=(await experts_out([expert]))[0] if expert else None,
        orgs=orgs,
        regions=regions,
        employers=employers,
        titles=EXPERT_TITLES,
        industries=INDUSTRIES,
        skills=SKILLS,
        count_labels=COUNT_LABELS,
        **extra,
    )


@bp.get("/experts")
@page_guard(Permission.EXPERTS_READ)
async def expert_list(request: Request) -> HTTPResponse:
    chosen = args_of(request, ("q", "industry", "skill", "org_id", "active"))
    org_id = optional_int(chosen["org_id"])
    if org_id is not None:
        await request.ctx.scope.require(org_id)
    query = await roster(
        request.ctx.scope,
        q=chosen["q"],
        industry=chosen["industry"] if chosen["industry"] in INDUSTRIES else None,
        skill=chosen["skill"] if chosen["skill"] in SKILLS else None,
        org_id=org_id,
        active=optional_bool(chosen["active"]),
    )
    page_of = await listing(request, query.order_by("-id"))
    page_of["items"] = await experts_out(page_of["items"])
    return render(
        request,
        "admin/experts.html",
        **page_of,
        chosen=chosen,
        orgs=await request.ctx.scope.restrict(Org.all()).order_by("depth", "id").limit(500),
        industries=INDUSTRIES,
        skills=SKILLS,
    )


@bp.get("/experts/new")
@page_guard(Permission.EXPERTS_MANAGE)
async def new_expert(request: Request) -> HTTPResponse:
    values = _shown(Expert(name="", org_id=request.ctx.staff.org_id, regions=[request.ctx.staff.org_id]))
    return await _form(request, values)


@bp.post("/experts")
@page_guard(Permission.EXPERTS_MANAGE)
async def create_expert(request: Request) -> HTTPResponse:
    values = _submitted(request)
    try:
        expert, code = await actions.create_expert(request.ctx.scope, _input(values), request.ctx.actor, now())
    except DomainError as exc:
        return await _form(request, values, status=exc.status, error=exc.message)
    return await _form(request, _shown(expert), expert=expert, invite_code=code, created=True)


@bp.get("/experts/<expert_id:int>")
@page_guard(Permission.EXPERTS_READ)
async def expert_detail(request: Request, expert_id: int) -> HTTPResponse:
    expert = await request.ctx.scope.get(Expert.all(), id=expert_id)
    return await _form(request, _shown(expert), expert=expert, saved=request.args.get("saved", ""))


@bp.post("/experts/<expert_id:int>")
@page_guard(Permission.EXPERTS_MANAGE)
async def update_expert(request: Request, expert_id: int) -> HTTPResponse:
    expert = await request.ctx.scope.get(Expert.all(), id=expert_id)
    values = _submitted(request)
    try:
        await actions.update_expert(request.ctx.scope, expert_id, _input(values), request.ctx.actor)
    except DomainError as exc:
        if exc.status == 404 and exc.code == "record.not_found":
            raise
        return await _form(request, values, expert=expert, status=exc.status, error=exc.message)
    return redirect(f"/admin/experts/{expert_id}?saved=1")


@bp.post("/experts/<expert_id:int>/invite")
@page_guard(Permission.EXPERTS_MANAGE)
async def reissue_invite(request: Request, expert_id: int) -> HTTPResponse:
    expert = await request.ctx.scope.get(Expert.all(), id=expert_id)
    try:
        expert, code = await actions.reissue_invite(request.ctx.scope, expert_id, request.ctx.actor, now())
    except DomainError as exc:
        if exc.status == 404:
            raise
        return await _form(request, _shown(expert), expert=expert, status=exc.status, error=exc.message)
    return await _form(request, _shown(expert), expert=expert, invite_code=code)
