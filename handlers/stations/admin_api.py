"""Rest stations for union staff: union admins keep the stations of their subtree and print their
QR codes; caseworkers may read them."""

from __future__ import annotations

from typing import Annotated

import segno
from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.stations.shapes import StationOut, station_fields
from models.kernel.permissions import Permission
from models.orgs import org_names
from models.stations import actions, queries
from models.stations.tables import Station
from server.auth.guards import staff_required
from server.clock import now
from server.http import DbId, LocalTime, PageQuery, Shape, documented, parse_body, parse_query, respond

bp = Blueprint("admin_stations", url_prefix="/api/v1/admin/stations")


class HoursIn(Shape):
    always: bool = Field(False, description="true：24 小时开放，不填开放与关闭时间")
    open: str | None = Field(None, max_length=5, description="每天开放时间 HH:MM（北京时间）")
    close: str | None = Field(None, max_length=5, description="关闭时间 HH:MM；早于开放时间表示次日关闭，可填 24:00")


class StationIn(Shape):
    name: str = Field(min_length=1, max_length=64)
    org_id: DbId = Field(description="负责该驿站的工会（须在本级及下级）")
    address: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="GCJ-02 纬度")
    lng: float = Field(ge=-180, le=180, allow_inf_nan=False, description="GCJ-02 经度")
    hours: HoursIn
    amenities: list[Annotated[str, Field(max_length=32)]] = Field(
        default_factory=list, max_length=20, description="服务设施代码，见 /api/v1/catalogue 的 station_amenities"
    )
    contact_phone: str = Field("", max_length=20)
    active: bool = Field(True, description="false：停用，职工端不再显示")


class AdminStationOut(StationOut):
    org_id: int
    org_name: str
    contact_phone: str
    active: bool
    created_at: LocalTime
    updated_at: LocalTime


class AdminStationQuery(PageQuery):
    org_id: DbId | None = Field(None, description="只看该组织及其下级")
    q: str | None = Field(None, max_length=64, description="按名称搜索")
    active: bool | None = None
    amenity: str | None = Field(None, max_length=32, description="只看有该服务设施的驿站")


class AdminStationPage(Shape):
    items: list[AdminStationOut]
    total: int


class QrOut(Shape):
    station_id: int
    name: str
    code: str = Field(description="二维码内容：服务器签名（Ed25519）的驿站标识，长期有效")
    svg: str = Field(description="可直接打印的二维码图片（SVG）")


async def _out(stations: list[Station]) -> list[AdminStationOut]:
    names = await org_names({s.org_id for s in stations})
    at = now()
    return [
        AdminStationOut(
            **station_fields(station, at),
            org_id=station.org_id,
            org_name=names[station.org_id],
            contact_phone=station.contact_phone,
            active=station.active,
            created_at=station.created_at,
            updated_at=station.updated_at,
        )
        for station in stations
    ]


def _input(body: StationIn) -> actions.StationInput:
    return actions.StationInput(**body.model_dump())


@bp.post("")
@documented(
    "新建驿站（本级及下级工会）",
    tag="admin-stations",
    body=StationIn,
    response=AdminStationOut,
    status=201,
    secured="staff",
)
@staff_required(Permission.STATIONS_MANAGE)
async def create_station(request: Request) -> HTTPResponse:
    body = parse_body(request, StationIn)
    station = await actions.create_station(request.ctx.scope, _input(body), request.ctx.actor)
    return respond((await _out([station]))[0], status=201)


@bp.get("")
@documented(
    "驿站列表（本级及下级），含坐标与开放状态",
    tag="admin-stations",
    query=AdminStationQuery,
    response=AdminStationPage,
    secured="staff",
)
@staff_required(Permission.STATIONS_READ)
async def list_stations(request: Request) -> HTTPResponse:
    query = parse_query(request, AdminStationQuery)
    if query.org_id is not None:
        await request.ctx.scope.require(query.org_id)
    scoped = queries.staff_stations(request.ctx.scope, org_id=query.org_id, q=query.q, active=query.active)
    scoped = await queries.having_amenities(scoped, [query.amenity] if query.amenity else [])
    total = await scoped.count()
    stations = await scoped.order_by("-id").offset(query.offset).limit(query.page_size)
    return respond(AdminStationPage(items=await _out(stations), total=total))


@bp.get("/<station_id:int>")
@documented("驿站详情", tag="admin-stations", response=AdminStationOut, secured="staff")
@staff_required(Permission.STATIONS_READ)
async def get_station(request: Request, station_id: int) -> HTTPResponse:
    station = await request.ctx.scope.get(Station.all(), id=station_id)
    return respond((await _out([station]))[0])


@bp.put("/<station_id:int>")
@documented("修改驿站（整体替换）", tag="admin-stations", body=StationIn, response=AdminStationOut, secured="staff")
@staff_required(Permission.STATIONS_MANAGE)
async def update_station(request: Request, station_id: int) -> HTTPResponse:
    body = parse_body(request, StationIn)
    station = await actions.update_station(request.ctx.scope, station_id, _input(body), request.ctx.actor)
    return respond((await _out([station]))[0])


@bp.get("/<station_id:int>/qr")
@documented(
    "驿站签到二维码：签名内容与可打印的 SVG 图片（记入审计日志）", tag="admin-stations", response=QrOut, secured="staff"
)
@staff_required(Permission.STATIONS_MANAGE)
async def station_qr(request: Request, station_id: int) -> HTTPResponse:
    station, code = await actions.issue_code(
        request.ctx.scope, request.app.ctx.card_signer, station_id, request.ctx.actor
    )
    svg = segno.make(code, error="m").svg_inline(scale=6, title=station.name)
    return respond(QrOut(station_id=station.id, name=station.name, code=code, svg=svg))
