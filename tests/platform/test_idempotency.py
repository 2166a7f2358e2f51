"""`Idempotency-Key` is exactly-once: the work and its stored answer commit together."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from datetime import timedelta

import asyncpg
import httpx
import pytest

from models.accounts import User
from models.idempotency import IdempotencyRecord
from models.notifications.tables import SubscriptionBalance
from tests.conftest import Stack, start_servers
from tests.factories.common import bearer, eventually, login_worker
from tests.factories.notifications import consent

TEMPLATE = "sbx-review-result"


async def test_a_refused_request_is_replayed_and_leaves_no_work(api: httpx.AsyncClient) -> None:
    token, _ = await login_worker(api)
    key = {"Idempotency-Key": uuid.uuid4().hex, **bearer(token)}
    body = {"results": {TEMPLATE: "accept", "no-such-template": "accept"}}
    first = await api.post("/api/v1/me/subscriptions", json=body, headers=key)
    again = await api.post("/api/v1/me/subscriptions", json=body, headers=key)
    assert first.status_code == again.status_code == 422
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    balances = (await api.get("/api/v1/me/subscriptions", headers=bearer(token))).json()["items"]
    assert {item["template_id"]: item["balance"] for item in balances}[TEMPLATE] == 0


async def test_a_crash_before_the_answer_is_stored_does_not_count_the_work_twice(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    """The server dies while its request holds the work done and waits to store the answer (a
    row lock held by the test keeps it there); the client's retry must not do the work again."""
    if stack.backend != "production":
        pytest.skip("holding a request between its work and its answer takes PostgreSQL's row locks")
    token, login = await login_worker(api)
    await consent(api, token)  # the balance row exists, so the test can lock it: balance 1
    user = await User.get(id=login["user"]["id"])
    balance = await SubscriptionBalance.get(user_id=user.id, template_id=TEMPLATE)
    key = uuid.uuid4().hex

    (doomed,), (doomed_url,) = start_servers(stack, "server-doomed")
    database = await asyncpg.connect(stack.env["DATABASE_URL"].replace("postgres://", "postgresql://", 1))
    try:
        hold_work = database.transaction()
        await hold_work.start()
        await database.execute("SELECT id FROM subscription_balances WHERE id = $1 FOR UPDATE", balance.id)
        client = httpx.AsyncClient(base_url=doomed_url, timeout=30)
        request = asyncio.create_task(
            client.post(
                "/api/v1/me/subscriptions",
                json={"results": {TEMPLATE: "accept"}},
                headers={"Idempotency-Key": key, **bearer(token)},
            )
        )
        claim = await eventually(lambda: IdempotencyRecord.get_or_none(key=key))
        # Hold the answer's row too, then let the work go on: it runs and then waits to store.
        answer_lock = await asyncpg.connect(stack.env["DATABASE_URL"].replace("postgres://", "postgresql://", 1))
        hold_answer = answer_lock.transaction()
        await hold_answer.start()
        await answer_lock.execute("SELECT id FROM idempotency_records WHERE id = $1 FOR UPDATE", claim.id)
        await hold_work.commit()

        async def waiting_to_store_the_answer() -> bool:
            waiting = await database.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%idempotency_records%'"
            )
            return waiting > 0

        await eventually(waiting_to_store_the_answer)
        assert doomed.process is not None
        os.kill(doomed.process.pid, signal.SIGKILL)
        doomed.process.wait()
        # PostgreSQL notices a dead client only when it next talks to it: end its sessions, as a
        # crashed machine's would end, before the lock is let go.
        await database.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND query ILIKE '%idempotency_records%'"
        )
        await hold_answer.rollback()
        await answer_lock.close()
        with pytest.raises(httpx.TransportError):
            await request
        await client.aclose()
    finally:
        doomed.stop()
        await database.close()

    # The client retries once the claim counts as abandoned (made to look old, not waited for).
    await IdempotencyRecord.filter(key=key).update(created_at=claim.created_at - timedelta(minutes=5))
    retried = await api.post(
        "/api/v1/me/subscriptions",
        json={"results": {TEMPLATE: "accept"}},
        headers={"Idempotency-Key": key, **bearer(token)},
    )
    assert retried.status_code == 200, retried.text
    assert {item["template_id"]: item["balance"] for item in retried.json()["items"]}[TEMPLATE] == 2
