"""An order's life over HTTP: placed by a contact, offered by a caseworker, accepted by the
expert, visited, delivered, confirmed and rated; what each party is told along the way."""

from __future__ import annotations

from datetime import timedelta

import httpx

from models.kernel.ratings import Rating
from models.notifications.tables import Notification, StaffAlert
from models.service_orders.tables import ServiceOrder
from server.clock import now
from tests.factories.common import assert_error, bearer, login_worker
from tests.factories.enterprises import enterprise_with_contact
from tests.factories.service_orders import VISIT, expert_of, order_body, placed_order, report_items, union


async def test_an_order_from_placing_to_rating(api: httpx.AsyncClient) -> None:
    where = await union(api)
    expert_token, expert = await expert_of(
        api,
        where,
        name="张国明",
        years=29,
        patents={"us_invention": 3, "cn_invention": 12, "utility_model": 4},
        standards={"national": 2, "group": 10},
    )
    order = await placed_order(api, where)
    contact = bearer(order.contact)
    mine = (await api.get(f"/api/v1/service-orders/{order.id}", headers=contact)).json()
    assert mine["status"] == "submitted" and mine["category_label"] == "验厂辅导"
    assert mine["deadline"]["state"] == "on_track" and mine["expert"] is None
    assert mine["needs"]["skills"] == [
        {"code": "factory_audit", "label": "验厂"},
        {"code": "quality_system", "label": "质量体系"},
    ]

    staff = bearer(where.caseworker)
    queue = (await api.get("/api/v1/admin/service-orders", params={"status": "submitted"}, headers=staff)).json()
    listed = next(item for item in queue["items"] if item["id"] == order.id)
    assert listed["waiting_minutes"] >= 0 and listed["deadline"]["label"] == "正常"
    ranked = (await api.get(f"/api/v1/admin/service-orders/{order.id}/candidates", headers=staff)).json()
    assert ranked["items"][0]["expert_id"] == expert["id"]
    offered = await api.post(
        f"/api/v1/admin/service-orders/{order.id}/assign", json={"expert_id": expert["id"]}, headers=staff
    )
    assert offered.status_code == 200 and offered.json()["status"] == "offered"
    assert offered.json()["offer"]["expert"]["name"] == "张国明"
    # The contact does not see whom it is offered to until the expert accepts.
    assert (await api.get(f"/api/v1/service-orders/{order.id}", headers=contact)).json()["offer"] is None

    expert_auth = bearer(expert_token)
    waiting = (await api.get("/api/v1/expert/assignments", params={"status": "offered"}, headers=expert_auth)).json()
    assert [item["id"] for item in waiting["items"]] == [order.id]
    respond_by = waiting["items"][0]["respond_by"]
    assert respond_by is not None and waiting["items"][0]["enterprise_address"]
    accepted = await api.post(f"/api/v1/expert/assignments/{order.id}/accept", headers=expert_auth)
    assert accepted.json()["status"] == "accepted" and accepted.json()["expert"]["name"] == "张国明"

    visit = await api.post(
        f"/api/v1/service-orders/{order.id}/visits",
        json={**VISIT, "visited_at": (now() - timedelta(minutes=1)).isoformat()},
        headers=expert_auth,
    )
    assert visit.status_code == 201 and [p["label"] for p in visit.json()["places"]] == ["实验室", "生产车间", "仓库"]
    again = await api.post(
        f"/api/v1/service-orders/{order.id}/visits",
        json={"visited_at": now().isoformat(), "places": ["production_line"], "summary": "复查工艺参数落实情况"},
        headers=expert_auth,
    )
    assert again.status_code == 201
    await report_items(api, order.id, expert_token, 6)
    delivered = (await api.post(f"/api/v1/service-orders/{order.id}/deliver", headers=expert_auth)).json()
    assert delivered["status"] == "delivered" and delivered["deadline"]["state"] == "met"

    seen = (await api.get(f"/api/v1/service-orders/{order.id}", headers=contact)).json()
    assert seen["report_items_count"] == 6 and len(seen["visits"]) == 2
    assert seen["expert_profile"]["name"] == "张国明" and seen["expert_profile"]["years"] == 29
    confirmed = await api.post(
        f"/api/v1/service-orders/{order.id}/confirm",
        json={"outcome": "客户验厂通过", "note": "一周后通过验厂，订单随之而来"},
        headers=contact,
    )
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["outcome"] == "客户验厂通过"
    rated = await api.post(
        f"/api/v1/service-orders/{order.id}/rating", json={"score": 5, "comment": "专业、及时"}, headers=contact
    )
    assert rated.status_code == 201
    closed = (await api.get(f"/api/v1/service-orders/{order.id}", headers=contact)).json()
    assert closed["status"] == "closed" and closed["waiting_minutes"] is None
    assert [(t["action"], t["actor"]) for t in closed["timeline"]] == [
        ("submit", "enterprise"),
        ("offer", "union"),
        ("accept", "expert"),
        ("first_visit", "expert"),
        ("visit", "expert"),
        ("deliver", "expert"),
        ("confirm", "enterprise"),
        ("rate", "enterprise"),
    ]
    assert closed["timeline"][6]["note"] == "客户验厂通过"
    rating = await Rating.get(case_type="service_order", case_id=order.id)
    assert (rating.served_kind, rating.served_id, rating.score) == ("expert", expert["id"], 5)

    # The expert's rating shows in the next order's matching panel.
    second = await placed_order(api, where)
    ranked = (await api.get(f"/api/v1/admin/service-orders/{second.id}/candidates", headers=staff)).json()
    mine = next(item for item in ranked["items"] if item["expert_id"] == expert["id"])
    assert mine["rating"] == 5.0 and "历史评分 5.0（1 次）" in [r["label"] for r in mine["reasons"]]

    stats = (await api.get("/api/v1/admin/stats", params={"org_id": where.org.id}, headers=staff)).json()
    assert stats["service_orders"]["by_status"]["closed"] == 1
    assert stats["service_orders"]["by_status"]["submitted"] == 1
    assert stats["satisfaction"]["by_service"]["service_order"] == {"average": 5.0, "count": 1}


