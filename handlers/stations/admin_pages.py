"""Rest stations for union staff: the subtree's list (coordinates shown, no map), the form to add
or change a station, its printable QR code, and deactivating it."""

from __future__ import annotations

from typing import Any

import segno
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from handlers.pages import args_of, form_value, form_values, listing, optional_bool, optional_int, page_guard, render
from models.catalogue import STATION_AMENITIES
from models.errors import DomainError, Invalid
from models.kernel.permissions import Permission, may
from models.orgs import Org, org_names
from models.stations import actions, queries
from models.stations.hours import Hours
from models.stations.tables import Station
from server.clock import now

bp = Blueprint("admin_pages_stations")

ORG_CHOICES = 500


async def _orgs(request: Request) -> list[Org]:
    return await request.ctx.scope.restrict(Org.all()).order_by("depth", "id").limit(ORG_CHOICES)


@bp.get("/stations")
@page_guard(Permission.STATIONS_READ)
async def station_list(request: Request) -> HTTPResponse:
    chosen = args_of(request, ("q", "org_id", "amenity", "active"))
    org_id = optional_int(chosen["org_id"])
    if org_id is not None:
        await request.ctx.scope.require(org_id)
    amenity = chosen["amenity"] if chosen["amenity"] in STATION_AMENITIES else ""
    query = queries.staff_stations(
        request.ctx.scope, org_id=org_id, q=chosen["q"] or None, active=optional_bool(chosen["active"])
    )
    query = await queries.having_amenities(query, [amenity] if amenity else [])
    page_of = await listing(request, query.order_by("-id"))
    items = page_of["items"]
    names = await org_names({s.org_id for s in items})
    moment = now()
    return render(
        request,
        "admin/stations.html",
        **page_of,
        chosen=chosen,
        orgs=await _orgs(request),
        org_names=names,
        hours={s.id: Hours.parse(s.hours) for s in items},
        moment=moment,
        amenities=STATION_AMENITIES,
        can_manage=may(request.ctx.staff, Permission.STATIONS_MANAGE),
        notice=request.args.get("notice", ""),
    )


def _values(station: Station | None) -> dict[str, Any]:
    """What the form shows: a station's fields, or a new station's defaults."""
    if station is None:
        return {
            "name": "",
            "org_id": "",
            "address": "",
            "lat": "",
            "lng": "",
            "always": False,
            "open": "08:00",
            "close": "20:00",
            "amenities": ["water", "rest"],
            "contact_phone": "",
            "active": True,
        }
    hours = Hours.parse(station.hours).as_dict()
    return {
        "name": station.name,
        "org_id": station.org_id,
        "address": station.address,
        "lat": station.lat,
        "lng": station.lng,
        "always": bool(hours.get("always")),
        "open": hours.get("open", ""),
        "close": hours.get("close", ""),
        "amenities": station.amenities,
        "contact_phone": station.contact_phone,
        "active": station.active,
    }


def _submitted(request: Request) -> dict[str, Any]:
    return {
        "name": form_value(request, "name"),
        "org_id": form_value(request, "org_id"),
        "address": form_value(request, "address"),
        "lat": form_value(request, "lat"),
        "lng": form_value(request, "lng"),
        "always": form_value(request, "hours") == "always",
        "open": form_value(request, "open"),
        "close": form_value(request, "close"),
        "amenities": form_values(request, "amenities"),
        "contact_phone": form_value(request, "contact_phone"),
        "active": form_value(request, "active") == "on",
    }


def _input(values: dict[str, Any]) -> actions.StationInput:
    org_id = optional_int(values["org_id"])
    if org_id is None:
        raise Invalid("station.org_required", "请选择负责该驿站的工会", {"field": "org_id"})
    try:
        lat, lng = float(values["lat"]), float(values["lng"])
    except ValueError:
        raise Invalid("station.location_invalid", "请填写数字形式的纬度和经度（GCJ-02）", {"field": "lat"}) from None
    hours = {"always": True} if values["always"] else {"open": values["open"], "close": values["close"]}
    return actions.StationInput(
        name=values["name"],
        org_id=org_id,
        address=values["address"],
        lat=lat,
        lng=lng,
        hours=hours,
        amenities=values["amenities"],
        contact_phone=values["contact_phone"],
        active=values["active"],
    )


async def _form(request: Request, station: Station | None, values: dict[str, Any], error: str = "") -> HTTPResponse:
    return render(
        request,
        "admin/station_form.html",
        status=422 if error else 200,
        station=station,
        values=values,
        orgs=await _orgs(request),
        amenities=STATION_AMENITIES,
        can_manage=may(request.ctx.staff, Permission.STATIONS_MANAGE),
        error=error,
        saved=request.args.get("saved", ""),
    )


@bp.get("/stations/new")
@page_guard(Permission.STATIONS_MANAGE)
async def new_station(request: Request) -> HTTPResponse:
    return await _form(request, None, _values(None))


@bp.post("/stations/new")
@page_guard(Permission.STATIONS_MANAGE)
async def create_station(request: Request) -> HTTPResponse:
    values = _submitted(request)
    try:
        station = await actions.create_station(request.ctx.scope, _input(values), request.ctx.actor)
    except DomainError as exc:
        return await _form(request, None, values, exc.message)
    return redirect(f"/admin/stations/{station.id}?saved=1")


@bp.get("/stations/<station_id:int>")
@page_guard(Permission.STATIONS_READ)
async def station_detail(request: Request, station_id: int) -> HTTPResponse:
    station = await request.ctx.scope.get(Station.all(), id=station_id)
    return await _form(request, station, _values(station))


@bp.post("/stations/<station_id:int>")
@page_guard(Permission.STATIONS_MANAGE)
async def update_station(request: Request, station_id: int) -> HTTPResponse:
    station = await request.ctx.scope.get(Station.all(), id=station_id)
    values = _submitted(request)
    try:
        await actions.update_station(request.ctx.scope, station_id, _input(values), request.ctx.actor)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return await _form(request, station, values, exc.message)
    return redirect(f"/admin/stations/{station_id}?saved=1")


@bp.post("/stations/<station_id:int>/deactivate")
@page_guard(Permission.STATIONS_MANAGE)
async def deactivate_station(request: Request, station_id: int) -> HTTPResponse:
    await actions.set_active(request.ctx.scope, station_id, False, request.ctx.actor)
    return redirect(f"/admin/stations/{station_id}?saved=deactivated")


@bp.post("/stations/<station_id:int>/activate")
@page_guard(Permission.STATIONS_MANAGE)
async def activate_station(request: Request, station_id: int) -> HTTPResponse:
    await actions.set_active(request.ctx.scope, station_id, True, request.ctx.actor)
    return redirect(f"/admin/stations/{station_id}?saved=activated")


@bp.get("/stations/<station_id:int>/qr")
@page_guard(Permission.STATIONS_MANAGE)
async def station_qr(request: Request, station_id: int) -> HTTPResponse:
    station, code = await actions.issue_code(
        request.ctx.scope, request.app.ctx.card_signer, station_id, request.ctx.actor
    )
    svg = segno.make(code, error="m").svg_inline(scale=8, title=station.name)
    return render(request, "admin/station_qr.html", station=station, svg=svg)
