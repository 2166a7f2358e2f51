"""Offers that are declined or run out, and the enterprise's deadline, at instants passed in."""

from __future__ import annotations

from datetime import timedelta

import httpx

from models.experts.tables import Expert
from models.kernel.assignment import Assignment, AssignmentState, expire_offers
from models.notifications.tables import Notification, StaffAlert
from models.service_orders import actions  # also registers the offer timeout in this process
from models.service_orders.deadline import deadline_views, due_at
from models.service_orders.tables import ServiceOrder
from server.clock import SHANGHAI, now
from tests.factories.common import assert_error, bearer
from tests.factories.service_orders import delivered, expert_of, offered, placed_order, union


async def test_an_offer_that_runs_out_goes_back_to_matching(api: httpx.AsyncClient) -> None:
    where = await union(api)
    expert = await expert_of(api, where)
    order = await placed_order(api, where)
    await offered(api, where, order, expert[1])
    offer = await Assignment.get(case_type="service_order", case_id=order.id, state=AssignmentState.OFFERED)
    assert offer.respond_by is not None
    # Not yet due: nothing happens.
    await expire_offers(offer.respond_by - timedelta(minutes=1))
    assert (await ServiceOrder.get(id=order.id)).status == "offered"
    failures = await expire_offers(offer.respond_by + timedelta(minutes=1))
    assert offer.id not in [f.assignment_id for f in failures]
    assert (await ServiceOrder.get(id=order.id)).status == "matching"
    assert (await Assignment.get(id=offer.id)).state == AssignmentState.EXPIRED
    alert = await StaffAlert.get(case_type="service_order", case_id=order.id, kind="service_order.offer_expired")
    assert alert.org_id == where.org.id and "未在期限内答复" in alert.body
    # The expert is told the offer is gone.
    told = await Notification.get(
        object_type="service_order", object_id=str(order.id), event="service_order.expert_offer_expired"
    )
    assert told.user_id == (await Expert.get(id=expert[1]["id"])).user_id
    detail = (await api.get(f"/api/v1/admin/service-orders/{order.id}", headers=bearer(where.caseworker))).json()
    step = detail["timeline"][-1]
    assert (step["action"], step["actor"], step["to_status"]) == ("offer_expired", "system", "matching")
    # The expert no longer sees it; a late accept finds nothing.
    late = await api.post(f"/api/v1/expert/assignments/{order.id}/accept", headers=bearer(expert[0]))
    assert_error(late, 404, "record.not_found")
    # The caseworker offers it again from matching; the matching panel remembers.
    ranked = (
        await api.get(f"/api/v1/admin/service-orders/{order.id}/candidates", headers=bearer(where.caseworker))
    ).json()
    first = next(item for item in ranked["items"] if item["expert_id"] == expert[1]["id"])
    assert "declined_before" in [w["code"] for w in first["warnings"]]
    other = await expert_of(api, where)
    assert (await offered(api, where, order, other[1]))["status"] == "offered"


async def test_a_declined_offer_goes_back_to_matching(api: httpx.AsyncClient) -> None:
    where = await union(api)
    expert = await expert_of(api, where)
    order = await placed_order(api, where)
    await offered(api, where, order, expert[1])
    empty = await api.post(
        f"/api/v1/expert/assignments/{order.id}/decline", json={"reason": " "}, headers=bearer(expert[0])
    )
    assert_error(empty, 422, "service_order.empty")
    declined = await api.post(
        f"/api/v1/expert/assignments/{order.id}/decline", json={"reason": "档期冲突"}, headers=bearer(expert[0])
    )
    assert declined.status_code == 200 and declined.json()["status"] == "matching"
    assert (await Assignment.get(case_type="service_order", case_id=order.id)).state == AssignmentState.DECLINED
    mine = (await api.get("/api/v1/expert/assignments", headers=bearer(expert[0]))).json()
    assert order.id not in [item["id"] for item in mine["items"]]
    # The reason is for the union: the enterprise sees the decline happen, not why.
    staff_view = (await api.get(f"/api/v1/admin/service-orders/{order.id}", headers=bearer(where.caseworker))).json()
    assert [(s["action"], s["note"]) for s in staff_view["timeline"] if s["action"] == "decline"] == [
        ("decline", "档期冲突")
    ]
    contact_view = (await api.get(f"/api/v1/service-orders/{order.id}", headers=bearer(order.contact))).json()
    assert [(s["action"], s["note"]) for s in contact_view["timeline"] if s["action"] == "decline"] == [("decline", "")]
    assert "档期冲突" not in str(contact_view)


async def test_the_deadline_at_given_instants(api: httpx.AsyncClient) -> None:
    where = await union(api)
    deadline = now().date() + timedelta(days=10)
    order = await placed_order(api, where, deadline=deadline.isoformat())
    due = due_at(deadline)
    assert due.tzinfo is not None and due.astimezone(SHANGHAI).hour == 0
    placed = (await ServiceOrder.get(id=order.id)).created_at
    span = due - placed
    views = lambda at: deadline_views([order.id], at)  # noqa: E731
    assert (await views(placed + span * 0.5))[order.id].state == "on_track"
    at_risk = (await views(placed + span * 0.9))[order.id]
    assert at_risk.state == "at_risk" and at_risk.label == "临近截止"
    assert abs((at_risk.due_at - due).total_seconds()) < 60
    assert (await views(due + timedelta(hours=1)))[order.id].state == "breached"
    # Delivered in time: met, whatever the instant asked about afterwards.
    expert = await expert_of(api, where)
    await delivered(api, where, order, expert)
    assert (await views(due + timedelta(days=3)))[order.id].state == "met"


async def test_a_deadline_alert_reaches_the_union(api: httpx.AsyncClient) -> None:
    """What the timer sweep hands to the domain for this order's timer: a desk alert."""
    from models.kernel.timers import AlertKind, BreachAction, SlaTimer, TimerAlert

    where = await union(api)
    order = await placed_order(api, where)
    timer = await SlaTimer.get(case_type="service_order", case_id=order.id, kind="deadline")
    await actions.on_deadline_alert(
        TimerAlert(
            timer=timer, kind=AlertKind.AT_RISK, at=now(), actions=frozenset({BreachAction.NOTIFY}), parent_org_id=None
        )
    )
    alert = await StaffAlert.get(case_type="service_order", case_id=order.id, kind="service_order.at_risk")
    assert alert.title == "服务订单临近截止"
