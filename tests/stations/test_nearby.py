"""Nearby search: distances against an independent reference, radius, amenity and open-now
filters at given instants, ordering and paging, on both back ends."""

from __future__ import annotations

import math
import random
from datetime import datetime

import httpx
import pytest

from models.stations.geo import EARTH_RADIUS_M, bounding_box
from models.stations.queries import nearby
from server.clock import SHANGHAI
from tests.factories.common import assert_error
from tests.factories.stations import lonely_spot, make_station
from tests.factories.unions import demo_org


def _unit(lat: float, lng: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lng)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


def reference_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance from the straight chord between the two points' unit vectors: a
    different route from the server's haversine to the same sphere."""
    chord = math.dist(_unit(lat1, lng1), _unit(lat2, lng2))
    return 2 * EARTH_RADIUS_M * math.asin(chord / 2)


def destination(lat: float, lng: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    phi, lam, theta = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    phi2 = math.asin(math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta))
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi), math.cos(delta) - math.sin(phi) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180


async def search(api: httpx.AsyncClient, lat: float, lng: float, **params: object) -> dict:
    answer = await api.get("/api/v1/stations/nearby", params={"lat": lat, "lng": lng, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_nearest_first_with_distances_as_the_reference_gives_them(api: httpx.AsyncClient) -> None:
    org = await demo_org("东区街道总工会")
    lat, lng = lonely_spot()
    placed = {}
    for bearing, metres in [(10, 4200), (95, 150), (200, 9800), (270, 2500), (330, 12_500), (45, 30), (160, 7000)]:
        station_lat, station_lng = destination(lat, lng, bearing, metres)
        station = await make_station(org, station_lat, station_lng)
        placed[station.id] = reference_m(lat, lng, station_lat, station_lng)
    # A radius between the two farthest: the farthest is left out.
    found = await search(api, lat, lng, radius_m=11_000)
    inside = sorted((d, i) for i, d in placed.items() if d <= 11_000)
    assert found["total"] == len(inside) == 6
    assert [item["id"] for item in found["items"]] == [i for _, i in inside]
    for item in found["items"]:
        assert abs(item["distance_m"] - placed[item["id"]]) < 1.0, item
        assert item["open_now"] is True and item["hours"]["always"] is True
    # Paging keeps the order.
    second = await search(api, lat, lng, radius_m=11_000, page=2, page_size=2)
    assert [item["id"] for item in second["items"]] == [i for _, i in inside[2:4]] and second["total"] == 6
    assert (await search(api, lat, lng, radius_m=20))["total"] == 0


async def test_radius_is_capped_and_coordinates_bounded(api: httpx.AsyncClient) -> None:
    assert_error(
        await api.get("/api/v1/stations/nearby", params={"lat": 22.5, "lng": 113.4, "radius_m": 50_001}),
        422,
        "request.invalid",
    )
    assert_error(await api.get("/api/v1/stations/nearby", params={"lat": 91, "lng": 113.4}), 422, "request.invalid")
    assert_error(
        await api.get("/api/v1/stations/nearby", params={"lat": 22.5, "lng": 113.4, "amenity": "water,sauna"}),
        422,
        "catalogue.unknown_amenity",
    )


async def test_amenities_and_opening_hours_at_given_instants() -> None:
    org = await demo_org("东区街道总工会")
    lat, lng = lonely_spot()
    always = await make_station(org, *destination(lat, lng, 0, 100), amenities=["water", "charging", "microwave"])
    till_ten = await make_station(
        org, *destination(lat, lng, 90, 200), hours={"open": "08:00", "close": "22:00"}, amenities=["charging"]
    )
    overnight = await make_station(
        org, *destination(lat, lng, 180, 300), hours={"open": "20:00", "close": "08:00"}, amenities=["water"]
    )

    async def open_ids(hour: int, minute: int = 0, second: int = 0, **filters: object) -> list[int]:
        at = datetime(2026, 5, 1, hour, minute, second, tzinfo=SHANGHAI)
        found, total = await nearby(lat, lng, 1000, at=at, open_now=True, **filters)  # type: ignore[arg-type]
        assert total == len(found)
        return [item.station.id for item in found]

    assert await open_ids(12) == [always.id, till_ten.id]
    assert await open_ids(21, 59, 59) == [always.id, till_ten.id, overnight.id]
    assert await open_ids(22) == [always.id, overnight.id]  # closed at 22:00 sharp
    assert await open_ids(3) == [always.id, overnight.id]
    assert await open_ids(8) == [always.id, till_ten.id]
    assert await open_ids(12, amenities=["charging"]) == [always.id, till_ten.id]
    assert await open_ids(23, amenities=["charging"]) == [always.id]
    assert await open_ids(12, amenities=["charging", "microwave"]) == [always.id]
    # Without open_now every station is listed, each saying whether it is open at that instant.
    found, _ = await nearby(lat, lng, 1000, at=datetime(2026, 5, 1, 23, tzinfo=SHANGHAI))
    assert [(item.station.id, item.open_now) for item in found] == [
        (always.id, True),
        (till_ten.id, False),
        (overnight.id, True),
    ]
    # An instant in another offset is the same instant: 14:30 UTC is 22:30 in Beijing.
    found, _ = await nearby(lat, lng, 1000, at=datetime.fromisoformat("2026-05-01T14:30:00+00:00"), open_now=True)
    assert [item.station.id for item in found] == [always.id, overnight.id]


async def test_inactive_stations_are_not_found(api: httpx.AsyncClient) -> None:
    org = await demo_org("东区街道总工会")
    lat, lng = lonely_spot()
    shown = await make_station(org, lat, lng + 0.001)
    hidden = await make_station(org, lat, lng + 0.002, active=False)
    assert [item["id"] for item in (await search(api, lat, lng))["items"]] == [shown.id]
    detail = await api.get(f"/api/v1/stations/{shown.id}")
    assert detail.status_code == 200 and detail.json()["contact_phone"] == "0760-88880000"
    assert detail.json()["amenity_labels"] == ["饮水", "休息"]
    assert_error(await api.get(f"/api/v1/stations/{hidden.id}"), 404, "station.not_found")


async def test_demo_stations_near_the_city_centres(api: httpx.AsyncClient) -> None:
    zhongshan = await search(api, 22.517, 113.392, radius_m=5000, amenity="charging")
    assert zhongshan["total"] >= 3 and all("charging" in item["amenities"] for item in zhongshan["items"])
    distances = [item["distance_m"] for item in zhongshan["items"]]
    assert distances == sorted(distances) and distances[-1] <= 5000
    futian = await search(api, 22.541, 114.055, radius_m=10_000)
    assert futian["total"] >= 5 and {item["name"] for item in futian["items"]} >= {"华强北工会驿站"}


@pytest.mark.parametrize("lat", [-89.99, -60.0, 0.0, 22.5, 66.0, 89.99])
@pytest.mark.parametrize("lng", [-179.999, 0.0, 113.4, 179.999])
def test_the_bounding_box_holds_the_whole_circle(lat: float, lng: float) -> None:
    jitter = random.Random(f"{lat},{lng}")
    for radius in (1, 999, 50_000):
        box = bounding_box(lat, lng, radius)
        for bearing in range(0, 360, 3):
            point_lat, point_lng = destination(lat, lng, bearing + jitter.random(), radius)
            assert box.south <= point_lat <= box.north
            if box.west is not None:
                assert box.west <= point_lng <= box.east  # type: ignore[operator]
