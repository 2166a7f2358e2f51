"""Every admin route checks role and subtree on the server, and every write checks CSRF.

A reusable matrix in the netbox manner: each page for anonymous visitors, caseworkers and union
admins; each record page and action in and out of the subtree; every admin API route without a
token.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from models.accounts import StaffRole
from models.membership.tables import Membership
from models.notifications.tables import Broadcast, NotificationDelivery
from tests.factories.common import STAFF_PASSWORD, bearer
from tests.factories.enrolment import apply
from tests.factories.enterprises import enterprise_with_contact, expert_on_roster
from tests.factories.profiles import worker_with_profile
from tests.factories.stations import lonely_spot, make_station
from tests.factories.unions import demo_org, make_staff


@dataclass
class Browser:
    client: httpx.AsyncClient
    csrf: str


async def browser_as(stack, username: str) -> Browser:
    client = httpx.AsyncClient(base_url=stack.base_url, timeout=20, follow_redirects=False)
    opened = await client.post("/api/v1/admin/auth/session", json={"username": username, "password": STAFF_PASSWORD})
    assert opened.status_code == 200, opened.text
    return Browser(client, opened.json()["csrf_token"])


@dataclass
class World:
    """Records inside 中山 (the viewers' subtree) and inside 深圳 (outside it)."""

    caseworker: Browser
    union_admin: Browser
    inside: dict[str, int]
    outside: dict[str, int]


async def _records(api: httpx.AsyncClient, org_name: str, city_name: str) -> dict[str, int]:
    org = await demo_org(org_name)
    approver = await make_staff(await demo_org(city_name), StaffRole.UNION_ADMIN)
    staff_token = (
        await api.post("/api/v1/admin/auth/login", json={"username": approver.username, "password": STAFF_PASSWORD})
    ).json()["token"]
    token, _ = await worker_with_profile(api)
    approved = (await apply(api, token, org.id)).json()["id"]
    await api.post(f"/api/v1/admin/enrolments/{approved}/approve", headers=bearer(staff_token))
    other, _ = await worker_with_profile(api)
    waiting = (await apply(api, other, org.id)).json()["id"]
    member = await Membership.get(enrolment_id=approved)
    delivery = await NotificationDelivery.filter(org_id=org.id).order_by("-id").first()
    broadcast = await Broadcast.create(org_id=org.id, title="通知", body="内容", created_by_id=approver.id)
    _, enterprise = await enterprise_with_contact(api, org.id)
    expert = await expert_on_roster(api, staff_token, org.id)
    station = await make_station(org, *lonely_spot())
    return {
        "station": station.id,
        "enrolment": waiting,
        "member": member.id,
        "delivery": delivery.id if delivery else 0,
        "broadcast": broadcast.id,
        "org": org.id,
        "staff": approver.id,
        "enterprise": enterprise["id"],
        "expert": expert["id"],
    }


@pytest.fixture(scope="module")
async def world(stack) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=20) as api:
        inside = await _records(api, "东区街道总工会", "中山市总工会")
        outside = await _records(api, "华强北街道总工会", "深圳市总工会")
    caseworker = await browser_as(stack, (await make_staff(await demo_org("中山市总工会"))).username)
    admin = await browser_as(stack, (await make_staff(await demo_org("中山市总工会"), StaffRole.UNION_ADMIN)).username)
    yield World(caseworker, admin, inside, outside)
    await caseworker.client.aclose()
    await admin.client.aclose()


EVERYONE = [
    "/admin/",
    "/admin/enrolments",
    "/admin/enrolments/export",
    "/admin/members",
    "/admin/members/export",
    "/admin/appeals",
    "/admin/warm-requests",
    "/admin/service-orders",
    "/admin/notifications",
    "/admin/broadcasts/new",
    "/admin/broadcasts",
    "/admin/orgs",
    "/admin/engagements",
    "/admin/password",
    "/admin/enterprises",
    "/admin/experts",
    "/admin/stations",
    "/admin/alerts",
]
ADMINS_ONLY = [
    "/admin/accounts",
    "/admin/audit",
    "/admin/audit/export",
    "/admin/jobs",
    "/admin/sla-policies",
    "/admin/stations/new",
    "/admin/experts/new",
    "/admin/reasons",
]


