"""Engagements for union staff: the list of their subtree with a form to record one, and an
engagement's page with its trainings and a form to add one."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from pydantic import TypeAdapter, ValidationError
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.pages import args_of, form_value, listing, optional_int, page_guard, render
from models.catalogue import EXPERT_TITLES
from models.engagements import actions
from models.engagements.queries import engagement_view, staff_engagements, views_of
from models.enterprises.tables import Enterprise
from models.errors import DomainError, Invalid
from models.experts.tables import Expert
from models.kernel.permissions import Permission, may
from models.profiles.identity import is_ascii_digits
from server.http import BoundedDate

bp = Blueprint("admin_pages_engagements")

_DAY = TypeAdapter(BoundedDate)
# The form's choices: a union's enterprises and roster fit in a list; beyond, filter by id.
CHOICES = 500


def _day(text: str, label: str) -> date:
    try:
        return _DAY.validate_python(text.strip())
    except ValidationError:
        raise Invalid("request.invalid_date", f"请填写正确的{label}（年-月-日）") from None


def _count(text: str) -> int:
    """A head count from the form; empty is none."""
    text = text.strip() or "0"
    if not (is_ascii_digits(text) and len(text) <= 9):
        raise Invalid("request.invalid_number", "参加人数须为整数")
    return int(text)


def _back(path: str, exc: DomainError) -> HTTPResponse:
    return redirect(f"{path}?error={quote(exc.message)}")


@bp.get("/engagements")
@page_guard(Permission.ENGAGEMENTS_READ)
async def engagement_list(request: Request) -> HTTPResponse:
    chosen = args_of(request, ("enterprise_id", "expert_id"))
    scope = request.ctx.scope
    query = staff_engagements(
        scope, enterprise_id=optional_int(chosen["enterprise_id"]), expert_id=optional_int(chosen["expert_id"])
    )
    page_of = await listing(request, query.order_by("-starts_on", "-id"))
    manages = may(request.ctx.staff, Permission.ENGAGEMENTS_MANAGE)
    return render(
        request,
        "admin/engagements.html",
        **{**page_of, "items": await views_of(page_of["items"])},
        chosen=chosen,
        manages=manages,
        enterprises=await scope.restrict(Enterprise.all()).order_by("name").limit(CHOICES) if manages else [],
        experts=await scope.restrict(Expert.filter(active=True)).order_by("name").limit(CHOICES) if manages else [],
        error=request.args.get("error", ""),
    )


@bp.post("/engagements")
@page_guard(Permission.ENGAGEMENTS_MANAGE)
async def engagement_create(request: Request) -> HTTPResponse:
    try:
        created = await actions.create_engagement(
            request.ctx.scope,
            enterprise_id=optional_int(form_value(request, "enterprise_id")) or 0,
            expert_id=optional_int(form_value(request, "expert_id")) or 0,
            role=form_value(request, "role"),
            starts_on=_day(form_value(request, "starts_on"), "开始日期"),
            ends_on=_day(ends_on, "结束日期") if (ends_on := form_value(request, "ends_on")) else None,
            order_id=optional_int(form_value(request, "order_id")),
            actor=request.ctx.actor,
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _back("/admin/engagements", exc)
    return redirect(f"/admin/engagements/{created.id}")


@bp.get("/engagements/<engagement_id:int>")
@page_guard(Permission.ENGAGEMENTS_READ)
async def engagement_detail(request: Request, engagement_id: int) -> HTTPResponse:
    return render(
        request,
        "admin/engagement_detail.html",
        view=await engagement_view(request.ctx.scope, engagement_id),
        manages=may(request.ctx.staff, Permission.ENGAGEMENTS_MANAGE),
        title_labels=EXPERT_TITLES,
        error=request.args.get("error", ""),
    )


@bp.post("/engagements/<engagement_id:int>/trainings")
@page_guard(Permission.ENGAGEMENTS_MANAGE)
async def training_add(request: Request, engagement_id: int) -> HTTPResponse:
    path = f"/admin/engagements/{engagement_id}"
    try:
        await actions.add_training(
            request.ctx.scope,
            engagement_id,
            topic=form_value(request, "topic"),
            held_on=_day(form_value(request, "held_on"), "培训日期"),
            attendees=_count(form_value(request, "attendees")),
            actor=request.ctx.actor,
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _back(path, exc)
    return redirect(path)
