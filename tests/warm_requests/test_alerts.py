"""A breach tells both unions on their desk (and whoever held the request); staff read their
subtree's unread alerts over the API and mark them read."""

from __future__ import annotations

from datetime import datetime

import httpx

from models.audit import AuditEntry
from models.kernel.timers import sweep_timers
from models.notifications.staff_alerts import alert_union
from models.notifications.tables import StaffAlert
from models.warm_requests import actions, sla  # noqa: F401 - actions registers the breach handler
from models.warm_requests.tables import WarmRequest
from server.clock import SHANGHAI
from tests.factories.common import assert_error, bearer, login_staff, login_worker
from tests.factories.unions import demo_org, make_org, make_staff


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


async def test_a_breach_alerts_the_union_it_left_the_holder_and_the_parent(api: httpx.AsyncClient) -> None:
    city = await make_org(await demo_org("中山市总工会"))
    town = await make_org(city)
    holder = await make_staff(town)
    _, login = await login_worker(api)
    started = at(10, 9, 17)  # Friday 17:00; the first response (4 working hours) is due Saturday 12:00
    request = await WarmRequest.create(
        user_id=login["user"]["id"],
        org_id=town.id,
        request_type="legal_aid",
        description="拖欠工资",
        values={},
        assignee_id=holder.id,
        created_at=started,
    )
    await sla.start_clocks(request, started)
    while len(await sweep_timers(at(10, 10, 12, 30))) >= 200:
        pass
    alerts = await StaffAlert.filter(case_type="warm_request", case_id=request.id).order_by("id")
    assert [(a.org_id, a.staff_id, a.kind) for a in alerts] == [
        (town.id, holder.id, "warm_request.breached"),
        (city.id, None, "warm_request.breached"),
    ]
    assert alerts[0].title == f"法律援助求助 #{request.id} 超时，已上报{city.name}"
    assert alerts[0].body == "首次响应超时，已上报上级工会"
    await sweep_timers(at(10, 10, 13))  # swept again: no second pair
    assert await StaffAlert.filter(case_type="warm_request", case_id=request.id).count() == 2

    # The town's caseworker sees the town's alert; the city's sees both (its subtree).
    town_token = await login_staff(api, holder.username)
    city_token = await login_staff(api, (await make_staff(city)).username)
    seen = (await api.get("/api/v1/admin/alerts", headers=bearer(town_token))).json()
    assert [item["id"] for item in seen["items"]] == [alerts[0].id] and seen["total"] == 1
    assert seen["items"][0]["link"] == f"/admin/warm-requests/{request.id}"
    city_seen = (await api.get("/api/v1/admin/alerts", headers=bearer(city_token))).json()
    assert {item["id"] for item in city_seen["items"]} == {a.id for a in alerts}

    read = await api.post(f"/api/v1/admin/alerts/{alerts[0].id}/read", headers=bearer(town_token))
    assert read.status_code == 200, read.text
    stored = await StaffAlert.get(id=alerts[0].id)
    assert stored.read_by_id == holder.id and stored.read_at is not None
    audited = await AuditEntry.get(action="alert.read", actor_id=holder.id)
    assert audited.after["alert_id"] == stored.id and audited.org_id == stored.org_id
    assert (await api.get("/api/v1/admin/alerts", headers=bearer(town_token))).json()["total"] == 0
    # The parent's alert is not the town's to read.
    assert_error(
        await api.post(f"/api/v1/admin/alerts/{alerts[1].id}/read", headers=bearer(town_token)), 404, "alert.not_found"
    )


async def test_alerts_page_in_order_and_link_by_case_type(api: httpx.AsyncClient) -> None:
    org = await make_org(await demo_org("深圳市总工会"))
    token = await login_staff(api, (await make_staff(org)).username)
    made = [
        await alert_union(org.id, "service_order.offer_expired", "service_order", 7, "派单超时", "", at(11, 2, 9, n))
        for n in range(3)
    ]
    await alert_union(org.id, "other.thing", "unknown_case", 1, "其他", "", at(11, 2, 10))
    first = (await api.get("/api/v1/admin/alerts", params={"page_size": 2}, headers=bearer(token))).json()
    assert first["total"] == 4 and first["items"][0]["link"] is None  # newest first; no page for that case type
    second = (await api.get("/api/v1/admin/alerts", params={"page": 2, "page_size": 2}, headers=bearer(token))).json()
    assert [item["id"] for item in first["items"][1:] + second["items"]] == [a.id for a in reversed(made)]
    assert second["items"][0]["link"] == "/admin/service-orders/7"
