"""Several instances as one, on PostgreSQL + Redis: API processes (one with WORKERS=2) and job
runners on one database and one Redis behave as one server. Sessions, limits, lockouts and the
WeChat access token are shared; a message is sent once and a broadcast fanned out once; an API
process killed under load leaves the others serving."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from models.accounts import User
from models.notifications.tables import DeliveryStatus, Notification, NotificationDelivery
from tests.conftest import Stack, start_dispatcher, start_servers
from tests.factories.common import assert_error, bearer, eventually, login_staff, login_worker, unique
from tests.factories.enrolment import apply
from tests.factories.notifications import consent
from tests.factories.profiles import make_phone, profile_body, worker_with_profile
from tests.factories.unions import demo_org, make_org, make_staff
from tests.harness import Process
from tests.kernel.factories import queued_messages


@dataclass
class Cluster:
    apis: list[str]  # the stack's own server, a second one, and one with WORKERS=2
    runners: list[Process]


def production_only(stack: Stack) -> None:
    if stack.backend != "production":
        pytest.skip("several instances share sessions, limits and work through PostgreSQL + Redis: production only")


@pytest.fixture(scope="module")
def cluster(stack: Stack, artifacts_dir: Path) -> Iterator[Cluster]:
    production_only(stack)
    servers, urls = start_servers(stack, "api-b")
    more, more_urls = start_servers(stack, "api-w2", WORKERS="2")
    runners = [start_dispatcher(stack, f"runner-{name}", artifacts_dir) for name in ("a", "b")]
    try:
        yield Cluster([stack.base_url, *urls, *more_urls], runners)
    finally:
        for process in [*runners, *servers, *more]:
            process.stop()


async def test_a_session_is_valid_everywhere_and_revoked_everywhere_at_once(cluster: Cluster) -> None:
    staff = await make_staff(await demo_org("中山市总工会"))
    first, *others = cluster.apis
    async with httpx.AsyncClient(base_url=first, timeout=20) as api:
        token = await login_staff(api, staff.username)
    for url in cluster.apis:
        for _ in range(4):  # the WORKERS=2 process: both workers, as the kernel spreads connections
            async with httpx.AsyncClient(base_url=url, timeout=20) as api:
                assert (await api.get("/api/v1/admin/me", headers=bearer(token))).status_code == 200
    async with httpx.AsyncClient(base_url=others[0], timeout=20) as api:
        assert (await api.post("/api/v1/admin/auth/logout", headers=bearer(token))).status_code in (200, 204)
    for url in cluster.apis:
        for _ in range(4):
            async with httpx.AsyncClient(base_url=url, timeout=20) as api:
                revoked = await api.get("/api/v1/admin/me", headers=bearer(token))
                assert revoked.status_code == 401 and revoked.json()["error"]["code"], revoked.text


async def test_rate_limits_and_lockouts_are_shared(stack: Stack) -> None:
    production_only(stack)
    # Tight limits on a Redis prefix of their own, so that no other test's hits count.
    tight = {
        "REDIS_PREFIX": f"{stack.env['REDIS_PREFIX']}tight-{uuid.uuid4().hex[:6]}:",
        "RATE_LIMIT_ORG_SEARCH": "3/600",
        "LOGIN_FREE_FAILURES": "2",
        "LOGIN_DELAY_BASE_SECONDS": "600",
    }
    servers, (one, two) = start_servers(stack, "tight", 2, **tight)
    try:
        async with httpx.AsyncClient(timeout=20) as client:
            for url in (one, two, one):
                assert (await client.get(f"{url}/api/v1/orgs", params={"q": "中山"})).status_code == 200
            assert_error(await client.get(f"{two}/api/v1/orgs", params={"q": "中山"}), 429, "rate_limited")

            wrong = {"username": unique("nobody-"), "password": "wrong-password-1"}
            for url in (one, two, one):  # two free failures, the third claims the wait
                assert (await client.post(f"{url}/api/v1/admin/auth/login", json=wrong)).status_code == 401
            for url in (two, one):
                assert_error(await client.post(f"{url}/api/v1/admin/auth/login", json=wrong), 429, "rate_limited")
    finally:
        for server in servers:
            server.stop()


async def test_the_access_token_is_fetched_once_for_all(
    stack: Stack, cluster: Cluster, sandbox: httpx.AsyncClient
) -> None:
    # Forget the token every process shares, then make every process need it at once: both job
    # runners sending, and the API processes asking WeChat for phone numbers.
    store = aioredis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        await store.delete(f"{stack.env['REDIS_PREFIX']}wechat:access-token:{stack.settings.wechat_miniprogram_appid}")
    finally:
        await store.aclose()
    before = (await sandbox.get("/_sandbox/calls")).json().get("stable_token", 0)
    logins = []
    for url in cluster.apis:
        async with httpx.AsyncClient(base_url=url, timeout=20) as api:
            logins.append((url, (await login_worker(api))[0]))
    queued = await queued_messages(40)

    async def verify_phone(url: str, token: str) -> int:
        phone = make_phone()
        body = profile_body(phone=phone, phone_code=f"phone:{phone}")
        async with httpx.AsyncClient(base_url=url, timeout=30) as api:
            return (await api.put("/api/v1/me/profile", json=body, headers=bearer(token))).status_code

    assert await asyncio.gather(*(verify_phone(url, token) for url, token in logins)) == [200] * len(logins)
    await eventually(lambda: _all_delivered(list(queued.values())), within=60)
    after = (await sandbox.get("/_sandbox/calls")).json()["stable_token"]
    assert after - before == 1


async def test_each_message_is_sent_once(cluster: Cluster, sandbox: httpx.AsyncClient) -> None:
    queued = await queued_messages(120)
    await eventually(lambda: _all_delivered(list(queued.values())), within=60)
    rows = Counter(await NotificationDelivery.filter(id__in=list(queued.values())).values_list("status", "attempts"))
    assert rows == {(DeliveryStatus.DELIVERED, 1): len(queued)}  # one claim each
    sent = Counter(message["touser"] for message in (await sandbox.get("/_sandbox/messages")).json()["items"])
    assert {openid: sent[openid] for openid in queued} == dict.fromkeys(queued, 1)


async def test_a_broadcast_is_fanned_out_once(cluster: Cluster, sandbox: httpx.AsyncClient) -> None:
    first, second, workers2 = cluster.apis
    org = await make_org(await demo_org("中山市总工会"))
    async with httpx.AsyncClient(base_url=first, timeout=20) as api:
        staff_token = await login_staff(api, (await make_staff(org)).username)
        openids = set()
        for _ in range(6):
            token, _ = await worker_with_profile(api)
            await consent(api, token, "sbx-union-notice")
            enrolment_id = (await apply(api, token, org.id)).json()["id"]
            approved = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token))
            assert approved.status_code == 200, approved.text
            me = (await api.get("/api/v1/me", headers=bearer(token))).json()
            openids.add((await User.get(id=me["user"]["id"])).openid)
    async with httpx.AsyncClient(base_url=second, timeout=20) as api:
        created = await api.post(
            "/api/v1/admin/broadcasts",
            headers=bearer(staff_token),
            json={"org_id": org.id, "title": "台风预警", "body": "请注意出行安全。"},
        )
        assert created.status_code == 201, created.text
    broadcast_id = created.json()["id"]

    async def sent() -> dict | None:
        async with httpx.AsyncClient(base_url=workers2, timeout=20) as api:
            detail = (await api.get(f"/api/v1/admin/broadcasts/{broadcast_id}", headers=bearer(staff_token))).json()
        return detail if detail["status"] == "sent" and detail["progress"]["delivered"] == 6 else None

    detail = await eventually(sent, within=30)
    assert detail["recipients"] == 6
    per_user = Counter(await Notification.filter(broadcast_id=broadcast_id).values_list("user_id", flat=True))
    assert len(per_user) == 6 and set(per_user.values()) == {1}
    messages = (await sandbox.get("/_sandbox/messages")).json()["items"]
    notices = Counter(m["touser"] for m in messages if m["touser"] in openids and "台风预警" in str(m["data"]))
    assert notices == dict.fromkeys(openids, 1)


async def test_an_api_process_killed_under_load_leaves_the_other_serving(stack: Stack) -> None:
    production_only(stack)
    servers, (doomed_url, survivor_url) = start_servers(stack, "killable", 2)
    doomed = servers[0].process
    assert doomed is not None
    org_id = (await demo_org("中山市总工会")).id
    outcomes: dict[str, Counter] = {doomed_url: Counter(), survivor_url: Counter()}
    stop = asyncio.Event()

    async def hammer(url: str) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=5) as api:
            while not stop.is_set():
                try:
                    outcomes[url][(await api.get(f"/api/v1/orgs/{org_id}")).status_code] += 1
                except httpx.TransportError:
                    outcomes[url]["refused"] += 1

    try:
        load = [asyncio.create_task(hammer(url)) for url in (doomed_url, survivor_url) for _ in range(4)]
        await eventually(lambda: _served(outcomes, 50), within=30)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        served_at_kill = outcomes[survivor_url][200]
        await eventually(lambda: _served({survivor_url: outcomes[survivor_url]}, served_at_kill + 100), within=30)
        stop.set()
        await asyncio.gather(*load)
    finally:
        stop.set()
        for server in servers:
            server.stop()
    assert set(outcomes[survivor_url]) == {200}, outcomes  # not one failure on the survivor
    assert outcomes[doomed_url]["refused"] > 0


async def _served(outcomes: dict[str, Counter], at_least: int) -> bool:
    return all(counts[200] >= at_least for counts in outcomes.values())


async def _all_delivered(ids: list[int]) -> bool:
    statuses = await NotificationDelivery.filter(id__in=ids).values_list("status", flat=True)
    return len(statuses) == len(ids) and set(statuses) == {DeliveryStatus.DELIVERED}
