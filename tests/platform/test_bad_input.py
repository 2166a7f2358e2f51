"""Bad input, class by class: each answers a clear 4xx in the contract's shape (an error page on
the admin pages) and changes nothing; none reaches the database as a 500."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, timedelta, timezone

import httpx
import pytest

from models.accounts import StaffRole
from models.enrolment.tables import Enrolment, EnrolmentStatus
from models.notifications.tables import OfficialAccountFollower
from models.profiles.tables import WorkerProfile
from tests.factories.common import STAFF_PASSWORD, assert_error, bearer, login_staff, login_worker
from tests.factories.enrolment import applicant, apply
from tests.factories.notifications import signed_callback_params
from tests.factories.profiles import worker_with_profile
from tests.factories.unions import demo_org, make_staff

HUGE = 10**20


@pytest.fixture
async def staff_token(api: httpx.AsyncClient) -> str:
    return await login_staff(api, (await make_staff(await demo_org("中山市总工会"), StaffRole.UNION_ADMIN)).username)


@pytest.fixture
async def admin_pages(stack) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser-like client signed in to the admin pages, and its CSRF token."""
    staff = await make_staff(await demo_org("中山市总工会"), StaffRole.UNION_ADMIN)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=20) as client:
        opened = await client.post(
            "/api/v1/admin/auth/session", json={"username": staff.username, "password": STAFF_PASSWORD}
        )
        assert opened.status_code == 200, opened.text
        yield client, opened.json()["csrf_token"]