@pytest.mark.parametrize("path", EVERYONE + ADMINS_ONLY)
async def test_anonymous_visitors_are_sent_to_login(stack, path: str) -> None:
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        answer = await client.get(path)
    assert answer.status_code == 302 and answer.headers["location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("path", EVERYONE + ADMINS_ONLY)
async def test_pages_by_role(world: World, path: str) -> None:
    assert (await world.union_admin.client.get(path)).status_code == 200
    expected = 403 if path in ADMINS_ONLY else 200
    answer = await world.caseworker.client.get(path)
    assert answer.status_code == expected
    if expected == 403:
        assert "无权" in answer.text


RECORD_PAGES = [
    "/admin/enrolments/{enrolment}",
    "/admin/members/{member}",
    "/admin/broadcasts/{broadcast}",
    "/admin/orgs?parent_id={org}",
    "/admin/enterprises/{enterprise}",
    "/admin/experts/{expert}",
    "/admin/orgs/{org}/service",
    "/admin/stations/{station}",
]


@pytest.mark.parametrize("pattern", RECORD_PAGES)
async def test_record_pages_inside_and_outside_the_subtree(world: World, pattern: str) -> None:
    for viewer in (world.caseworker, world.union_admin):
        assert (await viewer.client.get(pattern.format(**world.inside))).status_code == 200
        outside = await viewer.client.get(pattern.format(**world.outside))
        assert outside.status_code == 404 and "找不到这个页面" in outside.text


ACTIONS = [
    ("/admin/enrolments/{enrolment}/approve", {}),
    ("/admin/enrolments/{enrolment}/reject", {"reason": "x"}),
    ("/admin/enrolments/{enrolment}/return", {"reason": "x"}),
    ("/admin/enrolments/{enrolment}/reveal-id", {}),
    ("/admin/notifications/{delivery}/resend", {}),
    ("/admin/enterprises/{enterprise}/verify", {}),
    ("/admin/experts/{expert}/invite", {}),
    ("/admin/experts/{expert}", {"name": "改名的专家", "max_active_orders": "2"}),
    ("/admin/stations/{station}/deactivate", {}),
    ("/admin/stations/{station}", {"name": "改名的驿站"}),
    ("/admin/orgs/{org}/service", {"lat": "22.5", "lng": "113.4", "radius_m": "1000"}),
    ("/admin/orgs/{org}", {"name": "改名的工会"}),
    ("/admin/orgs/{org}/children", {"name": "新工会", "org_type": "enterprise"}),
    ("/admin/accounts/{staff}", {"action": "disable"}),
]


@pytest.mark.parametrize(("pattern", "form"), ACTIONS)
async def test_actions_outside_the_subtree_are_404_and_change_nothing(world: World, pattern: str, form: dict) -> None:
    before = (await world.union_admin.client.get(f"/admin/enrolments/{world.outside['enrolment']}")).status_code
    answer = await world.union_admin.client.post(
        pattern.format(**world.outside), data={**form, "csrf_token": world.union_admin.csrf}
    )
    assert answer.status_code == 404
    assert before == 404
    from models.enrolment.tables import Enrolment

    assert (await Enrolment.get(id=world.outside["enrolment"])).status == "submitted"


@pytest.mark.parametrize(("pattern", "form"), ACTIONS)
async def test_writes_without_the_csrf_token_are_refused(world: World, pattern: str, form: dict) -> None:
    missing = await world.union_admin.client.post(pattern.format(**world.inside), data=form)
    assert missing.status_code == 403 and "页面已过期" in missing.text
    forged = await world.union_admin.client.post(pattern.format(**world.inside), data={**form, "csrf_token": "0" * 64})
    assert forged.status_code == 403
    from models.enrolment.tables import Enrolment

    assert (await Enrolment.get(id=world.inside["enrolment"])).status == "submitted"


async def test_caseworkers_cannot_manage_the_tree_or_accounts(world: World) -> None:
    for pattern, form in ACTIONS[-3:]:
        answer = await world.caseworker.client.post(
            pattern.format(**world.inside), data={**form, "csrf_token": world.caseworker.csrf}
        )
        assert answer.status_code == 403


async def test_login_form_needs_its_own_csrf_token(stack) -> None:
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        answer = await client.post("/admin/login", data={"username": "admin", "password": "x", "csrf_token": "forged"})
    assert answer.status_code == 403 and "页面已过期" in answer.text


async def test_every_admin_api_route_needs_a_staff_token(api: httpx.AsyncClient) -> None:
    document = (await api.get("/api/v1/openapi.json")).json()
    checked = 0
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1/admin/") or path in ("/api/v1/admin/auth/login", "/api/v1/admin/auth/session"):
            continue
        # Every path parameter is an id, except the calendar's day.
        concrete = re.sub(r"\{[^}]+\}", "1", path.replace("{day}", "2026-01-01"))
        for method in operations:
            answer = await api.request(method.upper(), concrete, json={})
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.json()["error"]["code"] == "auth.required"
            checked += 1
    assert checked >= 20


async def test_job_failures_page_shows_the_subtree_and_retries(world: World) -> None:
    from models.kernel.jobs import JobFailure, record_failure
    from models.notifications.tables import DeliveryStatus
    from tests.kernel.factories import queued_messages

    org_id = world.inside["org"]
    (delivery_id,) = (await queued_messages(1, org_id)).values()
    await NotificationDelivery.filter(id=delivery_id).update(status=DeliveryStatus.FAILED, last_error="internal: x")
    await record_failure("notifications", "notification_delivery", delivery_id, "internal: 页面测试", org_id)
    await record_failure("broadcasts", "broadcast", 2**62 - 9, "DoesNotExist: 页面测试", world.outside["org"])
    inside = await JobFailure.get(item_type="notification_delivery", item_id=str(delivery_id))
    outside = await JobFailure.get(item_type="broadcast", item_id=str(2**62 - 9))

    listed = await world.union_admin.client.get("/admin/jobs")
    assert listed.status_code == 200
    assert f"/admin/jobs/{inside.id}/retry" in listed.text and f"/admin/jobs/{outside.id}/" not in listed.text
    forged = await world.union_admin.client.post(f"/admin/jobs/{inside.id}/retry", data={})
    assert forged.status_code == 403
    foreign = await world.union_admin.client.post(
        f"/admin/jobs/{outside.id}/resolve", data={"csrf_token": world.union_admin.csrf}
    )
    assert foreign.status_code == 404
    assert (await JobFailure.get(id=outside.id)).resolved_at is None
    retried = await world.union_admin.client.post(
        f"/admin/jobs/{inside.id}/retry", data={"csrf_token": world.union_admin.csrf}
    )
    assert retried.status_code == 302 and retried.headers["location"] == "/admin/jobs?notice=retry"
    assert (await JobFailure.get(id=inside.id)).resolution == "retried"
    assert (await NotificationDelivery.get(id=delivery_id)).status != DeliveryStatus.FAILED
    # Seen failing again while the item is queued: a retry has nothing to requeue, and changes nothing.
    await record_failure("notifications", "notification_delivery", delivery_id, "internal: 页面测试", org_id)
    await NotificationDelivery.filter(id=delivery_id).update(status=DeliveryStatus.PENDING)
    again = await world.union_admin.client.post(
        f"/admin/jobs/{inside.id}/retry", data={"csrf_token": world.union_admin.csrf}
    )
    assert again.headers["location"] == "/admin/jobs?notice=job.item_not_failed"
    reopened = await JobFailure.get(id=inside.id)
    assert reopened.resolved_at is None and reopened.attempts == 2
    assert (await world.caseworker.client.get("/admin/jobs")).status_code == 403
