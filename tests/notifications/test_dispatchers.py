"""Several dispatchers: no message twice in normal running, nothing lost when one dies.

These tests start their own dispatchers and no other runs meanwhile (the shared `dispatcher`
fixture is module-scoped and not taken here)."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from models.notifications.tables import DeliveryStatus, NotificationDelivery
from tests.factories.common import bearer, eventually, login_staff
from tests.factories.enrolment import applicant
from tests.factories.notifications import sandbox_messages
from tests.factories.unions import demo_org, make_staff


async def _approve_many(api: httpx.AsyncClient, count: int) -> tuple[list[str], list[int]]:
    staff_token = await login_staff(api, (await make_staff(await demo_org("中山市总工会"))).username)
    openids, enrolment_ids = [], []
    for _ in range(count):
        _, openid, enrolment_id = await applicant(api)
        openids.append(openid)
        enrolment_ids.append(enrolment_id)
    for enrolment_id in enrolment_ids:
        await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(staff_token))
    return openids, enrolment_ids


async def _all_finished(openids_count: int, since_id: int) -> bool:
    open_states = [DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    return not await NotificationDelivery.filter(id__gt=since_id, status__in=open_states).exists()


async def test_two_dispatchers_send_each_message_once(api, sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher

    first = start_dispatcher(stack, "racer-a", artifacts_dir)
    second = start_dispatcher(stack, "racer-b", artifacts_dir)
    try:
        since = (await NotificationDelivery.all().order_by("-id").first() or NotificationDelivery(id=0)).id
        openids, _ = await _approve_many(api, 30)
        await eventually(lambda: _all_finished(len(openids), since), within=20)
        counts = await asyncio.gather(*(sandbox_messages(sandbox, openid) for openid in openids))
        assert [len(messages) for messages in counts] == [1] * len(openids)
        outcomes = await NotificationDelivery.filter(id__gt=since).values_list(
            "status", "last_error", "notification__event"
        )
        assert {status for status, _, _ in outcomes} == {DeliveryStatus.DELIVERED}, [
            outcome for outcome in outcomes if outcome[0] != DeliveryStatus.DELIVERED
        ]
    finally:
        first.stop()
        second.stop()


async def test_sigterm_releases_what_the_dispatcher_holds(api, sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher

    openids, _ = await _approve_many(api, 5)
    since = (await NotificationDelivery.filter(status=DeliveryStatus.PENDING).order_by("id").first()).id - 1
    await sandbox.put(
        "/_sandbox/faults",
        json={"error_rate": 1.0, "error_kinds": ["timeout"], "timeout_seconds": 3, "only_openids": openids},
    )
    slow = start_dispatcher(stack, "graceful", artifacts_dir, WECHAT_TIMEOUT_SECONDS="5")
    await eventually(lambda: NotificationDelivery.filter(id__gt=since, status=DeliveryStatus.SENDING).exists())
    slow.process.send_signal(signal.SIGTERM)
    assert slow.process.wait(timeout=20) == 0
    stuck = await NotificationDelivery.filter(
        id__gt=since, status=DeliveryStatus.SENDING, claimed_by="graceful"
    ).count()
    assert stuck == 0
    await sandbox.put("/_sandbox/faults", json={"error_rate": 0, "only_openids": []})
    finisher = start_dispatcher(stack, "finisher", artifacts_dir)
    try:
        await eventually(lambda: _all_finished(len(openids), since), within=20)
        counts = await asyncio.gather(*(sandbox_messages(sandbox, openid) for openid in openids))
        assert all(len(messages) >= 1 for messages in counts)
    finally:
        finisher.stop()


async def test_a_killed_dispatcher_loses_nothing(api, sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher

    openids, _ = await _approve_many(api, 5)
    since = (await NotificationDelivery.filter(status=DeliveryStatus.PENDING).order_by("id").first()).id - 1
    await sandbox.put(
        "/_sandbox/faults",
        json={"error_rate": 1.0, "error_kinds": ["timeout"], "timeout_seconds": 3, "only_openids": openids},
    )
    doomed = start_dispatcher(stack, "doomed", artifacts_dir, WECHAT_TIMEOUT_SECONDS="5", DISPATCHER_LEASE_SECONDS="2")
    await eventually(lambda: NotificationDelivery.filter(id__gt=since, status=DeliveryStatus.SENDING).exists())
    doomed.process.kill()
    doomed.process.wait()
    await sandbox.put("/_sandbox/faults", json={"error_rate": 0, "only_openids": []})
    survivor = start_dispatcher(stack, "survivor", artifacts_dir)
    try:
        await eventually(lambda: _all_finished(len(openids), since), within=30)
        counts = await asyncio.gather(*(sandbox_messages(sandbox, openid) for openid in openids))
        assert all(len(messages) >= 1 for messages in counts), counts
        statuses = set(await NotificationDelivery.filter(id__gt=since).values_list("status", flat=True))
        assert statuses == {DeliveryStatus.DELIVERED}
    finally:
        survivor.stop()


async def test_a_slow_batch_keeps_its_lease_and_is_not_sent_twice(api, sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher

    slow = {"DISPATCHER_LEASE_SECONDS": "1", "DISPATCHER_BATCH_SIZE": "10", "DISPATCHER_CONCURRENCY": "2"}
    since = (await NotificationDelivery.all().order_by("-id").first() or NotificationDelivery(id=0)).id
    await sandbox.put("/_sandbox/faults", json={"delay_seconds": 0.4})
    first = start_dispatcher(stack, "slow-a", artifacts_dir, **slow)
    second = start_dispatcher(stack, "slow-b", artifacts_dir, **slow)
    try:
        # Ten sends two at a time take 2 s, twice the lease: only the renewals keep the batch.
        openids, _ = await _approve_many(api, 10)
        await eventually(lambda: _all_finished(len(openids), since), within=30)
        counts = await asyncio.gather(*(sandbox_messages(sandbox, openid) for openid in openids))
        assert [len(messages) for messages in counts] == [1] * len(openids)
    finally:
        await sandbox.put("/_sandbox/faults", json={"delay_seconds": 0})
        first.stop()
        second.stop()


async def test_a_killed_dispatcher_is_resent_at_most_its_concurrency(sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher
    from tests.kernel.factories import queued_messages

    queued = await queued_messages(40)
    ids = list(queued.values())
    # Slow sends, four at a time: the dispatcher is killed with a pipeline full of them.
    await sandbox.put("/_sandbox/faults", json={"delay_seconds": 0.3})
    doomed = start_dispatcher(
        stack, "doomed-4", artifacts_dir, DISPATCHER_CONCURRENCY="4", DISPATCHER_LEASE_SECONDS="2"
    )
    try:

        async def under_way() -> bool:
            return await NotificationDelivery.filter(id__in=ids, status=DeliveryStatus.DELIVERED).count() >= 8

        await eventually(under_way, within=60)
        held = await NotificationDelivery.filter(id__in=ids, status=DeliveryStatus.SENDING, claimed_by="doomed-4")
        doomed.process.kill()
        doomed.process.wait()
        assert 0 < len(held) <= 4  # never more held than its concurrency, so never more to send twice
    finally:
        doomed.stop()
        await sandbox.put("/_sandbox/faults", json={"delay_seconds": 0})
    survivor = start_dispatcher(stack, "survivor-4", artifacts_dir)
    try:
        await eventually(lambda: _finished(ids), within=60)
        sent = [len(await sandbox_messages(sandbox, openid)) for openid in queued]
        assert min(sent) == 1 and sum(sent) - len(queued) <= 4, sent
    finally:
        survivor.stop()


async def test_a_killed_dispatcher_is_taken_over_long_before_its_leases_run_out(sandbox, stack, artifacts_dir) -> None:
    """On PostgreSQL the other dispatchers see that one died by its sessions being gone: what it
    held goes out again at once, not when its leases (two minutes here) run out."""
    from tests.conftest import start_dispatcher
    from tests.kernel.factories import queued_messages

    if stack.settings.uses_sqlite:
        pytest.skip("SQLite runs one dispatcher at a time, and has no sessions to look at")
    long_lease = {"DISPATCHER_LEASE_SECONDS": "120"}
    queued = await queued_messages(6)
    ids = list(queued.values())
    await sandbox.put(
        "/_sandbox/faults",
        json={"error_rate": 1.0, "error_kinds": ["timeout"], "timeout_seconds": 20, "only_openids": list(queued)},
    )
    doomed = start_dispatcher(stack, "doomed-long-lease", artifacts_dir, WECHAT_TIMEOUT_SECONDS="60", **long_lease)
    try:
        await eventually(lambda: _held_by("doomed-long-lease", ids, len(ids)), within=30)
        doomed.process.kill()
        doomed.process.wait()
    finally:
        doomed.stop()
        await sandbox.put("/_sandbox/faults", json={"error_rate": 0, "only_openids": []})
    survivor = start_dispatcher(stack, "survivor-long-lease", artifacts_dir, **long_lease)
    try:
        taken_over_from = time.monotonic()
        await eventually(lambda: _finished(ids), within=60)
        assert time.monotonic() - taken_over_from < 60  # the dead one's leases had two minutes left
        sent = [len(await sandbox_messages(sandbox, openid)) for openid in queued]
        assert min(sent) >= 1, sent
    finally:
        survivor.stop()


async def _held_by(name: str, ids: list[int], count: int) -> bool:
    return (
        await NotificationDelivery.filter(id__in=ids, status=DeliveryStatus.SENDING, claimed_by=name).count() >= count
    )


async def _finished(ids: list[int]) -> bool:
    statuses = await NotificationDelivery.filter(id__in=ids).values_list("status", flat=True)
    return set(statuses) == {DeliveryStatus.DELIVERED}


async def test_a_retry_goes_out_when_it_falls_due_not_at_the_next_poll(sandbox, stack, artifacts_dir) -> None:
    """A dispatcher that has just scheduled a retry looks for it when it falls due: with a poll
    interval of a minute, a failed first try is sent again within seconds."""
    from tests.conftest import start_dispatcher
    from tests.kernel.factories import queued_messages

    queued = await queued_messages(1)
    ids = list(queued.values())
    await sandbox.put(
        "/_sandbox/faults", json={"error_rate": 1.0, "error_kinds": ["500"], "only_openids": list(queued)}
    )
    slow_poll = {
        "DISPATCHER_POLL_SECONDS": "60",
        "DISPATCHER_BACKOFF_BASE_SECONDS": "2",  # the first retry is due 1-2 s after the failure
        "DISPATCHER_BACKOFF_CAP_SECONDS": "4",
        "DISPATCHER_MAX_ATTEMPTS": "10",
    }
    dispatcher = start_dispatcher(stack, "prompt-retry", artifacts_dir, **slow_poll)
    try:
        await eventually(lambda: _waiting_to_retry(ids), within=30)
        await sandbox.put("/_sandbox/faults", json={"error_rate": 0, "only_openids": []})
        # The next poll would come a minute after the failure.
        await eventually(lambda: _finished(ids), within=30)
        assert [len(await sandbox_messages(sandbox, openid)) for openid in queued] == [1]
    finally:
        dispatcher.stop()
        await sandbox.put("/_sandbox/faults", json={"error_rate": 0, "only_openids": []})


async def _waiting_to_retry(ids: list[int]) -> bool:
    return await NotificationDelivery.filter(id__in=ids, status=DeliveryStatus.PENDING, attempts__gte=1).count() == len(
        ids
    )
