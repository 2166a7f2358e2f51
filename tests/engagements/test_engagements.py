"""Engagements over HTTP: a union admin records an expert's long-term role at an enterprise and
the trainings under it; the enterprise's contacts see them, nobody else does."""

from __future__ import annotations

import httpx

from models.accounts import StaffRole
from models.audit import AuditEntry
from models.orgs import Org
from models.service_orders.tables import OrderStatus
from tests.factories.common import assert_error, bearer, login_staff, login_worker
from tests.factories.enterprises import bound_expert, enterprise_with_contact
from tests.factories.report import order_with_expert
from tests.factories.service_orders import accepted, expert_of, placed_order, union
from tests.factories.unions import demo_org, make_staff


async def test_an_engagement_and_its_training_are_seen_by_the_contact(api: httpx.AsyncClient) -> None:
    world = await order_with_expert(api, OrderStatus.CLOSED)
    admin = bearer(world.admin_token)
    body = {
        "enterprise_id": world.enterprise_id,
        "expert_id": world.expert_id,
        "role": "首席质量官",
        "starts_on": "2024-04-30",
        "ends_on": None,
        "order_id": world.order_id,
    }
    created = await api.post("/api/v1/admin/engagements", json=body, headers=admin)
    assert created.status_code == 201, created.text
    engagement = created.json()
    assert engagement["role"] == "首席质量官" and engagement["expert_name"] == "张国明"
    assert engagement["org_id"] == world.org.id and engagement["trainings"] == []
    training = await api.post(
        f"/api/v1/admin/engagements/{engagement['id']}/trainings",
        json={"topic": "精益生产与质量追溯", "held_on": "2025-03-10", "attendees": 36},
        headers=admin,
    )
    assert training.status_code == 201, training.text
    assert training.json()["held_on"] == "2025-03-10"

    seen = await api.get(f"/api/v1/enterprises/{world.enterprise_id}/engagements", headers=bearer(world.contact_token))
    assert seen.status_code == 200
    (mine,) = seen.json()["items"]
    assert (mine["id"], mine["role"], mine["starts_on"], mine["ends_on"]) == (
        engagement["id"],
        "首席质量官",
        "2024-04-30",
        None,
    )
    assert [(t["topic"], t["held_on"], t["attendees"]) for t in mine["trainings"]] == [
        ("精益生产与质量追溯", "2025-03-10", 36)
    ]
    stranger, _ = await login_worker(api)
    assert_error(
        await api.get(f"/api/v1/enterprises/{world.enterprise_id}/engagements", headers=bearer(stranger)),
        404,
        "record.not_found",
    )
    other_contact, _ = await enterprise_with_contact(api, world.org.id)
    assert_error(
        await api.get(f"/api/v1/enterprises/{world.enterprise_id}/engagements", headers=bearer(other_contact)),
        404,
        "record.not_found",
    )

    # Caseworkers of the subtree read them by enterprise or expert; they do not record them.
    caseworker = await login_staff(api, (await make_staff(world.org)).username)
    listed = await api.get(
        "/api/v1/admin/engagements", params={"expert_id": world.expert_id}, headers=bearer(caseworker)
    )
    assert [e["id"] for e in listed.json()["items"]] == [engagement["id"]] and listed.json()["total"] == 1
    by_enterprise = await api.get(
        "/api/v1/admin/engagements", params={"enterprise_id": world.enterprise_id}, headers=bearer(caseworker)
    )
    assert by_enterprise.json()["items"][0]["trainings"][0]["topic"] == "精益生产与质量追溯"
    assert_error(
        await api.post("/api/v1/admin/engagements", json=body, headers=bearer(caseworker)), 403, "auth.role_forbidden"
    )
    assert await AuditEntry.filter(action="engagement.create", object_id=str(engagement["id"])).exists()
    assert await AuditEntry.filter(action="engagement.training_add", object_id=str(engagement["id"])).exists()

    # Another city's union admin sees none of it.
    outsider = await login_staff(
        api, (await make_staff(await demo_org("深圳市总工会"), StaffRole.UNION_ADMIN)).username
    )
    outside = await api.get(
        "/api/v1/admin/engagements", params={"enterprise_id": world.enterprise_id}, headers=bearer(outsider)
    )
    assert outside.json() == {"items": [], "total": 0}
    assert_error(
        await api.get(f"/api/v1/admin/engagements/{engagement['id']}", headers=bearer(outsider)),
        404,
        "record.not_found",
    )
    assert_error(
        await api.post("/api/v1/admin/engagements", json=body, headers=bearer(outsider)), 404, "record.not_found"
    )


async def test_what_an_engagement_must_hold(api: httpx.AsyncClient) -> None:
    world = await order_with_expert(api, OrderStatus.CLOSED)
    admin = bearer(world.admin_token)
    body = {
        "enterprise_id": world.enterprise_id,
        "expert_id": world.expert_id,
        "role": "首席质量官",
        "starts_on": "2024-04-30",
        "ends_on": "2024-04-29",
    }
    assert_error(await api.post("/api/v1/admin/engagements", json=body, headers=admin), 422, "engagement.period")
    assert_error(
        await api.post("/api/v1/admin/engagements", json={**body, "ends_on": None, "role": "  "}, headers=admin),
        422,
        "engagement.role_required",
    )
    other = await order_with_expert(api, OrderStatus.CLOSED, where=world.where)
    mismatch = {**body, "ends_on": None, "order_id": other.order_id}
    assert_error(
        await api.post("/api/v1/admin/engagements", json=mismatch, headers=admin), 422, "engagement.order_mismatch"
    )
    _, elsewhere = await bound_expert(
        api,
        await login_staff(api, (await make_staff(await demo_org("湛江市总工会"), StaffRole.UNION_ADMIN)).username),
        (await demo_org("湛江市总工会")).id,
    )
    foreign = {**body, "ends_on": None, "expert_id": elsewhere["id"]}
    assert_error(await api.post("/api/v1/admin/engagements", json=foreign, headers=admin), 404, "record.not_found")

    created = await api.post("/api/v1/admin/engagements", json={**body, "ends_on": "2025-04-29"}, headers=admin)
    path = f"/api/v1/admin/engagements/{created.json()['id']}/trainings"
    for held_on in ("2024-04-01", "2025-05-01"):
        outside = await api.post(path, json={"topic": "精益生产", "held_on": held_on, "attendees": 10}, headers=admin)
        assert_error(outside, 422, "engagement.training_outside_period")
    assert (await api.get(f"/api/v1/admin/engagements/{created.json()['id']}", headers=admin)).json()["trainings"] == []


async def test_the_expert_who_did_the_order_may_come_from_another_roster(api: httpx.AsyncClient) -> None:
    where = await union(api)
    neighbour = await union(api)
    city = await Org.get(name="中山市总工会")
    token, expert = await expert_of(api, neighbour, regions=[city.id])
    order = await placed_order(api, where)
    await accepted(api, where, order, (token, expert))
    body = {
        "enterprise_id": order.enterprise["id"],
        "expert_id": expert["id"],
        "role": "质量顾问",
        "starts_on": "2025-01-01",
        "ends_on": None,
    }
    admin = bearer(where.admin)
    # Not on this admin's roster: unknown to them, unless engaged for the order they did.
    unknown = await api.post("/api/v1/admin/engagements", json=body, headers=admin)
    assert_error(unknown, 404, "record.not_found")
    created = await api.post("/api/v1/admin/engagements", json={**body, "order_id": order.id}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["expert_id"] == expert["id"] and created.json()["org_id"] == where.org.id
