"""Which workers a union serves beyond its members: those in its area and those of its platforms.

An area is a centre and a radius, not a list of region codes or a drawn boundary, because the
mini-program sends a GCJ-02 point and nothing here can turn a point into a region code without
an outside map service; and a union admin can keep a centre and a radius up to date by hand (the
town hall, "about 3 km around it"), where a polygon needs a GIS tool. Where two circles overlap
the deeper union wins (a street union inside its district's circle), then the nearer centre.

Changes are made by union admins for unions in their subtree, and audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.catalogue import PLATFORMS
from models.errors import Invalid
from models.orgs import Org, in_subtree
from models.scope import StaffScope
from models.stations.geo import bounding_box, distance_m
from models.unions.tables import ServedPlatform, ServiceArea

MIN_RADIUS_M, MAX_RADIUS_M = 100, 50_000
# Platforms a union can answer for: "no platform" and "other" name no workers in particular.
SERVABLE_PLATFORMS = {code: label for code, label in PLATFORMS.items() if code not in ("none", "other")}


@dataclass(frozen=True)
class Area:
    lat: float
    lng: float
    radius_m: int


@dataclass(frozen=True)
class Service:
    org_id: int
    area: Area | None
    platforms: list[str]


async def service_of(org_ids: list[int]) -> dict[int, Service]:
    """Each union's area and platforms (none of either when it has not been set)."""
    areas = {a.org_id: Area(a.lat, a.lng, a.radius_m) for a in await ServiceArea.filter(org_id__in=org_ids)}
    platforms: dict[int, list[str]] = {org_id: [] for org_id in org_ids}
    for org_id, code in (
        await ServedPlatform.filter(org_id__in=org_ids).order_by("id").values_list("org_id", "platform")
    ):
        platforms[org_id].append(code)
    return {org_id: Service(org_id, areas.get(org_id), platforms[org_id]) for org_id in org_ids}


def _check(area: Area | None, platforms: list[str]) -> list[str]:
    if area is not None:
        if not (-90 <= area.lat <= 90 and -180 <= area.lng <= 180):
            raise Invalid(
                "org.area_location", "中心点坐标超出范围（纬度 -90 至 90，经度 -180 至 180）", {"field": "lat"}
            )
        if not MIN_RADIUS_M <= area.radius_m <= MAX_RADIUS_M:
            raise Invalid(
                "org.area_radius", f"服务半径须在 {MIN_RADIUS_M} 至 {MAX_RADIUS_M} 米之间", {"field": "radius_m"}
            )
    unknown = [code for code in platforms if code not in SERVABLE_PLATFORMS]
    if unknown:
        raise Invalid(
            "org.platform",
            "平台不在可选列表中",
            {"field": "platforms", "unknown": unknown[:10], "choices": list(SERVABLE_PLATFORMS)},
        )
    return [code for code in SERVABLE_PLATFORMS if code in platforms]  # catalogue order, no repeats


def _shown(service: Service) -> dict[str, object]:
    area = service.area
    return {
        "area": None if area is None else {"lat": area.lat, "lng": area.lng, "radius_m": area.radius_m},
        "platforms": service.platforms,
    }


async def set_service(scope: StaffScope, org_id: int, area: Area | None, platforms: list[str], actor: Actor) -> Service:
    """Replace a union's area (None: no area) and platforms; audited with before and after."""
    await scope.require(org_id)
    platforms = _check(area, platforms)
    async with in_transaction():
        await Org.filter(id=org_id).select_for_update().first()  # one change at a time per union
        before = (await service_of([org_id]))[org_id]
        if area is None:
            await ServiceArea.filter(org_id=org_id).delete()
        else:
            values = {"lat": area.lat, "lng": area.lng, "radius_m": area.radius_m}
            await ServiceArea.update_or_create(defaults=values, org_id=org_id)
        await ServedPlatform.filter(org_id=org_id).exclude(platform__in=platforms).delete()
        for code in platforms:
            if code not in before.platforms:
                await ServedPlatform.create(org_id=org_id, platform=code)
        after = Service(org_id, area, platforms)
        await record(
            actor,
            "org.service_set",
            object_type="org",
            object_id=org_id,
            org_id=org_id,
            before=_shown(before),
            after=_shown(after),
        )
    return after


async def union_at(lat: float, lng: float) -> Org | None:
    """The union serving the point: of those whose circle holds it, the deepest, then the one with
    the nearer centre, then the older."""
    box = bounding_box(lat, lng, MAX_RADIUS_M)
    candidates = ServiceArea.filter(lat__gte=box.south, lat__lte=box.north)
    if box.west is not None:
        candidates = candidates.filter(lng__gte=box.west, lng__lte=box.east)
    holding = {}
    for row in await candidates.values("org_id", "lat", "lng", "radius_m"):
        distance = distance_m(lat, lng, row["lat"], row["lng"])
        if distance <= row["radius_m"]:
            holding[row["org_id"]] = distance
    if not holding:
        return None
    orgs = await Org.filter(id__in=list(holding))
    return min(orgs, key=lambda org: (-org.depth, holding[org.id], org.id))


async def platform_union(within_org_id: int, platform: str) -> Org | None:
    """The union answering for a platform's workers under `within_org_id` (a city): the highest
    such union there, then the older."""
    served = in_subtree(ServedPlatform.filter(platform=platform), within_org_id).values("org_id")
    return await Org.filter(id__in=Subquery(served)).order_by("depth", "id").first()
