"""Steps refused over HTTP: in the wrong state (409), by the wrong person (403), and the rules
an assignment must meet. A refused step changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from models.kernel.history import CaseEvent
from models.notifications.tables import StaffAlert
from models.service_orders.tables import ServiceOrder
from server.clock import now
from tests.factories.common import assert_error, bearer, login_worker
from tests.factories.service_orders import (
    VISIT,
    accepted,
    delivered,
    expert_of,
    in_progress,
    offered,
    placed_order,
    union,
)


async def _status(order_id: int) -> str:
    return (await ServiceOrder.get(id=order_id)).status.value


async def test_steps_out_of_order_are_409(api: httpx.AsyncClient) -> None:
    where = await union(api)
    expert = await expert_of(api, where)
    order = await placed_order(api, where)
    contact, auth = bearer(order.contact), bearer(expert[0])
    path = f"/api/v1/service-orders/{order.id}"
    conflict = "service_order.invalid_transition"
    # submitted: nothing for the expert or the contact's later steps.
    assert_error(await api.post(f"{path}/confirm", json={"outcome": "通过"}, headers=contact), 409, conflict)
    assert_error(await api.post(f"{path}/rating", json={"score": 5}, headers=contact), 409, conflict)
    await offered(api, where, order, expert[1])
    # offered: another offer, a visit or a delivery before accepting are refused.
    again = await api.post(
        f"/api/v1/admin/service-orders/{order.id}/assign",
        json={"expert_id": expert[1]["id"]},
        headers=bearer(where.caseworker),
    )
    assert_error(again, 409, conflict)
    visit = {**VISIT, "visited_at": now().isoformat()}
    assert_error(await api.post(f"{path}/visits", json=visit, headers=auth), 409, conflict)
    assert_error(await api.post(f"{path}/deliver", headers=auth), 409, conflict)
    await api.post(f"/api/v1/expert/assignments/{order.id}/accept", headers=auth)
    # accepted: a second accept, a decline, a delivery before the first visit.
    assert_error(await api.post(f"/api/v1/expert/assignments/{order.id}/accept", headers=auth), 409, conflict)
    declined = await api.post(f"/api/v1/expert/assignments/{order.id}/decline", json={"reason": "x"}, headers=auth)
    assert_error(declined, 409, conflict)
    assert_error(await api.post(f"{path}/deliver", headers=auth), 409, conflict)
    assert await _status(order.id) == "accepted"
    await api.post(f"{path}/visits", json=visit, headers=auth)
    # in progress: the enterprise can no longer cancel; the union can. Delivery needs items.
    assert_error(await api.post(f"{path}/cancel", json={"reason": "不需要了"}, headers=contact), 409, conflict)
    assert_error(await api.post(f"{path}/deliver", headers=auth), 409, "service_order.report_empty")
    assert await _status(order.id) == "in_progress"


async def test_after_delivery(api: httpx.AsyncClient) -> None:
    where = await union(api)
    expert = await expert_of(api, where)
    order = await placed_order(api, where)
    await delivered(api, where, order, expert)
    path, contact = f"/api/v1/service-orders/{order.id}", bearer(order.contact)
    conflict = "service_order.invalid_transition"
    assert_error(await api.post(f"{path}/deliver", headers=bearer(expert[0])), 409, conflict)
    assert_error(await api.post(f"{path}/rating", json={"score": 4}, headers=contact), 409, conflict)
    assert_error(await api.post(f"{path}/cancel", json={"reason": "x"}, headers=contact), 409, conflict)
    await api.post(f"{path}/confirm", json={"outcome": "验厂通过"}, headers=contact)
    assert_error(await api.post(f"{path}/confirm", json={"outcome": "再确认"}, headers=contact), 409, conflict)
    bad = await api.post(f"{path}/rating", json={"score": 6}, headers=contact)
    assert bad.status_code == 422
    assert (await api.post(f"{path}/rating", json={"score": 4}, headers=contact)).status_code == 201
    assert_error(await api.post(f"{path}/rating", json={"score": 4}, headers=contact), 409, conflict)
    cancel = await api.post(
        f"/api/v1/admin/service-orders/{order.id}/cancel", json={"reason": "x"}, headers=bearer(where.caseworker)
    )
    assert_error(cancel, 409, conflict)
    assert await _status(order.id) == "closed"


async def test_the_wrong_person_is_refused(api: httpx.AsyncClient) -> None:
    where = await union(api)
    expert = await expert_of(api, where)
    order = await placed_order(api, where)
    await offered(api, where, order, expert[1])
    worker, _ = await login_worker(api)
    # A worker who is not a bound expert cannot use the expert's doors (the contact neither).
    for token in (worker, order.contact):
        for answer in (
            await api.get("/api/v1/expert/assignments", headers=bearer(token)),
            await api.post(f"/api/v1/expert/assignments/{order.id}/accept", headers=bearer(token)),
            await api.post(f"/api/v1/service-orders/{order.id}/deliver", headers=bearer(token)),
        ):
            assert_error(answer, 403, "expert.required")
    # The expert is not the enterprise's contact: its doors do not show the order.
    for answer in (
        await api.post(f"/api/v1/service-orders/{order.id}/cancel", json={"reason": "x"}, headers=bearer(expert[0])),
        await api.get(f"/api/v1/service-orders/{order.id}", headers=bearer(expert[0])),
    ):
        assert_error(answer, 404, "record.not_found")
    # Workers have no business in the admin API.
    refused = await api.post(
        f"/api/v1/admin/service-orders/{order.id}/cancel", json={"reason": "x"}, headers=bearer(order.contact)
    )
    assert refused.status_code in (401, 403) and refused.json()["error"]["code"].startswith("auth.")
    assert await _status(order.id) == "offered"


async def test_what_an_assignment_needs(api: httpx.AsyncClient) -> None:
    where = await union(api)
    staff = bearer(where.caseworker)
    pending = await placed_order(api, where, verified=False)
    expert = await expert_of(api, where, max_active_orders=1)
    assign = f"/api/v1/admin/service-orders/{pending.id}/assign"
    assert_error(
        await api.post(assign, json={"expert_id": expert[1]["id"]}, headers=staff), 409, "enterprise.not_verified"
    )
    assert await _status(pending.id) == "submitted"
    # Full: the expert holds one order of one allowed.
    first = await placed_order(api, where)
    await accepted(api, where, first, expert)
    second = await placed_order(api, where)
    full = await api.post(
        f"/api/v1/admin/service-orders/{second.id}/assign", json={"expert_id": expert[1]["id"]}, headers=staff
    )
    assert_error(full, 409, "service_order.expert_full")
    # An expert of another city, serving only it, is not one this caseworker may send.
    elsewhere = await union(api, "湛江市总工会")
    _, stranger = await expert_of(api, elsewhere)
    answer = await api.post(
        f"/api/v1/admin/service-orders/{second.id}/assign", json={"expert_id": stranger["id"]}, headers=staff
    )
    assert_error(answer, 404, "expert.not_found")
    # A visit cannot be dated in the future.
    await in_progress(api, where, await placed_order(api, where), await expert_of(api, where))
    third = await placed_order(api, where)
    other = await expert_of(api, where)
    await accepted(api, where, third, other)
    future = await api.post(
        f"/api/v1/service-orders/{third.id}/visits",
        json={**VISIT, "visited_at": (now() + timedelta(days=2)).isoformat()},
        headers=bearer(other[0]),
    )
    assert_error(future, 422, "service_order.visit_future")
    bad_place = await api.post(
        f"/api/v1/service-orders/{third.id}/visits",
        json={**VISIT, "places": ["moon"], "visited_at": now().isoformat()},
        headers=bearer(other[0]),
    )
    assert_error(bad_place, 422, "catalogue.unknown_place")
    placed_at = (await ServiceOrder.get(id=third.id)).created_at
    too_early = await api.post(
        f"/api/v1/service-orders/{third.id}/visits",
        json={**VISIT, "visited_at": (placed_at - timedelta(days=1)).isoformat()},
        headers=bearer(other[0]),
    )
    assert_error(too_early, 422, "service_order.visit_before_order")
    assert await _status(third.id) == "accepted"


async def test_two_visits_recorded_at_once_are_a_first_visit_and_another(api: httpx.AsyncClient) -> None:
    where = await union(api)
    expert = await expert_of(api, where)
    order = await placed_order(api, where)
    await accepted(api, where, order, expert)
    path = f"/api/v1/service-orders/{order.id}/visits"
    both = await asyncio.gather(
        *(api.post(path, json={**VISIT, "visited_at": now().isoformat()}, headers=bearer(expert[0])) for _ in range(2))
    )
    assert [answer.status_code for answer in both] == [201, 201], [answer.text for answer in both]
    assert await _status(order.id) == "in_progress"
    steps = (
        await CaseEvent.filter(case_type="service_order", case_id=order.id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert steps[-2:] == ["first_visit", "visit"]


async def test_cancelling(api: httpx.AsyncClient) -> None:
    where = await union(api)
    expert = await expert_of(api, where)
    # The enterprise calls it off while it is offered: the offer ends with it.
    order = await placed_order(api, where)
    await offered(api, where, order, expert[1])
    called_off = await api.post(
        f"/api/v1/service-orders/{order.id}/cancel", json={"reason": "客户推迟验厂"}, headers=bearer(order.contact)
    )
    assert called_off.json()["status"] == "cancelled" and called_off.json()["cancel_reason"] == "客户推迟验厂"
    assert called_off.json()["deadline"]["state"] == "stopped"
    mine = (await api.get("/api/v1/expert/assignments", headers=bearer(expert[0]))).json()
    assert order.id not in [item["id"] for item in mine["items"]]
    told = await StaffAlert.get(case_type="service_order", case_id=order.id, kind="service_order.cancel")
    assert told.org_id == where.org.id and "客户推迟验厂" in told.body
    # The union cancels one in progress, with a reason.
    running = await placed_order(api, where)
    await in_progress(api, where, running, expert)
    staff = bearer(where.caseworker)
    no_reason = await api.post(f"/api/v1/admin/service-orders/{running.id}/cancel", json={"reason": ""}, headers=staff)
    assert no_reason.status_code == 422
    cancelled = await api.post(
        f"/api/v1/admin/service-orders/{running.id}/cancel", json={"reason": "企业停产"}, headers=staff
    )
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["timeline"][-1]["action"] == "cancel_by_union"
    assert not await StaffAlert.exists(case_type="service_order", case_id=running.id, kind="service_order.cancel")
