"""The union tree for staff API clients: whom a union serves beyond its members (its service
area and the platforms it answers for), read by caseworkers and kept by union admins."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.kernel.permissions import Permission
from models.unions.service_area import SERVABLE_PLATFORMS, Area, Service, service_of, set_service
from server.auth.guards import staff_required
from server.http import Shape, documented, parse_body, respond

bp = Blueprint("admin_orgs", url_prefix="/api/v1/admin/orgs")

PlatformCode = Literal[tuple(SERVABLE_PLATFORMS)]  # type: ignore[valid-type]


class AreaShape(Shape):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="服务范围中心点 GCJ-02 纬度")
    lng: float = Field(ge=-180, le=180, allow_inf_nan=False, description="服务范围中心点 GCJ-02 经度")
    radius_m: int = Field(ge=100, le=50_000, description="服务半径（米）")


class ServiceShape(Shape):
    area: AreaShape | None = Field(None, description="服务范围（圆形）；null 为不按位置分派")
    platforms: list[PlatformCode] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=20, description="该工会负责的平台，见 /api/v1/catalogue 的 platforms"
    )


class ServiceOut(ServiceShape):
    org_id: int


def _out(service: Service) -> ServiceOut:
    area = service.area
    return ServiceOut(
        org_id=service.org_id,
        area=None if area is None else AreaShape(lat=area.lat, lng=area.lng, radius_m=area.radius_m),
        platforms=service.platforms,
    )


@bp.get("/<org_id:int>/service")
@documented("工会的服务范围与负责平台（暖心服务按此分派）", tag="admin-orgs", response=ServiceOut, secured="staff")
@staff_required(Permission.TREE_READ)
async def get_service(request: Request, org_id: int) -> HTTPResponse:
    await request.ctx.scope.require(org_id)
    return respond(_out((await service_of([org_id]))[org_id]))


@bp.put("/<org_id:int>/service")
@documented(
    "设定本级或下级工会的服务范围与负责平台（整体替换，记入审计日志）",
    tag="admin-orgs",
    body=ServiceShape,
    response=ServiceOut,
    secured="staff",
)
@staff_required(Permission.TREE_MANAGE)
async def put_service(request: Request, org_id: int) -> HTTPResponse:
    body = parse_body(request, ServiceShape)
    area = None if body.area is None else Area(body.area.lat, body.area.lng, body.area.radius_m)
    service = await set_service(request.ctx.scope, org_id, area, list(body.platforms), request.ctx.actor)
    return respond(_out(service))
