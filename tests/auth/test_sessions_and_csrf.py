"""The staff session cookie behind a TLS proxy and in production, the Origin check on cookie
writes, and 415 for bodies that are not JSON on JSON routes."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from models.audit import AuditEntry
from tests.conftest import Stack, start_servers
from tests.factories.common import STAFF_PASSWORD, assert_error
from tests.factories.unions import demo_org, make_staff

PRODUCTION_SECRETS = {
    "ENVIRONMENT": "production",
    "ID_ENCRYPTION_KEYS": "t1:" + base64.b64encode(os.urandom(32)).decode(),
    "ID_BLIND_INDEX_KEY": "test-blind-index-key-production",
    "MEMBER_CARD_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
    "WECHAT_MINIPROGRAM_SECRET": "test-miniprogram-secret",
    "WECHAT_OFFICIAL_SECRET": "test-official-secret",
    "WECHAT_CALLBACK_TOKEN": "test-callback-token",
}


@pytest.fixture(scope="module")
def servers(stack: Stack) -> Iterator[dict[str, str]]:
    """A development server behind a trusted proxy at 127.0.0.1, and one in production mode
    (the embedded back end names its SQLite file, as production wants a DATABASE_URL)."""
    behind_proxy, (proxied_url,) = start_servers(stack, "server-proxied", TRUSTED_PROXIES="127.0.0.1/32")
    database_url = stack.env.get("DATABASE_URL") or stack.settings.resolved_database_url
    production, (production_url,) = start_servers(
        stack, "server-production", **PRODUCTION_SECRETS, DATABASE_URL=database_url
    )
    yield {"proxied": proxied_url, "production": production_url}
    for server in behind_proxy + production:
        server.stop()


@pytest.fixture
async def staff_username() -> str:
    return (await make_staff(await demo_org("湛江市总工会"))).username


async def open_session(client: httpx.AsyncClient, username: str, **headers: str) -> httpx.Response:
    return await client.post(
        "/api/v1/admin/auth/session", json={"username": username, "password": STAFF_PASSWORD}, headers=headers
    )


def cookie_attributes(answer: httpx.Response) -> tuple[str, set[str]]:
    name_value, *attributes = answer.headers["set-cookie"].split(";")
    return name_value.split("=")[0].strip(), {part.strip().lower() for part in attributes}


async def test_cookie_is_secure_only_when_a_trusted_proxy_says_https(servers, staff_username: str) -> None:
    async with httpx.AsyncClient(base_url=servers["proxied"]) as client:
        name, plain = cookie_attributes(await open_session(client, staff_username))
        assert name == "gh_admin_session" and "secure" not in plain  # make run on plain http still works
        name, tls = cookie_attributes(await open_session(client, staff_username, **{"X-Forwarded-Proto": "https"}))
        assert name == "gh_admin_session" and "secure" in tls and "httponly" in tls
    untrusted = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=servers["proxied"], transport=untrusted) as client:
        _, spoofed = cookie_attributes(await open_session(client, staff_username, **{"X-Forwarded-Proto": "https"}))
        assert "secure" not in spoofed


async def test_production_cookie_is_host_prefixed_and_secure(servers, staff_username: str) -> None:
    async with httpx.AsyncClient(base_url=servers["production"]) as client:
        opened = await open_session(client, staff_username)
        name, attributes = cookie_attributes(opened)
        assert name == "__Host-gh_admin_session"
        assert {"secure", "httponly", "path=/", "samesite=lax"} <= attributes
        assert not any(attribute.startswith("domain") for attribute in attributes)
        token = opened.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        # httpx keeps Secure cookies off plain http, as a browser would; send it as a browser behind TLS would.
        me = await client.get("/api/v1/admin/me", headers={"Cookie": f"__Host-gh_admin_session={token}"})
        assert me.status_code == 200
        planted = await client.get("/api/v1/admin/me", headers={"Cookie": f"gh_admin_session={token}"})
        assert_error(planted, 401, "auth.required")
        form = await client.get("/admin/login")
        assert "__Secure-gh_login_nonce=" in form.headers["set-cookie"]


async def test_the_audit_log_records_the_client_behind_a_trusted_proxy(servers, staff_username: str) -> None:
    async with httpx.AsyncClient(base_url=servers["proxied"]) as client:
        assert (await open_session(client, staff_username, **{"X-Forwarded-For": "203.0.113.80"})).status_code == 200
    untrusted = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=servers["proxied"], transport=untrusted) as client:
        assert (await open_session(client, staff_username, **{"X-Forwarded-For": "203.0.113.81"})).status_code == 200
    logins = AuditEntry.filter(action="staff.login", actor_name=staff_username).order_by("id")
    assert await logins.values_list("ip", flat=True) == ["203.0.113.80", "127.0.0.2"]


@pytest.fixture
async def browser(stack: Stack, staff_username: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        yield client, (await open_session(client, staff_username)).json()["csrf_token"]


async def test_cookie_writes_from_another_site_are_refused(browser: tuple[httpx.AsyncClient, str], stack) -> None:
    client, csrf = browser
    for header in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Referer": "https://evil.example/x"}):
        answer = await client.post("/api/v1/admin/auth/logout", headers={"X-CSRF-Token": csrf, **header})
        assert_error(answer, 403, "auth.cross_origin")
        page = await client.post("/admin/logout", data={"csrf_token": csrf}, headers=header)
        assert page.status_code == 403 and "text/html" in page.headers["content-type"]
    assert (await client.get("/api/v1/admin/me")).status_code == 200  # still logged in
    # No Origin at all (an old client): the CSRF token decides, as before.
    assert_error(await client.post("/api/v1/admin/auth/logout"), 403, "auth.csrf_failed")
    same_site = {"X-CSRF-Token": csrf, "Origin": stack.base_url}
    assert (await client.post("/api/v1/admin/auth/logout", headers=same_site)).status_code == 200


async def test_logins_from_another_site_are_refused(stack, staff_username: str) -> None:
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        evil = {"Origin": "https://evil.example"}
        assert_error(await open_session(client, staff_username, **evil), 403, "auth.cross_origin")
        form = await client.get("/admin/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        body = {"username": staff_username, "password": STAFF_PASSWORD, "csrf_token": token}
        page = await client.post("/admin/login", data=body, headers=evil)
        assert page.status_code == 403 and "gh_admin_session" not in page.headers.get("set-cookie", "")
        assert (await client.post("/admin/login", data=body, headers={"Origin": stack.base_url})).status_code == 302


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/wechat-login", '{"code": "dev:x"}'),
        ("/api/v1/admin/auth/login", '{"username": "admin", "password": "x"}'),
        ("/api/v1/admin/auth/session", '{"username": "admin", "password": "x"}'),
        ("/api/v1/member-cards/verify", '{"payload": "x.y"}'),
    ],
)
async def test_json_routes_refuse_other_media_types(api: httpx.AsyncClient, path: str, body: str) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"Content-Type": content_type} if content_type else {}
        answer = await api.post(path, content=body.encode(), headers=headers)
        error = assert_error(answer, 415, "request.unsupported_media_type")
        assert "JSON" in error["message"]


async def test_json_with_a_charset_is_json(api: httpx.AsyncClient, staff_username: str) -> None:
    answer = await api.post(
        "/api/v1/admin/auth/login",
        content=f'{{"username": "{staff_username}", "password": "{STAFF_PASSWORD}"}}'.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
