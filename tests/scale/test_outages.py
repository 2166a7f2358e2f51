"""Outages on PostgreSQL + Redis, on private servers of the test's own: PostgreSQL restarted under
load (fast 503s in the contract's shape, recovery without restarting anything), Redis gone
(readiness says so; no route answers 500), and the smoke path through PgBouncer in transaction
mode. /readyz is 503, never 500, while a server starts."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from models.accounts import User
from tests.conftest import Stack, start_dispatcher
from tests.factories.common import bearer, eventually, login_staff, login_worker
from tests.factories.enrolment import applicant
from tests.factories.notifications import sandbox_messages
from tests.factories.unions import demo_org, make_staff
from tests.harness import Process, free_port, run_command
from tests.scale.services import pgbouncer, private_postgres, private_redis

# A request may wait this long for the database before it is answered: far below any client's
# or proxy's timeout (DATABASE_ACQUIRE_TIMEOUT_SECONDS is 5 by default).
FAIL_FAST_SECONDS = 3.0


def production_only(stack: Stack) -> None:
    if stack.backend != "production":
        pytest.skip("PostgreSQL, Redis and PgBouncer outages: the production back end only")


def assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] in ("service.unavailable", "service.busy") and error["message"], error
    assert int(answer.headers["Retry-After"]) > 0


@asynccontextmanager
async def serving(stack: Stack, name: str, **overrides: str) -> AsyncIterator[tuple[str, list[int]]]:
    """A server of the test's own with `overrides`; yields its URL and every /readyz status seen
    while it started (0: connection refused)."""
    port = free_port()
    env = {**stack.env, **overrides, "PORT": str(port)}
    url = f"http://127.0.0.1:{port}"
    server = Process(name, env, stack.settings.data_dir / f"{name}.log").start("run")
    seen: list[int] = []
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            deadline = time.monotonic() + 90
            while not seen or seen[-1] != 200:
                assert time.monotonic() < deadline and server.process and server.process.poll() is None, seen
                try:
                    seen.append((await client.get(f"{url}/readyz")).status_code)
                except httpx.TransportError:
                    seen.append(0)
                await asyncio.sleep(0.02)
        yield url, seen
    finally:
        server.stop()


async def test_postgresql_restarted_under_load_fails_fast_and_recovers(stack: Stack) -> None:
    production_only(stack)
    with private_postgres() as postgres:
        env = {**stack.env, "DATABASE_URL": postgres.url}
        for command in ("migrate", "load-demo"):
            done = run_command(env, command)
            assert done.returncode == 0, done.stdout + done.stderr
        async with serving(stack, "api-private-pg", DATABASE_URL=postgres.url) as (url, starting):
            assert set(starting) <= {0, 503, 200}, Counter(starting)
            async with httpx.AsyncClient(base_url=url, timeout=30) as api:
                org_id = (await api.get("/api/v1/orgs", params={"q": "中山市总工会"})).json()["items"][0]["id"]
                answers: list[tuple[float, httpx.Response]] = []
                stop = asyncio.Event()

                async def hammer() -> None:
                    while not stop.is_set():
                        started = time.monotonic()
                        answer = await api.get(f"/api/v1/orgs/{org_id}")
                        answers.append((time.monotonic() - started, answer))

                async def served(at_least: int) -> bool:
                    return sum(answer.status_code == 200 for _, answer in answers) >= at_least

                load = [asyncio.create_task(hammer()) for _ in range(4)]
                try:
                    await eventually(lambda: served(50), within=30)
                    await asyncio.to_thread(postgres.restart)
                    restarted = len(answers)
                    # Recovered by itself: the same server process answers again.
                    await eventually(lambda: served(restarted + 50), within=30)
                finally:
                    stop.set()
                    await asyncio.gather(*load)
                assert (await api.get("/readyz")).status_code == 200
    statuses = Counter(answer.status_code for _, answer in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[503] > 0, statuses  # the restart was seen, and answered 503
    for _, answer in answers:
        if answer.status_code == 503:
            assert_unavailable(answer)
    assert max(seconds for seconds, _ in answers) < FAIL_FAST_SECONDS


async def test_with_redis_down_readiness_says_so_and_nothing_answers_500(stack: Stack) -> None:
    production_only(stack)
    with private_redis() as redis_server:
        prefix = f"gonghui-redis-down-{uuid.uuid4().hex[:6]}:"
        async with (
            serving(stack, "api-private-redis", REDIS_URL=redis_server.url, REDIS_PREFIX=prefix) as (url, _),
            httpx.AsyncClient(base_url=url, timeout=20) as api,
        ):
            staff_token = await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)
            worker_token, _ = await login_worker(api)
            org_id = (await demo_org("中山市总工会")).id
            redis_server.kill()

            ready = await api.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"] == {"serving": True, "database": True, "redis": False}

            # What still works without Redis (sessions live in the database), and what is
            # refused with a 503 because it needs Redis (limits, lockouts, the WeChat token).
            expected = {
                ("GET", "/healthz", None): 200,
                ("GET", f"/api/v1/orgs/{org_id}", None): 200,
                ("GET", "/api/v1/me", worker_token): 200,
                ("GET", "/api/v1/admin/me", staff_token): 200,
                ("GET", "/api/v1/admin/enrolments", staff_token): 200,
                ("GET", "/api/v1/orgs?q=中山", None): 503,
                ("POST", "/api/v1/auth/wechat-login", None): 503,
                ("POST", "/api/v1/admin/auth/login", None): 503,
            }
            bodies = {
                "/api/v1/auth/wechat-login": {"code": f"dev:redis-down:{uuid.uuid4().hex[:8]}"},
                "/api/v1/admin/auth/login": {"username": "admin", "password": "wrong-password-1"},
            }
            for (method, path, token), status in expected.items():
                headers = bearer(token) if token else {}
                answer = await api.request(method, path, json=bodies.get(path), headers=headers)
                if status == 503:
                    assert_unavailable(answer)
                else:
                    assert answer.status_code == status, (path, answer.text)

            redis_server.start()  # back on the same port: the server reconnects by itself

            async def ready_again() -> bool:
                return (await api.get("/readyz")).status_code == 200

            await eventually(ready_again, within=20)
            await login_worker(api)


async def test_the_smoke_path_works_through_pgbouncer_in_transaction_mode(
    stack: Stack, sandbox: httpx.AsyncClient, artifacts_dir
) -> None:
    production_only(stack)
    database_url = stack.env["DATABASE_URL"]
    host_port = database_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    with pgbouncer(host, int(port)) as bouncer_port:
        through = {
            "DATABASE_URL": database_url.replace(f"@{host_port}/", f"@127.0.0.1:{bouncer_port}/"),
            "PGBOUNCER": "1",
        }
        runner = start_dispatcher(stack, "runner-pgbouncer", artifacts_dir, **through)
        try:
            async with (
                serving(stack, "api-pgbouncer", **through) as (url, _),
                httpx.AsyncClient(base_url=url, timeout=20) as api,
            ):
                token, openid, enrolment_id = await applicant(api)
                staff_token = await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)
                approved = await api.post(
                    f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token)
                )
                assert approved.status_code == 200, approved.text
                me = await api.get("/api/v1/me", headers=bearer(token))
                assert me.status_code == 200 and me.json()["user"]["id"] == (await User.get(openid=openid)).id

                async def delivered() -> list[dict]:
                    return await sandbox_messages(sandbox, openid)

                messages = await eventually(delivered, within=30)
                assert len(messages) == 1, messages
        finally:
            runner.stop()
