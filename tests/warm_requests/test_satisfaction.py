"""Ratings of help requests and of station visits in the figures: average and count by union
subtree, service kind and month, in /api/v1/admin/stats."""

from __future__ import annotations

from datetime import datetime

import httpx

from models.kernel.ratings import Served, rate
from server.clock import SHANGHAI, now
from tests.factories.common import bearer, login_staff, login_worker
from tests.factories.stations import code_for, lonely_spot, make_station
from tests.factories.unions import demo_org, make_org, make_staff
from tests.factories.warm_requests import help_request


async def test_request_and_station_ratings_by_subtree_service_and_month(api: httpx.AsyncClient, stack) -> None:
    city = await make_org(await demo_org("中山市总工会"))
    town = await make_org(city)
    sibling = await make_org(await demo_org("中山市总工会"))
    staff = await login_staff(api, (await make_staff(town)).username)

    token, created = await help_request(api, town.id)
    path = f"/api/v1/admin/warm-requests/{created['id']}"
    assert (
        await api.post(f"{path}/resolve", json={"resolution": "已协调补发"}, headers=bearer(staff))
    ).status_code == 200
    rated = await api.post(f"/api/v1/warm-requests/{created['id']}/rating", json={"score": 2}, headers=bearer(token))
    assert rated.status_code == 201, rated.text

    station = await make_station(town, *lonely_spot())
    visitor, _ = await login_worker(api)
    visit = await api.post(
        f"/api/v1/stations/{station.id}/check-ins", json={"code": code_for(stack, station.id)}, headers=bearer(visitor)
    )
    assert visit.status_code == 201, visit.text
    scored = await api.post(
        f"/api/v1/stations/check-ins/{visit.json()['id']}/rating", json={"score": 5}, headers=bearer(visitor)
    )
    assert scored.status_code == 201, scored.text
    # A station visit rated in January (the instant passed), for the month breakdown.
    await rate(
        case_type="station_check_in",
        case_id=2**40 + station.id,
        rater_user_id=1,
        service_kind="station_visit",
        served=Served("station", station.id),
        org_id=town.id,
        score=3,
        comment="",
        tags=[],
        at=datetime(2026, 1, 31, 23, 30, tzinfo=SHANGHAI),
    )

    admin = await login_staff(api, (await make_staff(city)).username)
    figures = (await api.get("/api/v1/admin/stats", params={"org_id": city.id}, headers=bearer(admin))).json()
    satisfaction = figures["satisfaction"]
    assert satisfaction["count"] == 3 and satisfaction["average"] == round(10 / 3, 2)
    assert satisfaction["by_service"] == {
        "warm_request": {"average": 2.0, "count": 1},
        "station_visit": {"average": 4.0, "count": 2},
    }
    this_month = now().strftime("%Y-%m")
    assert sorted(
        (m["month"], m["service_kind"], m["average"], m["count"]) for m in satisfaction["by_month"]
    ) == sorted(
        [
            (this_month, "station_visit", 5.0, 1),
            (this_month, "warm_request", 2.0, 1),
            ("2026-01", "station_visit", 3.0, 1),
        ]
    )
    assert satisfaction["by_month"][0]["month"] == this_month  # newest first
    # The town's own figures are the same; a sibling union's have none of them.
    town_figures = (await api.get("/api/v1/admin/stats", params={"org_id": town.id}, headers=bearer(admin))).json()
    assert town_figures["satisfaction"] == satisfaction
    zhongshan = await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)
    sibling_figures = (
        await api.get("/api/v1/admin/stats", params={"org_id": sibling.id}, headers=bearer(zhongshan))
    ).json()
    assert sibling_figures["satisfaction"] == {"average": None, "count": 0, "by_service": {}, "by_month": []}
