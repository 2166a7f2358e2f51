"""Warm-service requests over HTTP: fields, routing, the life of a request, and its SLA."""

from __future__ import annotations

import httpx

from models.accounts import StaffRole
from models.audit import AuditEntry
from models.kernel.history import history_of
from models.notifications.tables import Notification
from models.warm_requests.tables import WarmRequest
from server.clock import now
from tests.factories.common import assert_error, bearer, login_staff, login_worker
from tests.factories.unions import demo_org, make_org, make_staff
from tests.factories.warm_requests import LEGAL_AID, help_request


async def test_fields_are_checked_by_type_and_shown_with_labels(api: httpx.AsyncClient) -> None:
    token, _ = await login_worker(api)
    org = await demo_org("中山市总工会")
    for body, code in (
        ({**LEGAL_AID, "type": "astrology"}, "warm_request.type"),
        ({**LEGAL_AID, "fields": {"employer": "某站"}}, "warm_request.field"),
        ({**LEGAL_AID, "fields": {**LEGAL_AID["fields"], "dispute_kind": "weather"}}, "warm_request.field"),
        ({**LEGAL_AID, "fields": {**LEGAL_AID["fields"], "amount_owed": "很多"}}, "warm_request.field"),
        ({**LEGAL_AID, "fields": {**LEGAL_AID["fields"], "since": "2026-13-01"}}, "warm_request.field"),
        ({**LEGAL_AID, "fields": {**LEGAL_AID["fields"], "shoe_size": 42}}, "warm_request.unknown_field"),
    ):
        answer = await api.post("/api/v1/warm-requests", json={**body, "org_id": org.id}, headers=bearer(token))
        assert_error(answer, 422, code)
    assert (await api.get("/api/v1/warm-requests", headers=bearer(token))).json()["total"] == 0
    catalogue = (await api.get("/api/v1/catalogue")).json()["warm_request_types"]
    legal = next(t for t in catalogue if t["code"] == "legal_aid")
    assert [f["name"] for f in legal["fields"]] == ["dispute_kind", "employer", "amount_owed", "since"]

    _, created = await help_request(api, org.id)
    staff = await login_staff(api, (await make_staff(org)).username)
    detail = (await api.get(f"/api/v1/admin/warm-requests/{created['id']}", headers=bearer(staff))).json()
    assert {f["label"]: f["value"] for f in detail["fields"]} == {
        "纠纷类型": "拖欠工资/劳务报酬",
        "用工单位或平台": "某配送站",
        "涉及金额（元）": 8600,
        "起始日期": "2026-08-01",
    }


async def test_the_life_of_a_request(api: httpx.AsyncClient) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    token, created = await help_request(api, org.id)
    request_id = created["id"]
    assert created["status"] == "submitted" and created["sla"]["state"] == "on_track"
    staff_account = await make_staff(org)
    staff = await login_staff(api, staff_account.username)
    path = f"/api/v1/admin/warm-requests/{request_id}"

    unassigned = (
        await api.get("/api/v1/admin/warm-requests", params={"assignee": "none"}, headers=bearer(staff))
    ).json()
    assert request_id in [item["id"] for item in unassigned["items"]]
    claimed = await api.post(f"{path}/assign", json={}, headers=bearer(staff))
    assert claimed.json()["status"] == "assigned"
    mine = (await api.get("/api/v1/admin/warm-requests", params={"assignee": "me"}, headers=bearer(staff))).json()
    assert [item["id"] for item in mine["items"]] == [request_id]

    replied = await api.post(f"{path}/reply", json={"content": "已联系配送站核实"}, headers=bearer(staff))
    assert replied.json()["status"] == "in_progress"
    asked = await api.post(f"{path}/request-info", json={"content": "请上传工资条照片"}, headers=bearer(staff))
    assert asked.json()["status"] == "waiting_worker" and asked.json()["sla"]["state"] == "paused"
    answered = await api.post(
        f"/api/v1/warm-requests/{request_id}/messages", json={"content": "已上传"}, headers=bearer(token)
    )
    assert answered.json()["status"] == "in_progress" and answered.json()["sla"]["state"] == "on_track"
    resolved = await api.post(f"{path}/resolve", json={"resolution": "配送站已补发 8600 元"}, headers=bearer(staff))
    assert resolved.json()["status"] == "resolved" and resolved.json()["sla"]["state"] == "met"
    assert_error(
        await api.post(f"{path}/reply", json={"content": "再说一句"}, headers=bearer(staff)),
        409,
        "warm_request.invalid_transition",
    )

    rated = await api.post(
        f"/api/v1/warm-requests/{request_id}/rating", json={"score": 5, "comment": "很及时"}, headers=bearer(token)
    )
    assert rated.status_code == 201, rated.text
    again = await api.post(f"/api/v1/warm-requests/{request_id}/rating", json={"score": 1}, headers=bearer(token))
    assert again.status_code == 409

    detail = (await api.get(f"/api/v1/warm-requests/{request_id}", headers=bearer(token))).json()
    assert detail["status"] == "closed"
    figures = (await api.get("/api/v1/admin/stats", params={"org_id": org.id}, headers=bearer(staff))).json()
    assert figures["warm_requests"]["by_status"]["closed"] == 1 and figures["warm_requests"]["breached"] == 0
    assert figures["satisfaction"] == {
        "average": 5.0,
        "count": 1,
        "by_service": {"warm_request": {"average": 5.0, "count": 1}},
        "by_month": [{"month": now().strftime("%Y-%m"), "service_kind": "warm_request", "average": 5.0, "count": 1}],
    }
    assert [m["author"] for m in detail["messages"]] == ["union", "union", "worker"]
    assert [(t["action"], t["actor"]) for t in detail["timeline"]] == [
        ("submit", "worker"),
        ("assign", "union"),
        ("reply", "union"),
        ("request_info", "union"),
        ("worker_answers", "worker"),
        ("resolve", "union"),
        ("rate", "worker"),
    ]
    titles = await Notification.filter(object_type="warm_request", object_id=str(request_id)).values_list(
        "title", flat=True
    )
    assert {"工会回复了您的求助", "请补充求助信息", "求助已办结"} <= set(titles)
    # Another union's caseworker does not see it at all.
    outsider = await login_staff(api, (await make_staff(await demo_org("湛江市总工会"))).username)
    assert_error(await api.get(path, headers=bearer(outsider)), 404, "record.not_found")
    other_worker, _ = await login_worker(api)
    assert (await api.get(f"/api/v1/warm-requests/{request_id}", headers=bearer(other_worker))).status_code == 404


