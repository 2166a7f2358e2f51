"""Who sees which order: an expert only those offered to or held by them, a contact only their
enterprises', a caseworker only their subtree's (404 outside)."""

from __future__ import annotations

import httpx

from models.service_orders.tables import ServiceOrder
from tests.factories.common import assert_error, bearer, login_staff
from tests.factories.service_orders import accepted, expert_of, offered, placed_order, union
from tests.factories.unions import demo_org, make_staff


async def test_an_expert_sees_only_orders_offered_or_assigned_to_them(api: httpx.AsyncClient) -> None:
    where = await union(api)
    mine, theirs = await expert_of(api, where), await expert_of(api, where)
    held, offered_to_me, elsewhere, unassigned = [await placed_order(api, where) for _ in range(4)]
    await accepted(api, where, held, mine)
    await offered(api, where, offered_to_me, mine[1])
    await offered(api, where, elsewhere, theirs[1])
    auth = bearer(mine[0])
    listed = (await api.get("/api/v1/expert/assignments", headers=auth)).json()
    assert sorted(item["id"] for item in listed["items"]) == sorted([held.id, offered_to_me.id])
    assert listed["total"] == 2
    only_held = (await api.get("/api/v1/expert/assignments", params={"status": "accepted"}, headers=auth)).json()
    assert [item["id"] for item in only_held["items"]] == [held.id] and only_held["items"][0]["respond_by"] is None
    for order in (elsewhere, unassigned):
        assert_error(await api.get(f"/api/v1/expert/assignments/{order.id}", headers=auth), 404, "record.not_found")
        accept = await api.post(f"/api/v1/expert/assignments/{order.id}/accept", headers=auth)
        assert_error(accept, 404, "record.not_found")
    assert (await ServiceOrder.get(id=elsewhere.id)).status == "offered"
    assert (await api.get(f"/api/v1/expert/assignments/{held.id}", headers=auth)).json()["status"] == "accepted"


async def test_a_contact_sees_only_their_enterprises_orders(api: httpx.AsyncClient) -> None:
    where = await union(api)
    ours, other = await placed_order(api, where), await placed_order(api, where)
    listed = (await api.get("/api/v1/service-orders", headers=bearer(ours.contact))).json()
    assert [item["id"] for item in listed["items"]] == [ours.id] and listed["total"] == 1
    for answer in (
        await api.get(f"/api/v1/service-orders/{other.id}", headers=bearer(ours.contact)),
        await api.post(f"/api/v1/service-orders/{other.id}/cancel", json={"reason": "x"}, headers=bearer(ours.contact)),
    ):
        assert_error(answer, 404, "record.not_found")
    assert (await ServiceOrder.get(id=other.id)).status == "submitted"


async def test_a_caseworker_sees_only_their_subtree(api: httpx.AsyncClient) -> None:
    here, there = await union(api), await union(api, "湛江市总工会")
    ours, theirs = await placed_order(api, here), await placed_order(api, there)
    expert = await expert_of(api, here)
    staff = bearer(here.caseworker)
    listed = (await api.get("/api/v1/admin/service-orders", params={"page_size": 100}, headers=staff)).json()
    ids = [item["id"] for item in listed["items"]]
    assert ours.id in ids and theirs.id not in ids
    base = f"/api/v1/admin/service-orders/{theirs.id}"
    for answer in (
        await api.get(base, headers=staff),
        await api.get(f"{base}/candidates", headers=staff),
        await api.post(f"{base}/assign", json={"expert_id": expert[1]["id"]}, headers=staff),
        await api.post(f"{base}/cancel", json={"reason": "x"}, headers=staff),
    ):
        assert_error(answer, 404, "record.not_found")
    assert (await ServiceOrder.get(id=theirs.id)).status == "submitted"
    # Searching finds by enterprise name or title, within the subtree.
    found = (await api.get("/api/v1/admin/service-orders", params={"q": ours.enterprise["name"]}, headers=staff)).json()
    assert [item["id"] for item in found["items"]] == [ours.id]
    # A caseworker higher up (the city) sees the order of the union below.
    city = await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)
    above = (await api.get(f"/api/v1/admin/service-orders/{ours.id}", headers=bearer(city))).json()
    assert above["org"]["id"] == here.org.id
