"""Regression tests for defects found in review: each would have let data out, let a rule be
broken, or turned bad input into a 500."""

from __future__ import annotations

import httpx

from models.accounts import StaffAccount, StaffRole
from tests.factories.common import STAFF_PASSWORD, assert_error, bearer, login_staff, unique
from tests.factories.enrolment import apply
from tests.factories.profiles import make_id_number, profile_body, worker_with_profile
from tests.factories.unions import demo_org, make_org, make_staff


async def test_a_member_cannot_become_a_second_member_by_changing_id_number(api: httpx.AsyncClient) -> None:
    org = await demo_org("中山市新就业形态劳动者工会联合会")
    token, body = await worker_with_profile(api)
    enrolment_id = (await apply(api, token, org.id)).json()["id"]
    changed = await api.put("/api/v1/me/profile", json={**body, "id_number": make_id_number()}, headers=bearer(token))
    assert_error(changed, 409, "profile.id_number_locked")
    staff_token = await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)
    await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token))
    still_locked = await api.put(
        "/api/v1/me/profile", json={**body, "id_number": make_id_number()}, headers=bearer(token)
    )
    assert_error(still_locked, 409, "profile.id_number_locked")
    same_number = await api.put("/api/v1/me/profile", json={**body, "city": "佛山市"}, headers=bearer(token))
    assert same_number.status_code == 200
    assert_error(await apply(api, token, (await demo_org("雷州市总工会")).id), 409, "enrolment.already_member")


async def test_temporary_passwords_block_the_admin_api_and_a_new_password_ends_other_sessions(
    api: httpx.AsyncClient,
) -> None:
    staff = await make_staff(await demo_org("佛山市总工会"), must_change_password=True)
    first = await login_staff(api, staff.username)
    second = await login_staff(api, staff.username)
    assert_error(await api.get("/api/v1/admin/enrolments", headers=bearer(first)), 403, "auth.password_change_required")
    assert (await api.get("/api/v1/admin/me", headers=bearer(first))).status_code == 200
    changed = await api.post(
        "/api/v1/admin/auth/password",
        headers=bearer(first),
        json={"old_password": STAFF_PASSWORD, "new_password": "another-password-8"},
    )
    assert changed.status_code == 200
    assert (await api.get("/api/v1/admin/enrolments", headers=bearer(first))).status_code == 200
    assert_error(await api.get("/api/v1/admin/me", headers=bearer(second)), 401, "auth.token_revoked")


async def test_a_union_admin_cannot_disable_a_peer_or_a_superadmin(stack) -> None:
    org = await demo_org("湛江市总工会")
    admin = await make_staff(org, StaffRole.UNION_ADMIN)
    peer = await make_staff(org, StaffRole.UNION_ADMIN)
    superadmin = await make_staff(org, StaffRole.SUPERADMIN)
    caseworker = await make_staff(org)
    async with httpx.AsyncClient(base_url=stack.base_url) as browser:
        csrf = (
            await browser.post(
                "/api/v1/admin/auth/session", json={"username": admin.username, "password": STAFF_PASSWORD}
            )
        ).json()["csrf_token"]
        for target in (peer, superadmin):
            answer = await browser.post(f"/admin/accounts/{target.id}", data={"action": "disable", "csrf_token": csrf})
            assert answer.status_code == 403 and "同级或更高级别" in answer.text
        done = await browser.post(f"/admin/accounts/{caseworker.id}", data={"action": "disable", "csrf_token": csrf})
        assert done.status_code == 302


async def test_consent_only_for_known_templates(api: httpx.AsyncClient) -> None:
    token, _ = await worker_with_profile(api)
    answer = await api.post("/api/v1/me/subscriptions", json={"results": {"x" * 300: "accept"}}, headers=bearer(token))
    assert_error(answer, 422, "subscription.unknown_template")


async def test_admin_pages_are_never_framed_or_cached(stack) -> None:
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        page = await client.get("/admin/login")
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_list_filters_outside_the_subtree_are_404(api: httpx.AsyncClient) -> None:
    token = await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)
    shenzhen = await demo_org("深圳市总工会")
    for path in ("/api/v1/admin/enrolments", "/api/v1/admin/members", "/api/v1/admin/stats"):
        assert_error(await api.get(path, params={"org_id": shenzhen.id}, headers=bearer(token)), 404, "org.not_found")


def test_profile_body_factory_makes_valid_people() -> None:
    body = profile_body()
    assert len(body["id_number"]) == 18 and body["phone"].startswith("13")


async def test_a_union_admin_grants_only_what_they_can_manage(stack) -> None:
    """Union admins of the unions below, yes; a peer at their own union, no: otherwise they
    could create an account they then cannot disable."""
    org = await demo_org("中山市总工会")
    below = await make_org(org)
    admin = await make_staff(org, StaffRole.UNION_ADMIN)
    caseworker_here, caseworker_below = await make_staff(org), await make_staff(below)
    async with httpx.AsyncClient(base_url=stack.base_url) as browser:
        csrf = (
            await browser.post(
                "/api/v1/admin/auth/session", json={"username": admin.username, "password": STAFF_PASSWORD}
            )
        ).json()["csrf_token"]

        async def create(org_id: int) -> tuple[httpx.Response, str]:
            username = unique("ua")
            form = {"username": username, "role": "union_admin", "org_id": str(org_id), "csrf_token": csrf}
            return await browser.post("/admin/accounts", data=form), username

        async def update(staff_id: int, **form: str) -> httpx.Response:
            return await browser.post(f"/admin/accounts/{staff_id}", data={**form, "csrf_token": csrf})

        refused, username = await create(org.id)
        assert refused.status_code == 403 and "无权授予该角色" in refused.text
        assert not await StaffAccount.exists(username=username)
        promote_here = await update(caseworker_here.id, role="union_admin")
        assert promote_here.status_code == 403
        assert (await StaffAccount.get(id=caseworker_here.id)).role == StaffRole.CASEWORKER

        created, username = await create(below.id)
        assert created.status_code == 200
        granted = await StaffAccount.get(username=username)
        assert granted.role == StaffRole.UNION_ADMIN and granted.org_id == below.id
        assert (await update(granted.id, action="disable")).status_code == 302
        assert (await update(caseworker_below.id, role="union_admin")).status_code == 302
        assert (await update(caseworker_below.id, action="disable")).status_code == 302
        assert not (await StaffAccount.get(id=caseworker_below.id)).is_active
