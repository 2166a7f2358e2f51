"""SIGTERM to an API process: requests in flight finish, new connections are refused, and the
process exits within GRACEFUL_SHUTDOWN_SECONDS even when a request outlasts it."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid

import httpx
import pytest

from tests.conftest import Stack, start_servers
from tests.factories.common import eventually

BOUND_SECONDS = 4


async def _logins_seen(sandbox: httpx.AsyncClient) -> int:
    return int((await sandbox.get("/_sandbox/calls")).json().get("jscode2session", 0))


async def _refused(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=1) as client:
            await client.get(f"{url}/healthz")
    except httpx.TransportError:
        return True
    return False


@pytest.mark.parametrize("login_delay", [2.0, 3 * BOUND_SECONDS], ids=["finishes", "outlasts-the-bound"])
async def test_sigterm_drains_requests_in_flight_within_the_bound(
    stack: Stack, sandbox: httpx.AsyncClient, login_delay: float
) -> None:
    (server,), (url,) = start_servers(stack, "draining-api", GRACEFUL_SHUTDOWN_SECONDS=str(BOUND_SECONDS))
    process = server.process
    assert process is not None
    try:
        # A worker's login waits for WeChat's jscode2session: a slow WeChat holds it in flight.
        await sandbox.put("/_sandbox/faults", json={"login_delay_seconds": login_delay})
        before = await _logins_seen(sandbox)
        async with httpx.AsyncClient(base_url=url, timeout=30) as api:
            login = asyncio.create_task(
                api.post("/api/v1/auth/wechat-login", json={"code": f"dev:drain:{uuid.uuid4().hex[:8]}"})
            )
            await eventually(lambda: _more(sandbox, before), within=15)
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            # The listener closes at once: a new client is refused while the old one is served.
            await eventually(lambda: _refused(url), within=2)
            if login_delay < BOUND_SECONDS:
                answer = await login
                assert answer.status_code == 200, answer.text
                assert answer.json()["token"]
            else:
                with pytest.raises(httpx.TransportError):  # cut off at the bound
                    await login
        exit_code = await asyncio.to_thread(process.wait, BOUND_SECONDS + 10)
        elapsed = time.monotonic() - signalled
        assert exit_code == 0
        assert elapsed < BOUND_SECONDS + 3, elapsed
    finally:
        await sandbox.put("/_sandbox/faults", json={"login_delay_seconds": 0})
        server.stop()


async def _more(sandbox: httpx.AsyncClient, before: int) -> bool:
    return await _logins_seen(sandbox) > before