async def raw_post(base_url: str, path: str, token: str, header: bytes) -> tuple[int, dict]:
    """A request with a header httpx will not send (HTTP clients refuse NUL; attackers do not)."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = b'{"results": {}}'
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n".encode()
        + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
        + header
        + b"\r\n\r\n"
        + body
    )
    answer = await reader.read()
    writer.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


def assert_error_page(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"].startswith("text/html")
    assert "服务器内部错误" not in answer.text


async def test_a_nul_character_is_refused_wherever_it_comes_from(
    api: httpx.AsyncClient, stack, staff_token: str
) -> None:
    error = assert_error(await api.get("/api/v1/orgs", params={"q": "工会\x00"}), 422, "request.invalid_character")
    assert error["details"] == {"field": "query.q"}
    login = await api.post("/api/v1/admin/auth/login", json={"username": "admin\x00", "password": "x"})
    assert assert_error(login, 422, "request.invalid_character")["details"] == {"field": "body.username"}
    nested = await api.post(
        "/api/v1/admin/auth/login", content=b'{"username": "admin", "password": "x", "x\\u0000": 1}'
    )
    assert_error(nested, 422, "request.invalid_character")
    filtered = await api.get("/api/v1/admin/enrolments", params={"occupation": "\x00"}, headers=bearer(staff_token))
    assert_error(filtered, 422, "request.invalid_character")
    assert_error(await api.get("/api/v1/wechat/callback/official%00"), 422, "request.invalid_character")
    worker_token, _ = await login_worker(api)
    for header, name in ((b"Idempotency-Key: key\x00", "idempotency-key"), (b"User-Agent: a\x00", "user-agent")):
        status, body = await raw_post(stack.base_url, "/api/v1/me/subscriptions", worker_token, header)
        assert status == 422 and body["error"]["details"] == {"field": f"header.{name}"}, body
    async with httpx.AsyncClient(base_url=stack.base_url) as browser:
        form = await browser.post("/admin/login", data={"username": "admin\x00", "password": "x", "csrf_token": "x"})
        assert_error_page(form, 422)
        assert "不允许的控制字符" in form.text
        assert_error_page(await browser.get("/admin/enrolments", params={"q": "\x00"}), 422)


async def test_a_profile_with_a_nul_character_is_refused_and_nothing_is_saved(api: httpx.AsyncClient) -> None:
    token, body = await worker_with_profile(api)
    changed = await api.put("/api/v1/me/profile", json={**body, "city": "佛山\x00市"}, headers=bearer(token))
    assert assert_error(changed, 422, "request.invalid_character")["details"] == {"field": "body.city"}
    me = (await api.get("/api/v1/me", headers=bearer(token))).json()
    assert (await WorkerProfile.get(user_id=me["user"]["id"])).city == body["city"]


async def test_filters_longer_than_their_column_are_bad_input(
    api: httpx.AsyncClient, staff_token: str, admin_pages: tuple[httpx.AsyncClient, str]
) -> None:
    for path, name in (
        ("/api/v1/admin/enrolments", "occupation"),
        ("/api/v1/admin/members", "platform"),
        ("/api/v1/admin/notifications", "event"),
        ("/api/v1/admin/audit", "object_type"),
    ):
        answer = await api.get(path, params={name: "x" * 300}, headers=bearer(staff_token))
        assert assert_error(answer, 422, "request.invalid")["details"]["fields"][0]["field"] == name
    assert_error(await api.get("/api/v1/orgs", params={"q": "工" * 101}), 422, "request.invalid")
    # The admin pages filter with what is typed; the database's refusal is still a clear 422.
    pages, _ = admin_pages
    assert_error_page(await pages.get("/admin/enrolments", params={"occupation": "x" * 300}), 422)


@pytest.mark.parametrize("value", ["0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59", "3000-01-01"])
async def test_dates_outside_the_range_are_bad_input(
    api: httpx.AsyncClient, staff_token: str, admin_pages: tuple[httpx.AsyncClient, str], value: str
) -> None:
    for path, name in (("/api/v1/admin/audit", "since"), ("/api/v1/admin/enrolments", "submitted_from")):
        answer = await api.get(path, params={name: value}, headers=bearer(staff_token))
        assert assert_error(answer, 422, "request.invalid")["details"]["fields"][0]["field"] == name
    pages, _ = admin_pages
    assert_error_page(await pages.get("/admin/enrolments", params={"from": value}), 422)
    assert_error_page(await pages.get("/admin/audit", params={"to": value}), 422)


async def test_dates_in_range_still_filter(api: httpx.AsyncClient, staff_token: str) -> None:
    answer = await api.get(
        "/api/v1/admin/enrolments", params={"submitted_from": "2000-01-01", "page_size": 1}, headers=bearer(staff_token)
    )
    assert answer.status_code == 200 and answer.json()["total"] >= 0


async def test_a_time_filter_means_the_same_instant_in_any_zone(api: httpx.AsyncClient, staff_token: str) -> None:
    _, _, enrolment_id = await applicant(api)
    submitted = (await Enrolment.get(id=enrolment_id)).submitted_at
    for zone in (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))):
        found = {}
        for shift in (-1, 1):
            bound = (submitted + timedelta(seconds=shift)).astimezone(zone).isoformat()
            params = {"submitted_from": bound, "sort": "-submitted_at", "page_size": 100}
            answer = await api.get("/api/v1/admin/enrolments", params=params, headers=bearer(staff_token))
            found[shift] = enrolment_id in {item["id"] for item in answer.json()["items"]}
        assert found == {-1: True, 1: False}, zone


@pytest.mark.parametrize("page", ["²", "٣", "４", "99999999999999999999", "-1", "1e3"])
async def test_admin_page_numbers_are_ascii_digits_in_range(
    admin_pages: tuple[httpx.AsyncClient, str], page: str
) -> None:
    pages, _ = admin_pages
    for path in ("/admin/enrolments", "/admin/members", "/admin/audit", "/admin/orgs"):
        assert_error_page(await pages.get(path, params={"page": page}), 422)
    assert_error_page(await pages.get("/admin/enrolments", params={"org_id": page}), 422)
    assert (await pages.get("/admin/enrolments", params={"page": "2"})).status_code == 200


PAGE_FILTERS = {
    "/admin/enrolments": (
        "queue",
        "status",
        "org_id",
        "gig",
        "occupation",
        "platform",
        "q",
        "from",
        "to",
        "sort",
        "page",
    ),
    "/admin/enrolments/export": ("org_id", "occupation", "from", "to"),
    "/admin/members": ("status", "org_id", "gig", "occupation", "platform", "q", "sort", "page"),
    "/admin/audit": ("actor", "action", "object_type", "from", "to", "page"),
    "/admin/orgs": ("q", "parent_id", "page"),
    "/admin/accounts": ("q", "role", "page"),
    "/admin/notifications": ("status", "event", "page"),
}


async def test_no_admin_page_filter_turns_junk_into_a_server_error(admin_pages: tuple[httpx.AsyncClient, str]) -> None:
    pages, _ = admin_pages
    for path, names in PAGE_FILTERS.items():
        for name in names:
            for junk in ("x" * 300, "工" * 120, "²", str(HUGE), "0001-01-01", "-1", "%"):
                answer = await pages.get(path, params={name: junk})
                assert answer.status_code in (200, 404, 422), (path, name, junk, answer.status_code)


async def test_batch_approve_with_an_impossible_id_approves_nothing(
    api: httpx.AsyncClient, admin_pages: tuple[httpx.AsyncClient, str]
) -> None:
    _, _, enrolment_id = await applicant(api, consents=0)
    pages, csrf = admin_pages
    for junk in (str(HUGE), "²", "abc"):
        answer = await pages.post(
            "/admin/enrolments/batch",
            data={"action": "approve", "ids": [str(enrolment_id), junk], "csrf_token": csrf},
        )
        assert_error_page(answer, 422)
    assert (await Enrolment.get(id=enrolment_id)).status == EnrolmentStatus.SUBMITTED
    approved = await pages.post(
        "/admin/enrolments/batch", data={"action": "approve", "ids": [str(enrolment_id)], "csrf_token": csrf}
    )
    assert approved.status_code == 302 and approved.headers["location"].endswith("batch=approve&done=1&failed=")


async def test_out_of_range_path_ids_are_authenticated_first(api: httpx.AsyncClient, staff_token: str) -> None:
    for path in (f"/api/v1/admin/enrolments/{HUGE}", f"/api/v1/admin/enrolments/-{HUGE}"):
        assert_error(await api.get(path), 401, "auth.required")
        assert_error(await api.get(path, headers=bearer(staff_token)), 404, "record.not_found")
    approve = f"/api/v1/admin/enrolments/{HUGE}/approve"
    assert_error(await api.post(approve), 401, "auth.required")
    assert (await api.post(approve, headers=bearer(staff_token))).status_code == 404
    assert_error(await api.get(f"/api/v1/enrolments/{HUGE}"), 401, "auth.required")
    worker_token, _ = await login_worker(api)
    assert (await api.get(f"/api/v1/enrolments/{HUGE}", headers=bearer(worker_token))).status_code == 404
    assert_error(await api.get(f"/api/v1/orgs/{HUGE}"), 404, "org.not_found")
    assert_error(await api.get("/api/v1/orgs", params={"parent_id": HUGE}), 422, "request.invalid")
    token, _ = await worker_with_profile(api)
    assert_error(await apply(api, token, HUGE), 422, "request.invalid")


async def test_method_not_allowed_says_which_methods_are(api: httpx.AsyncClient) -> None:
    answer = await api.delete("/api/v1/orgs")
    assert_error(answer, 405, "route.method_not_allowed")
    assert "GET" in answer.headers["allow"]
    page = await api.delete("/admin/login")
    assert page.status_code == 405 and page.headers["content-type"].startswith("text/html")
    assert "POST" in page.headers["allow"]


def _callback_cases(openid: str) -> list[tuple[str, str]]:
    now = int(time.time())
    return [
        # a template result whose MsgID is not a number
        (
            "official",
            f"<xml><FromUserName>{openid}</FromUserName><MsgType>event</MsgType>"
            "<Event>TEMPLATESENDJOBFINISH</Event><MsgID>abc</MsgID><Status>success</Status></xml>",
        ),
        # a template result without MsgType, MsgID or Status
        ("official", f"<xml><FromUserName>{openid}</FromUserName><Event>TEMPLATESENDJOBFINISH</Event></xml>"),
        # a follow without a sender, and one whose sender is not text
        ("official", "<xml><MsgType>event</MsgType><Event>subscribe</Event></xml>"),
        ("official", f"<xml><FromUserName><a>{openid}</a></FromUserName><Event>subscribe</Event></xml>"),
        ("official", json.dumps({"FromUserName": ["x"], "Event": "subscribe", "CreateTime": now})),
        # XML that is not WeChat's shape at all
        ("official", "<xml>just text</xml>"),
        ("official", "<other><FromUserName>x</FromUserName></other>"),
        # JSON of the wrong shape
        ("miniprogram", json.dumps([openid, "subscribe"])),
        ("miniprogram", json.dumps({"FromUserName": openid, "Event": "subscribe_msg_change_event", "List": [1, 2]})),
        ("miniprogram", json.dumps({"FromUserName": openid, "Event": "subscribe_msg_change_event", "List": "x"})),
        (
            "miniprogram",
            json.dumps({"FromUserName": 7, "Event": "subscribe_msg_change_event", "List": {"TemplateId": "t"}}),
        ),
    ]


async def test_malformed_but_signed_callbacks_are_refused_and_record_nothing(api: httpx.AsyncClient, stack) -> None:
    openid = "sandbox-oa-malformed"
    for account, body in _callback_cases(openid):
        params = signed_callback_params(stack.settings.wechat_callback_token)
        answer = await api.post(f"/api/v1/wechat/callback/{account}", params=params, content=body)
        assert answer.status_code in (400, 422), (body, answer.status_code, answer.text)
        assert set(answer.json()["error"]) == {"code", "message", "details"}
    assert not await OfficialAccountFollower.filter(oa_openid=openid).exists()
    # A well-formed push still works, and an unknown event or a user's text message is acknowledged.
    for body in (
        f"<xml><FromUserName>{openid}</FromUserName><MsgType>event</MsgType><Event>subscribe</Event></xml>",
        f"<xml><FromUserName>{openid}</FromUserName><MsgType>text</MsgType><Content>你好</Content></xml>",
        f"<xml><FromUserName>{openid}</FromUserName><MsgType>event</MsgType><Event>VIEW</Event></xml>",
    ):
        params = signed_callback_params(stack.settings.wechat_callback_token)
        answer = await api.post("/api/v1/wechat/callback/official", params=params, content=body)
        assert answer.status_code == 200 and answer.text == "success", answer.text
    assert (await OfficialAccountFollower.get(oa_openid=openid)).following
