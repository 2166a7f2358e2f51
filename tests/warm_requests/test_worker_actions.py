"""Reopening within the window (and refused after it), withdrawing (from each open state, refused
once resolved), and transferring (down the subtree, up to the parent, refused outside), over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from models.audit import AuditEntry
from models.notifications.tables import Notification
from models.warm_requests.actions import REOPEN_DAYS, may_reopen
from models.warm_requests.tables import WarmRequest
from server.clock import SHANGHAI, now
from tests.factories.common import assert_error, bearer, login_staff, login_worker
from tests.factories.unions import demo_org, make_org, make_staff
from tests.factories.warm_requests import help_request

RESOLVED = datetime(2026, 10, 9, 17, 0, tzinfo=SHANGHAI)


def test_the_reopen_window_is_seven_days_from_resolution() -> None:
    assert REOPEN_DAYS == 7
    assert may_reopen(RESOLVED, RESOLVED)
    assert may_reopen(RESOLVED, RESOLVED + timedelta(days=7))
    assert not may_reopen(RESOLVED, RESOLVED + timedelta(days=7, seconds=1))
    assert not may_reopen(None, RESOLVED)


async def resolved_request(api: httpx.AsyncClient) -> tuple[str, str, int]:
    """A request its union resolved: (worker token, staff token, request id)."""
    org = await make_org(await demo_org("中山市总工会"))
    token, created = await help_request(api, org.id)
    staff = await login_staff(api, (await make_staff(org)).username)
    answer = await api.post(
        f"/api/v1/admin/warm-requests/{created['id']}/resolve", json={"resolution": "已协调"}, headers=bearer(staff)
    )
    assert answer.json()["status"] == "resolved"
    return token, staff, created["id"]


async def test_reopen_within_the_window_and_refused_after_it(api: httpx.AsyncClient) -> None:
    token, staff, request_id = await resolved_request(api)
    path = f"/api/v1/warm-requests/{request_id}"
    assert_error(
        await api.post(f"{path}/reopen", json={"reason": "  "}, headers=bearer(token)), 422, "warm_request.empty"
    )
    reopened = await api.post(f"{path}/reopen", json={"reason": "钱还没有到账"}, headers=bearer(token))
    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert body["status"] == "in_progress" and body["sla"]["state"] == "on_track"
    assert body["messages"][-1]["content"] == "钱还没有到账" and body["timeline"][-1]["action"] == "reopen"

    # Resolved again, eight days ago: too late to reopen, and nothing changes.
    again = await api.post(
        f"/api/v1/admin/warm-requests/{request_id}/resolve", json={"resolution": "已到账"}, headers=bearer(staff)
    )
    assert again.json()["status"] == "resolved"
    await WarmRequest.filter(id=request_id).update(resolved_at=now() - timedelta(days=REOPEN_DAYS, hours=1))
    late = await api.post(f"{path}/reopen", json={"reason": "又少了"}, headers=bearer(token))
    assert_error(late, 422, "warm_request.reopen_expired")
    stored = await WarmRequest.get(id=request_id)
    assert stored.status == "resolved"
    # Six days ago is still within it.
    await WarmRequest.filter(id=request_id).update(resolved_at=now() - timedelta(days=REOPEN_DAYS - 1))
    assert (await api.post(f"{path}/reopen", json={"reason": "又少了"}, headers=bearer(token))).status_code == 200
    # Rated (closed) or never resolved: no reopening.
    await api.post(
        f"/api/v1/admin/warm-requests/{request_id}/resolve", json={"resolution": "补齐"}, headers=bearer(staff)
    )
    assert (await api.post(f"{path}/rating", json={"score": 4}, headers=bearer(token))).status_code == 201
    closed = await api.post(f"{path}/reopen", json={"reason": "再看看"}, headers=bearer(token))
    assert_error(closed, 409, "warm_request.invalid_transition")
    fresh_token, created = await help_request(api, (await make_org(await demo_org("中山市总工会"))).id)
    open_one = await api.post(
        f"/api/v1/warm-requests/{created['id']}/reopen", json={"reason": "x"}, headers=bearer(fresh_token)
    )
    assert_error(open_one, 409, "warm_request.invalid_transition")
    # Someone else's request does not exist for them.
    stranger, _ = await login_worker(api)
    assert_error(
        await api.post(f"{path}/reopen", json={"reason": "x"}, headers=bearer(stranger)), 404, "warm_request.not_found"
    )


async def test_withdraw_from_each_open_state_and_not_once_resolved(api: httpx.AsyncClient) -> None:
    org = await make_org(await demo_org("中山市总工会"))
    staff = await login_staff(api, (await make_staff(org)).username)
    steps = {
        "submitted": [],
        "assigned": [("assign", {})],
        "in_progress": [("assign", {}), ("reply", {"content": "在办"})],
        "waiting_worker": [("request-info", {"content": "请补充"})],
    }
    for state, moves in steps.items():
        token, created = await help_request(api, org.id)
        for action, body in moves:
            moved = await api.post(
                f"/api/v1/admin/warm-requests/{created['id']}/{action}", json=body, headers=bearer(staff)
            )
            assert moved.status_code == 200, moved.text
        assert (await WarmRequest.get(id=created["id"])).status == state
        withdrawn = await api.post(f"/api/v1/warm-requests/{created['id']}/withdraw", headers=bearer(token))
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["timeline"][-1]["action"] == "withdraw"
        again = await api.post(f"/api/v1/warm-requests/{created['id']}/withdraw", headers=bearer(token))
        assert_error(again, 409, "warm_request.invalid_transition")
        # The union can no longer act on it.
        late = await api.post(
            f"/api/v1/admin/warm-requests/{created['id']}/reply", json={"content": "?"}, headers=bearer(staff)
        )
        assert_error(late, 409, "warm_request.invalid_transition")

    token, _, request_id = await resolved_request(api)
    refused = await api.post(f"/api/v1/warm-requests/{request_id}/withdraw", headers=bearer(token))
    assert_error(refused, 409, "warm_request.invalid_transition")
    assert (await WarmRequest.get(id=request_id)).status == "resolved"
    stranger, _ = await login_worker(api)
    assert_error(
        await api.post(f"/api/v1/warm-requests/{request_id}/withdraw", headers=bearer(stranger)),
        404,
        "warm_request.not_found",
    )


async def test_transfer_down_the_subtree_up_to_the_parent_and_not_outside(api: httpx.AsyncClient) -> None:
    city = await make_org(await demo_org("中山市总工会"))
    town = await make_org(city)
    other_town = await make_org(city)
    city_staff = await login_staff(api, (await make_staff(city)).username)
    town_staff = await login_staff(api, (await make_staff(town)).username)
    _, created = await help_request(api, city.id)
    request_id = created["id"]
    admin_path = f"/api/v1/admin/warm-requests/{request_id}"
    await api.post(f"{admin_path}/assign", json={}, headers=bearer(city_staff))

    down = await api.post(f"{admin_path}/transfer", json={"org_id": town.id}, headers=bearer(city_staff))
    assert down.status_code == 200, down.text
    assert down.json()["org"]["id"] == town.id and down.json()["status"] == "assigned"
    stored = await WarmRequest.get(id=request_id)
    assert stored.org_id == town.id and stored.assignee_id is None
    entry = await AuditEntry.filter(action="warm_request.transfer", object_id=str(request_id)).first()
    assert entry is not None and entry.after["to_org_id"] == town.id and entry.after["from_org_id"] == city.id
    titles = await Notification.filter(object_type="warm_request", object_id=str(request_id)).values_list(
        "title", flat=True
    )
    assert "求助已转交" in titles

    # The town cannot send it sideways to a union outside its subtree, nor to where it is.
    sideways = await api.post(f"{admin_path}/transfer", json={"org_id": other_town.id}, headers=bearer(town_staff))
    assert_error(sideways, 404, "org.not_found")
    assert_error(
        await api.post(f"{admin_path}/transfer", json={"org_id": town.id}, headers=bearer(town_staff)),
        422,
        "warm_request.same_org",
    )
    for elsewhere in ((await demo_org("湛江市总工会")).id, 2**40):
        answer = await api.post(f"{admin_path}/transfer", json={"org_id": elsewhere}, headers=bearer(city_staff))
        assert_error(answer, 404, "org.not_found")
    assert (await WarmRequest.get(id=request_id)).org_id == town.id

    # Up to the parent: then it has left the town's subtree.
    up = await api.post(f"{admin_path}/transfer", json={"org_id": city.id}, headers=bearer(town_staff))
    assert up.status_code == 200, up.text
    assert up.json()["org"]["id"] == city.id
    assert_error(await api.get(admin_path, headers=bearer(town_staff)), 404, "record.not_found")
    # A caseworker outside cannot transfer what they cannot see; a resolved request stays put.
    outsider = await login_staff(api, (await make_staff(await demo_org("湛江市总工会"))).username)
    assert_error(
        await api.post(f"{admin_path}/transfer", json={"org_id": city.id}, headers=bearer(outsider)),
        404,
        "record.not_found",
    )
    await api.post(f"{admin_path}/resolve", json={"resolution": "已办结"}, headers=bearer(city_staff))
    closed = await api.post(f"{admin_path}/transfer", json={"org_id": town.id}, headers=bearer(city_staff))
    assert_error(closed, 409, "warm_request.invalid_transition")