async def test_assignment_within_the_union_and_round_robin(api: httpx.AsyncClient) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    team = [await make_staff(org) for _ in range(2)]
    lead = await login_staff(api, (await make_staff(org, StaffRole.UNION_ADMIN)).username)
    first = (await help_request(api, org.id))[1]["id"]
    second = (await help_request(api, org.id))[1]["id"]
    for request_id in (first, second):
        answer = await api.post(
            f"/api/v1/admin/warm-requests/{request_id}/assign", json={"round_robin": True}, headers=bearer(lead)
        )
        assert answer.status_code == 200, answer.text
    holders = [(await WarmRequest.get(id=request_id)).assignee_id for request_id in (first, second)]
    assert holders == [team[0].id, team[1].id]  # in turn, by id; the admin who assigns comes third
    assert (await history_of("warm_request", first))[-1].data["assignee"] == team[0].display_name
    stranger = await make_staff(await demo_org("湛江市总工会"))
    refused = await api.post(
        f"/api/v1/admin/warm-requests/{first}/assign", json={"staff_id": stranger.id}, headers=bearer(lead)
    )
    assert_error(refused, 422, "warm_request.assignee")


async def test_sla_policies_nearest_up_the_tree(api: httpx.AsyncClient) -> None:
    city = await make_org(await demo_org("中山市总工会"))
    town = await make_org(city)
    admin = await login_staff(api, (await make_staff(city, StaffRole.UNION_ADMIN)).username)
    caseworker = await login_staff(api, (await make_staff(city)).username)
    policy = {
        "org_id": city.id,
        "request_type": "counselling",
        "calendar": "24x7",
        "first_response_minutes": 30,
        "resolution_minutes": 600,
    }
    assert (await api.put("/api/v1/admin/sla-policies", json=policy, headers=bearer(admin))).status_code == 200
    assert_error(
        await api.put("/api/v1/admin/sla-policies", json=policy, headers=bearer(caseworker)), 403, "auth.role_forbidden"
    )
    seen = (await api.get("/api/v1/admin/sla-policies", params={"org_id": town.id}, headers=bearer(admin))).json()
    counselling = next(item for item in seen["items"] if item["request_type"] == "counselling")
    assert counselling == {
        **{k: policy[k] for k in ("request_type", "calendar", "first_response_minutes", "resolution_minutes")},
        "source_org_id": city.id,
    }
    legal = next(item for item in seen["items"] if item["request_type"] == "legal_aid")
    assert legal["source_org_id"] is None and legal["calendar"] == "workdays"
    bad = await api.put(
        "/api/v1/admin/sla-policies", json={**policy, "first_response_minutes": 700}, headers=bearer(admin)
    )
    assert_error(bad, 422, "sla.targets")
    elsewhere = {**policy, "org_id": (await demo_org("湛江市总工会")).id}
    assert_error(
        await api.put("/api/v1/admin/sla-policies", json=elsewhere, headers=bearer(admin)), 404, "org.not_found"
    )
    # Each save is audited with what it replaced; refused ones leave no entry.
    changed = {**policy, "resolution_minutes": 900}
    saved = await api.put("/api/v1/admin/sla-policies", json=changed, headers=bearer(admin))
    assert saved.status_code == 200
    in_force = {k: changed[k] for k in ("request_type", "calendar", "first_response_minutes", "resolution_minutes")}
    assert saved.json() == {**in_force, "source_org_id": city.id}
    seen = (await api.get("/api/v1/admin/sla-policies", params={"org_id": town.id}, headers=bearer(admin))).json()
    assert next(item for item in seen["items"] if item["request_type"] == "counselling") == saved.json()
    entries = await AuditEntry.filter(action="sla.policy_set", org_id=city.id).order_by("id")
    assert [entry.before for entry in entries] == [None, {"calendar": "24x7", "first": 30, "resolution": 600}]
    assert entries[1].after["resolution"] == 900