async def test_each_party_is_told(api: httpx.AsyncClient) -> None:
    where = await union(api)
    expert_token, expert = await expert_of(api, where)
    order = await placed_order(api, where)
    staff = bearer(where.caseworker)
    # A new order is on the union's desk at once.
    placed = await StaffAlert.get(case_type="service_order", case_id=order.id, kind="service_order.submit")
    assert placed.org_id == where.org.id and "客户验厂辅导" in placed.body
    await api.post(f"/api/v1/admin/service-orders/{order.id}/assign", json={"expert_id": expert["id"]}, headers=staff)
    contact_user = (await ServiceOrder.get(id=order.id)).created_by_id
    offer_notes = await Notification.filter(object_type="service_order", object_id=str(order.id)).values_list(
        "event", "user_id"
    )
    assert ("service_order.submit", contact_user) in offer_notes
    assert any(event == "service_order.expert_offer" for event, _ in offer_notes)

    await api.post(
        f"/api/v1/expert/assignments/{order.id}/decline", json={"reason": "本周在外地"}, headers=bearer(expert_token)
    )
    alert = await StaffAlert.get(case_type="service_order", case_id=order.id, kind="service_order.decline")
    assert alert.org_id == where.org.id and "本周在外地" in alert.body
    await api.post(f"/api/v1/admin/service-orders/{order.id}/assign", json={"expert_id": expert["id"]}, headers=staff)
    await api.post(f"/api/v1/expert/assignments/{order.id}/accept", headers=bearer(expert_token))
    inbox = (await api.get("/api/v1/me/inbox", headers=bearer(order.contact))).json()["items"]
    titles = [item["title"] for item in inbox if item["object_id"] == str(order.id)]
    assert "专家已接单" in titles and "服务订单已提交" in titles
    # Experts and contacts are asked to consent to the template that carries these events.
    subscriptions = (await api.get("/api/v1/me/subscriptions", headers=bearer(order.contact))).json()["items"]
    assert any("service_order.*" in item["events"] for item in subscriptions)


async def test_placing_checks_what_it_is_given(api: httpx.AsyncClient) -> None:
    where = await union(api)
    contact, enterprise = await enterprise_with_contact(api, where.org.id)
    auth = bearer(contact)
    yesterday = (now().date() - timedelta(days=1)).isoformat()
    for body, status, code in (
        (order_body(enterprise["id"], category="astrology"), 422, "service_order.category"),
        (order_body(enterprise["id"], deadline=yesterday), 422, "service_order.deadline_past"),
        (
            order_body(enterprise["id"], needs={"industries": ["magic"], "skills": []}),
            422,
            "catalogue.unknown_industry",
        ),
        (
            order_body(enterprise["id"], needs={"industries": [], "skills": ["juggling"]}),
            422,
            "catalogue.unknown_skill",
        ),
        (order_body(enterprise["id"], title="   "), 422, "service_order.empty"),
    ):
        assert_error(await api.post("/api/v1/service-orders", json=body, headers=auth), status, code)
    assert (await api.get("/api/v1/service-orders", headers=auth)).json()["total"] == 0
    # Only a contact of the enterprise orders for it.
    stranger, _ = await login_worker(api)
    answer = await api.post("/api/v1/service-orders", json=order_body(enterprise["id"]), headers=bearer(stranger))
    assert_error(answer, 404, "record.not_found")
    # Ordering today for today is fine; an unverified enterprise may order (dispatch waits).
    today = await api.post(
        "/api/v1/service-orders", json=order_body(enterprise["id"], deadline=now().date().isoformat()), headers=auth
    )
    assert today.status_code == 201 and today.json()["deadline"]["state"] in ("on_track", "at_risk")


async def test_a_retried_order_is_placed_once(api: httpx.AsyncClient) -> None:
    where = await union(api)
    contact, enterprise = await enterprise_with_contact(api, where.org.id)
    headers = {**bearer(contact), "Idempotency-Key": "order-retry-1"}
    first = await api.post("/api/v1/service-orders", json=order_body(enterprise["id"]), headers=headers)
    second = await api.post("/api/v1/service-orders", json=order_body(enterprise["id"]), headers=headers)
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    assert await ServiceOrder.filter(enterprise_id=enterprise["id"]).count() == 1
