"""Rest stations for workers: nearby search and details (public, as stations are listed on any
map), check-in by the station's QR code and the visit's rating (signed-in workers)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.stations.shapes import StationOut, station_fields
from models.stations import actions, queries
from server.auth.guards import worker_required
from server.clock import now
from server.http import LocalTime, PageQuery, Shape, documented, parse_body, parse_query, respond
from server.idempotency import idempotent

bp = Blueprint("stations", url_prefix="/api/v1/stations")


class NearbyQuery(PageQuery):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="GCJ-02 纬度（wx.getLocation type: 'gcj02'）")
    lng: float = Field(ge=-180, le=180, allow_inf_nan=False, description="GCJ-02 经度")
    radius_m: int = Field(3000, ge=1, le=queries.MAX_RADIUS_M, description="搜索半径（米），最大 50 公里")
    amenity: str | None = Field(
        None, max_length=200, description="服务设施代码，多个以逗号分隔时须全部具备，见 /api/v1/catalogue"
    )
    open_now: bool = Field(False, description="true：只看此刻开放的驿站")


class NearbyItem(StationOut):
    distance_m: float = Field(description="与所给位置的距离（米）")


class NearbyPage(Shape):
    items: list[NearbyItem]
    total: int


class RatingSummary(Shape):
    average: float | None
    count: int


class StationDetail(StationOut):
    contact_phone: str
    rating: RatingSummary


class CheckInIn(Shape):
    code: str = Field(min_length=1, max_length=1000, description="扫描驿站二维码得到的内容")


class CheckInOut(Shape):
    id: int
    station_id: int
    station_name: str
    checked_in_at: LocalTime
    repeat: bool = Field(description="true：30 分钟内再次扫码，仍是同一次到访")


class RatingIn(Shape):
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=500)
    tags: list[Annotated[str, Field(max_length=16)]] = Field(default_factory=list, max_length=10)


class RatingOut(Shape):
    id: int
    check_in_id: int
    score: int
    comment: str
    tags: list[str]
    created_at: LocalTime


@bp.get("/nearby")
@documented(
    "附近的工会驿站：按距离由近到远，可按服务设施与是否正在开放筛选",
    tag="stations",
    query=NearbyQuery,
    response=NearbyPage,
)
async def nearby(request: Request) -> HTTPResponse:
    query = parse_query(request, NearbyQuery)
    at = now()
    found, total = await queries.nearby(
        query.lat,
        query.lng,
        query.radius_m,
        at=at,
        amenities=[code.strip() for code in (query.amenity or "").split(",") if code.strip()],
        open_now=query.open_now,
        offset=query.offset,
        limit=query.page_size,
    )
    items = [NearbyItem(**station_fields(item.station, at), distance_m=item.distance_m) for item in found]
    return respond(NearbyPage(items=items, total=total))


@bp.get("/<station_id:int>")
@documented("驿站详情：地址、开放时间、服务设施、联系电话与评分", tag="stations", response=StationDetail)
async def get_station(request: Request, station_id: int) -> HTTPResponse:
    station = await queries.public_station(station_id)
    average, count = await queries.station_rating(station.id)
    return respond(
        StationDetail(
            **station_fields(station, now()),
            contact_phone=station.contact_phone,
            rating=RatingSummary(average=average, count=count),
        )
    )


@bp.post("/<station_id:int>/check-ins")
@documented(
    "扫驿站二维码签到：二维码须为该驿站的签名内容；30 分钟内重复扫码视为同一次到访",
    tag="stations",
    body=CheckInIn,
    response=CheckInOut,
    status=201,
    secured="worker",
)
@worker_required
@idempotent
async def check_in(request: Request, station_id: int) -> HTTPResponse:
    body = parse_body(request, CheckInIn)
    visit, station, new = await actions.check_in(
        request.app.ctx.card_signer, station_id, body.code, request.ctx.user, now()
    )
    return respond(
        CheckInOut(
            id=visit.id,
            station_id=visit.station_id,
            station_name=station.name,
            checked_in_at=visit.checked_in_at,
            repeat=not new,
        ),
        status=201,
    )


@bp.post("/check-ins/<check_in_id:int>/rating")
@documented(
    "评价一次驿站到访（每次到访评价一次）",
    tag="stations",
    body=RatingIn,
    response=RatingOut,
    status=201,
    secured="worker",
)
@worker_required
@idempotent
async def rate_visit(request: Request, check_in_id: int) -> HTTPResponse:
    body = parse_body(request, RatingIn)
    rating = await actions.rate_visit(request.ctx.user.id, check_in_id, body.score, body.comment, body.tags, now())
    return respond(
        RatingOut(
            id=rating.id,
            check_in_id=rating.case_id,
            score=rating.score,
            comment=rating.comment,
            tags=rating.tags,
            created_at=rating.created_at,
        ),
        status=201,
    )
