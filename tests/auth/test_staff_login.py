"""Staff login by token and by cookie session, CSRF, disabled accounts, passwords. The limits on
failed logins are in test_rate_limits.py."""

from __future__ import annotations

import httpx

from models.accounts import StaffAccount, StaffRole
from models.audit import AuditEntry
from tests.factories.common import STAFF_PASSWORD, assert_error, bearer, login_staff
from tests.factories.unions import demo_org, make_staff


async def test_login_returns_a_token_for_the_admin_api(api: httpx.AsyncClient) -> None:
    staff = await make_staff(await demo_org("中山市总工会"))
    token = await login_staff(api, staff.username)
    me = await api.get("/api/v1/admin/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["org_name"] == "中山市总工会"
    assert me.json()["role"] == "caseworker"
    assert await AuditEntry.exists(action="staff.login", actor_id=staff.id, org_id=staff.org_id)


async def test_demo_admin_logs_in_with_the_configured_password(api: httpx.AsyncClient, stack) -> None:
    token = await login_staff(api, "admin", stack.env["DEMO_ADMIN_PASSWORD"])
    me = (await api.get("/api/v1/admin/me", headers=bearer(token))).json()
    assert me["role"] == "superadmin" and me["org_name"] == "广东省总工会"


async def test_wrong_password_and_unknown_user_look_the_same(api: httpx.AsyncClient) -> None:
    staff = await make_staff(await demo_org("中山市总工会"))
    wrong = await api.post("/api/v1/admin/auth/login", json={"username": staff.username, "password": "nope"})
    unknown = await api.post("/api/v1/admin/auth/login", json={"username": "no-such-user", "password": "nope"})
    assert assert_error(wrong, 401, "auth.bad_credentials") == assert_error(unknown, 401, "auth.bad_credentials")


async def test_disabled_account_cannot_log_in_and_loses_its_tokens(api: httpx.AsyncClient) -> None:
    staff = await make_staff(await demo_org("佛山市总工会"))
    token = await login_staff(api, staff.username)
    await StaffAccount.filter(id=staff.id).update(is_active=False)
    assert_error(await api.get("/api/v1/admin/me", headers=bearer(token)), 401, "auth.account_disabled")
    again = await api.post("/api/v1/admin/auth/login", json={"username": staff.username, "password": STAFF_PASSWORD})
    assert_error(again, 401, "auth.account_disabled")


async def test_logout_revokes_the_staff_token(api: httpx.AsyncClient) -> None:
    staff = await make_staff(await demo_org("佛山市总工会"))
    token = await login_staff(api, staff.username)
    assert (await api.post("/api/v1/admin/auth/logout", headers=bearer(token))).status_code == 200
    assert_error(await api.get("/api/v1/admin/me", headers=bearer(token)), 401, "auth.token_revoked")


async def test_worker_token_does_not_open_the_admin_api(api: httpx.AsyncClient) -> None:
    from tests.factories.common import login_worker

    token, _ = await login_worker(api)
    # Known and not allowed: 403, so that a client does not take it for a lost login.
    assert_error(await api.get("/api/v1/admin/me", headers=bearer(token)), 403, "auth.wrong_account_kind")


async def test_cookie_session_requires_the_csrf_token_for_writes(stack) -> None:
    staff = await make_staff(await demo_org("湛江市总工会"))
    async with httpx.AsyncClient(base_url=stack.base_url) as browser:
        opened = await browser.post(
            "/api/v1/admin/auth/session", json={"username": staff.username, "password": STAFF_PASSWORD}
        )
        assert opened.status_code == 200
        set_cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=lax" in set_cookie
        csrf = opened.json()["csrf_token"]
        assert (await browser.get("/api/v1/admin/me")).status_code == 200
        assert_error(await browser.post("/api/v1/admin/auth/logout"), 403, "auth.csrf_failed")
        assert_error(
            await browser.post("/api/v1/admin/auth/logout", headers={"X-CSRF-Token": "0" * 64}), 403, "auth.csrf_failed"
        )
        assert (await browser.post("/api/v1/admin/auth/logout", headers={"X-CSRF-Token": csrf})).status_code == 200
        assert_error(await browser.get("/api/v1/admin/me"), 401, "auth.required")


async def test_password_change_clears_the_forced_change(api: httpx.AsyncClient) -> None:
    staff = await make_staff(await demo_org("中山市总工会"), must_change_password=True)
    token = await login_staff(api, staff.username)
    assert (await api.get("/api/v1/admin/me", headers=bearer(token))).json()["must_change_password"] is True
    weak = await api.post(
        "/api/v1/admin/auth/password",
        headers=bearer(token),
        json={"old_password": STAFF_PASSWORD, "new_password": "12345678901"},
    )
    assert_error(weak, 422, "auth.weak_password")
    wrong_old = await api.post(
        "/api/v1/admin/auth/password",
        headers=bearer(token),
        json={"old_password": "wrong", "new_password": "a-new-password-7"},
    )
    assert_error(wrong_old, 422, "auth.bad_old_password")
    changed = await api.post(
        "/api/v1/admin/auth/password",
        headers=bearer(token),
        json={"old_password": STAFF_PASSWORD, "new_password": "a-new-password-7"},
    )
    assert changed.status_code == 200
    assert (await api.get("/api/v1/admin/me", headers=bearer(token))).json()["must_change_password"] is False
    assert await login_staff(api, staff.username, "a-new-password-7")


async def test_role_guard_refuses_caseworkers_on_admin_only_routes(api: httpx.AsyncClient) -> None:
    caseworker = await make_staff(await demo_org("中山市总工会"), StaffRole.CASEWORKER)
    token = await login_staff(api, caseworker.username)
    assert_error(await api.get("/api/v1/admin/audit", headers=bearer(token)), 403, "auth.role_forbidden")
