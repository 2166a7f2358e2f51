"""Abuse limits on servers of their own with tight settings, sharing the stack's database.

On the production back end two server processes share one Redis (their own prefix), and each
test spreads its requests over both: a limit that held per process only would let them through.
The embedded back end runs one process with in-process state. Client addresses come through
X-Forwarded-For from 127.0.0.1, which these servers trust as a proxy; each test uses addresses
of its own, so the tests do not share counters.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from models.audit import AuditEntry
from tests.conftest import Stack, start_servers
from tests.factories.common import STAFF_PASSWORD, assert_error, unique
from tests.factories.unions import demo_org, make_staff

TIGHT = {
    "TRUSTED_PROXIES": "127.0.0.1",
    "LOGIN_FREE_FAILURES": "3",
    "LOGIN_DELAY_BASE_SECONDS": "1",
    "LOGIN_DELAY_CAP_SECONDS": "2",
    "LOGIN_FAILURE_MEMORY_SECONDS": "60",
    "RATE_LIMIT_STAFF_LOGIN_FAILURES": "8/60",
    "RATE_LIMIT_WORKER_LOGIN": "5/60",
    "RATE_LIMIT_WORKER_LOGIN_FAILURES": "3/60",
    "RATE_LIMIT_CARD_VERIFY": "4/60",
    "RATE_LIMIT_ORG_SEARCH": "4/2",
}
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def limited_urls(stack: Stack) -> Iterator[list[str]]:
    prefix = f"gonghui-limits-{uuid.uuid4().hex[:8]}:"
    count = 2 if stack.backend == "production" else 1
    servers, urls = start_servers(stack, "server-limits", count, **TIGHT, REDIS_PREFIX=prefix)
    yield urls
    for server in servers:
        server.stop()


class Client:
    """One client address, its requests spread over every server."""

    def __init__(self, clients: list[httpx.AsyncClient], address: str) -> None:
        self._clients = itertools.cycle(clients)
        self.address = address

    async def post(self, path: str, **kwargs: object) -> httpx.Response:
        return await next(self._clients).post(path, headers={"X-Forwarded-For": self.address}, **kwargs)  # type: ignore[arg-type]

    async def get(self, path: str, **kwargs: object) -> httpx.Response:
        return await next(self._clients).get(path, headers={"X-Forwarded-For": self.address}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def client_at(limited_urls: list[str]) -> AsyncIterator:
    clients = [httpx.AsyncClient(base_url=url, timeout=20) for url in limited_urls]
    yield lambda: Client(clients, next(_addresses))
    for client in clients:
        await client.aclose()


def assert_limited(answer: httpx.Response, most_seconds: float) -> int:
    error = assert_error(answer, 429, "rate_limited")
    retry_after = int(answer.headers["retry-after"])
    assert 0 < retry_after <= most_seconds and error["details"]["retry_after"] == retry_after
    assert "后再试" in error["message"]
    return retry_after


async def staff_login(client: Client, username: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/admin/auth/login", json={"username": username, "password": password})


async def test_junk_codes_are_refused_before_wechat_is_asked(client_at) -> None:
    attacker, worker = client_at(), client_at()
    for _ in range(3):
        assert_error(
            await attacker.post("/api/v1/auth/wechat-login", json={"code": unique("junk")}),
            401,
            "auth.wechat_code_invalid",
        )
    good_code = f"dev:{unique('rider-')}"
    assert_limited(await attacker.post("/api/v1/auth/wechat-login", json={"code": good_code}), 60)
    # The refused code was never sent to WeChat: it still works, once, from elsewhere.
    assert (await worker.post("/api/v1/auth/wechat-login", json={"code": good_code})).status_code == 200


async def test_concurrent_junk_codes_cannot_slip_past_the_limit(client_at) -> None:
    attacker = client_at()
    answers = await asyncio.gather(
        *(attacker.post("/api/v1/auth/wechat-login", json={"code": unique("junk")}) for _ in range(10))
    )
    assert sorted(answer.status_code for answer in answers) == [401] * 3 + [429] * 7


async def test_successful_worker_logins_count_only_against_the_overall_limit(client_at) -> None:
    office = client_at()  # many workers behind one address
    for _ in range(5):
        answer = await office.post("/api/v1/auth/wechat-login", json={"code": f"dev:{unique('w-')}"})
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert_limited(await office.post("/api/v1/auth/wechat-login", json={"code": f"dev:{unique('w-')}"}), 60)


async def test_failed_staff_logins_grow_delays_for_that_address_and_account_only(client_at) -> None:
    staff = await make_staff(await demo_org("中山市总工会"))
    stranger, owner = client_at(), client_at()
    for _ in range(4):  # three free failures, and a fourth that makes the next one wait
        assert_error(await staff_login(stranger, staff.username, "wrong"), 401, "auth.bad_credentials")
    assert_limited(await staff_login(stranger, staff.username, STAFF_PASSWORD), 1)
    assert (await staff_login(owner, staff.username, STAFF_PASSWORD)).status_code == 200
    other = await make_staff(await demo_org("中山市总工会"))
    assert (await staff_login(stranger, other.username, STAFF_PASSWORD)).status_code == 200
    await asyncio.sleep(1.1)
    assert_error(await staff_login(stranger, staff.username, "wrong"), 401, "auth.bad_credentials")
    assert_limited(await staff_login(stranger, staff.username, "wrong"), 2)  # the delay doubled
    await asyncio.sleep(2.1)
    assert (await staff_login(stranger, staff.username, STAFF_PASSWORD)).status_code == 200
    # A success forgets the failures of that address and account.
    for _ in range(3):
        assert_error(await staff_login(stranger, staff.username, "wrong"), 401, "auth.bad_credentials")


async def test_the_login_page_shows_the_wait_as_an_error_page(limited_urls: list[str]) -> None:
    staff = await make_staff(await demo_org("中山市总工会"))
    address = next(_addresses)
    for _ in range(4):
        async with httpx.AsyncClient(base_url=limited_urls[0], headers={"X-Forwarded-For": address}) as browser:
            form = await browser.get("/admin/login")
            token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
            answer = await browser.post(
                "/admin/login", data={"username": staff.username, "password": "wrong", "csrf_token": token}
            )
    assert answer.status_code == 401
    async with httpx.AsyncClient(base_url=limited_urls[-1], headers={"X-Forwarded-For": address}) as browser:
        form = await browser.get("/admin/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = await browser.post(
            "/admin/login", data={"username": staff.username, "password": STAFF_PASSWORD, "csrf_token": token}
        )
    assert answer.status_code == 429 and "text/html" in answer.headers["content-type"]
    assert 0 < int(answer.headers["retry-after"]) <= 1 and "登录失败次数过多" in answer.text


async def test_password_spraying_is_capped_per_address(client_at) -> None:
    sprayer, colleague = client_at(), client_at()
    for _ in range(8):
        assert_error(await staff_login(sprayer, unique("guess"), "123456"), 401, "auth.bad_credentials")
    staff = await make_staff(await demo_org("中山市总工会"))
    assert_limited(await staff_login(sprayer, staff.username, STAFF_PASSWORD), 60)
    assert (await staff_login(colleague, staff.username, STAFF_PASSWORD)).status_code == 200


async def test_public_search_is_limited_and_the_window_ends(client_at) -> None:
    visitor = client_at()
    for _ in range(4):
        assert (await visitor.get("/api/v1/orgs", params={"q": "中山"})).status_code == 200
    assert_limited(await visitor.get("/api/v1/orgs", params={"q": "中山"}), 2)
    assert (await visitor.get("/api/v1/orgs")).status_code == 200  # browsing the tree is not searching
    await asyncio.sleep(2.1)
    assert (await visitor.get("/api/v1/orgs", params={"q": "中山"})).status_code == 200


async def test_member_card_verification_is_limited(client_at) -> None:
    checker, other = client_at(), client_at()
    for _ in range(4):
        answer = await checker.post("/api/v1/member-cards/verify", json={"payload": "x.y"})
        assert answer.status_code == 200 and answer.json()["code"] == "card.forged"
    assert_limited(await checker.post("/api/v1/member-cards/verify", json={"payload": "x.y"}), 60)
    assert (await other.post("/api/v1/member-cards/verify", json={"payload": "x.y"})).json()["code"] == "card.forged"


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(limited_urls: list[str]) -> None:
    """127.0.0.1 is the trusted proxy; 127.0.0.2 is a client that writes its own header."""
    staff = await make_staff(await demo_org("中山市总工会"))
    body = {"username": staff.username, "password": "wrong"}
    spoofer = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=limited_urls[0], transport=spoofer) as client:
        for n in range(9):
            answer = await client.post(
                "/api/v1/admin/auth/login",
                json={**body, "username": unique("u")},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
        assert_limited(answer, 60)  # nine new addresses claimed, one counted: the peer's
    async with httpx.AsyncClient(base_url=limited_urls[0]) as client:
        await client.post("/api/v1/admin/auth/login", json=body, headers={"X-Forwarded-For": "192.0.2.44, 127.0.0.1"})
    recorded = await AuditEntry.filter(action="staff.login_failed", actor_id=staff.id).values_list("ip", flat=True)
    assert recorded == ["192.0.2.44"]
