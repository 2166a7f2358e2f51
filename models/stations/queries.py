"""Finding stations: nearby for workers, the subtree's list for union staff.

The nearby search gives the same answer on SQLite and PostgreSQL without a spatial extension:
SQL narrows to the circle's bounding box on the (lat, lng) index, then Python computes exact
distances, filters, sorts (distance, then id) and pages. Only the few columns it needs are read
for the candidates, and whole rows only for the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tortoise.queryset import QuerySet

from models.catalogue import STATION_AMENITIES
from models.errors import Invalid, NotFound
from models.kernel.ratings import Served, served_average
from models.orgs import in_subtree
from models.scope import StaffScope
from models.stations.geo import bounding_box, distance_m
from models.stations.hours import Hours
from models.stations.tables import Station

MAX_RADIUS_M = 50_000


@dataclass(frozen=True)
class Nearby:
    station: Station
    distance_m: float
    open_now: bool


def check_amenities(codes: Iterable[str]) -> list[str]:
    codes = list(dict.fromkeys(codes))
    unknown = [code for code in codes if code not in STATION_AMENITIES]
    if unknown:
        raise Invalid(
            "catalogue.unknown_amenity",
            "服务设施不在可选列表中",
            {"field": "amenity", "unknown": unknown[:10], "choices": list(STATION_AMENITIES)},
        )
    return codes


async def nearby(
    lat: float,
    lng: float,
    radius_m: float,
    *,
    at: datetime,
    amenities: Iterable[str] = (),
    open_now: bool = False,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[Nearby], int]:
    """Active stations within `radius_m` of the point, nearest first, having every amenity asked
    for and, with `open_now`, open at the instant `at`; one page of them and how many there are."""
    if not 0 < radius_m <= MAX_RADIUS_M:
        raise Invalid("station.radius_invalid", f"搜索半径须在 1 至 {MAX_RADIUS_M} 米之间", {"field": "radius_m"})
    wanted = set(check_amenities(amenities))
    box = bounding_box(lat, lng, radius_m)
    candidates = Station.filter(active=True, lat__gte=box.south, lat__lte=box.north)
    if box.west is not None:
        candidates = candidates.filter(lng__gte=box.west, lng__lte=box.east)
    # The JSON columns are read only when a filter needs them: most of the time goes to reading rows.
    columns = ("id", "lat", "lng") + (("amenities",) if wanted else ()) + (("hours",) if open_now else ())
    found: list[tuple[float, int]] = []
    known_hours: dict[tuple[object, ...], Hours] = {}  # stations share a few opening hours: parse each once
    for row in await candidates.values(*columns):
        distance = distance_m(lat, lng, row["lat"], row["lng"])
        if distance > radius_m or (wanted and not wanted <= set(row["amenities"])):
            continue
        if open_now:
            key = tuple(sorted(row["hours"].items()))
            hours = known_hours.get(key) or known_hours.setdefault(key, Hours.parse(row["hours"]))
            if not hours.is_open(at):
                continue
        found.append((distance, row["id"]))
    found.sort()
    page = found[offset : offset + limit]
    rows = {station.id: station for station in await Station.filter(id__in=[station_id for _, station_id in page])}
    return [
        Nearby(rows[station_id], round(distance, 1), Hours.parse(rows[station_id].hours).is_open(at))
        for distance, station_id in page
    ], len(found)


async def public_station(station_id: int) -> Station:
    """An active station, as workers see it; a closed-down one does not exist for them."""
    station = await Station.get_or_none(id=station_id, active=True)
    if station is None:
        raise NotFound("station.not_found", "驿站不存在或已停用", {"station_id": station_id})
    return station


async def station_rating(station_id: int) -> tuple[float | None, int]:
    return await served_average(Served("station", station_id))


def staff_stations(
    scope: StaffScope,
    *,
    org_id: int | None = None,
    q: str | None = None,
    active: bool | None = None,
) -> QuerySet[Station]:
    """The stations of the staff member's subtree (or of the part under `org_id`, which the
    caller has checked is in scope)."""
    query = scope.restrict(Station.all())
    if org_id is not None:
        query = in_subtree(query, org_id)
    if q:
        query = query.filter(name__icontains=q.strip())
    if active is not None:
        query = query.filter(active=active)
    return query


async def having_amenities(query: QuerySet[Station], amenities: Iterable[str]) -> QuerySet[Station]:
    """`query` narrowed to stations having every amenity asked for. SQLite has no JSON
    containment operator, so the codes are compared here, reading two columns of the rows."""
    wanted = set(check_amenities(amenities))
    if not wanted:
        return query
    rows = await query.values("id", "amenities")
    return query.filter(id__in=[row["id"] for row in rows if wanted <= set(row["amenities"])])
