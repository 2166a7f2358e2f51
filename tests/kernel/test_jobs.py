"""The background job runner, with real runner processes (`python -m server jobs`) on the stack's
database: poisoned items set aside and shown to staff, several runners sharing the work, one
leader on SQLite, SIGTERM, round timeouts.

Each test starts its own runners and stops them; no other runner is running meanwhile."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter

import httpx
import pytest

from models.accounts import StaffRole
from models.audit import AuditEntry
from models.kernel.jobs import ROUND, JobFailure, JobLease
from models.notifications.tables import Broadcast, BroadcastStatus, DeliveryStatus, NotificationDelivery
from server.clock import now
from tests.factories.common import assert_error, bearer, eventually, login_staff, login_worker
from tests.factories.enrolment import applicant
from tests.factories.notifications import sandbox_messages
from tests.factories.unions import demo_org, make_staff
from tests.harness import run_command
from tests.kernel.factories import poisoned_delivery, queued_messages

MISSING_ORG_ID = 2**62 - 7

# The jobs `python -m server jobs` runs (server/jobs.py); on SQLite each has a lease.
RUNNER_JOBS = ["notifications", "broadcasts", "timers", "offers"]


async def _finished(delivery_ids: list[int]) -> bool:
    open_states = [DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    return not await NotificationDelivery.filter(id__in=delivery_ids, status__in=open_states).exists()


async def _staff(api: httpx.AsyncClient, org_name: str, role: StaffRole) -> str:
    return await login_staff(api, (await make_staff(await demo_org(org_name), role)).username)


async def _failures(api: httpx.AsyncClient, token: str, **params: str) -> dict[tuple[str, str], dict]:
    answer = await api.get("/api/v1/admin/jobs/failures", params={"page_size": "100", **params}, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return {(item["item_type"], item["item_id"]): item for item in answer.json()["items"]}


async def test_a_poisoned_item_is_set_aside_and_shown_to_staff(api, sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher

    zhongshan = await demo_org("中山市总工会")
    broken_broadcast = await Broadcast.create(org_id=MISSING_ORG_ID, title="坏通知", body="无处可发", created_by_id=0)
    _, victim = await login_worker(api)
    broken_delivery = await poisoned_delivery(victim["user"]["id"], zhongshan.id)
    _, openid, enrolment_id = await applicant(api)
    caseworker = await _staff(api, "中山市总工会", StaffRole.CASEWORKER)
    approved = await api.post(f"/api/v1/admin/enrolments/{enrolment_id}/approve", headers=bearer(caseworker))
    assert approved.status_code == 200, approved.text

    runner = start_dispatcher(stack, "poisoned", artifacts_dir)
    try:
        # The good message goes out beside the two bad items.
        messages = await eventually(lambda: sandbox_messages(sandbox, openid), within=15)
        assert messages[0]["template_id"] == "sbx-review-result"
        delivery_key = ("notification_delivery", str(broken_delivery.id))
        broadcast_key = ("broadcast", str(broken_broadcast.id))
        superadmin = await _staff(api, "广东省总工会", StaffRole.SUPERADMIN)

        async def both_recorded() -> dict | None:
            seen = await _failures(api, superadmin)
            return seen if delivery_key in seen and broadcast_key in seen else None

        seen = await eventually(both_recorded, within=15)
        assert seen[delivery_key]["job"] == "notifications" and seen[delivery_key]["error"].startswith("internal:")
        assert seen[delivery_key]["org_id"] == zhongshan.id and seen[delivery_key]["retryable"] is True
        assert seen[broadcast_key]["job"] == "broadcasts" and "DoesNotExist" in seen[broadcast_key]["error"]
        assert (await Broadcast.get(id=broken_broadcast.id)).status == BroadcastStatus.FAILED

        # Union admins see the failures of their subtree only; an item of no visible org, none.
        zhongshan_admin = await _staff(api, "中山市总工会", StaffRole.UNION_ADMIN)
        assert set(await _failures(api, zhongshan_admin)) & {delivery_key, broadcast_key} == {delivery_key}
        shenzhen_admin = await _staff(api, "深圳市总工会", StaffRole.UNION_ADMIN)
        assert not set(await _failures(api, shenzhen_admin)) & {delivery_key, broadcast_key}
        refused = await api.get("/api/v1/admin/jobs/failures", headers=bearer(caseworker))
        assert_error(refused, 403, "auth.role_forbidden")
        outside = await api.post(
            f"/api/v1/admin/jobs/failures/{seen[broadcast_key]['id']}/resolve", headers=bearer(zhongshan_admin)
        )
        assert_error(outside, 404, "record.not_found")

        # Retry puts the item back; it fails again, so its record opens again with one more attempt.
        retried = await api.post(
            f"/api/v1/admin/jobs/failures/{seen[delivery_key]['id']}/retry", headers=bearer(zhongshan_admin)
        )
        assert retried.status_code == 200, retried.text
        assert retried.json()["resolution"] == "retried" and retried.json()["resolved_at"] is not None

        async def failed_again() -> JobFailure | None:
            failure = await JobFailure.get(id=seen[delivery_key]["id"])
            return failure if failure.attempts == 2 and failure.resolved_at is None else None

        await eventually(failed_again, within=15)
        assert await AuditEntry.exists(action="job_failure.retry", object_id=str(seen[delivery_key]["id"]))

        resolved = await api.post(
            f"/api/v1/admin/jobs/failures/{seen[broadcast_key]['id']}/resolve", headers=bearer(superadmin)
        )
        assert resolved.status_code == 200 and resolved.json()["resolution"] == "resolved", resolved.text
        again = await api.post(
            f"/api/v1/admin/jobs/failures/{seen[broadcast_key]['id']}/resolve", headers=bearer(superadmin)
        )
        assert_error(again, 409, "job.failure_closed")
        assert broadcast_key not in await _failures(api, superadmin)
        assert broadcast_key in await _failures(api, superadmin, state="closed")
    finally:
        runner.stop()
    assert runner.process.returncode == 0


async def test_two_runners_process_each_item_once(sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher

    small_batches = {"DISPATCHER_BATCH_SIZE": "10", "DISPATCHER_CONCURRENCY": "4"}
    runners = [start_dispatcher(stack, f"sharer-{n}", artifacts_dir, **small_batches) for n in range(2)]
    try:
        queued = await queued_messages(150)
        await eventually(lambda: _finished(list(queued.values())), within=60)
        statuses = Counter(
            await NotificationDelivery.filter(id__in=list(queued.values())).values_list("status", "attempts")
        )
        # One claim each (a second claim would count a second attempt), and one message each.
        assert statuses == {(DeliveryStatus.DELIVERED, 1): len(queued)}
        sent = Counter(message["touser"] for message in (await sandbox.get("/_sandbox/messages")).json()["items"])
        assert {openid: sent[openid] for openid in queued} == dict.fromkeys(queued, 1)
    finally:
        for runner in runners:
            runner.stop()


async def test_the_embedded_mode_runs_one_leader(sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher

    if stack.backend != "embedded":
        pytest.skip("on PostgreSQL every runner runs the jobs, their items claimed with SKIP LOCKED")
    first = start_dispatcher(stack, "leader-a", artifacts_dir)
    second = start_dispatcher(stack, "leader-b", artifacts_dir)
    try:

        async def holders() -> set[str]:
            leases = await JobLease.filter(name__in=RUNNER_JOBS, expires_at__gt=now())
            return {lease.holder for lease in leases} if len(leases) == len(RUNNER_JOBS) else set()

        leader = (await eventually(holders, within=15)).pop()
        assert leader in {"leader-a", "leader-b"}
        for _ in range(10):  # both jobs stay with the one leader while the other waits
            assert await holders() == {leader}
            await asyncio.sleep(0.2)
        queued = await queued_messages(5)
        await eventually(lambda: _finished(list(queued.values())), within=15)

        # The leader stops; the other takes over at once, since the leader gave its leases up.
        stopping, other = (first, second) if leader == "leader-a" else (second, first)
        stopping.process.send_signal(signal.SIGTERM)
        assert stopping.process.wait(timeout=20) == 0
        follower = other.name
        assert await eventually(lambda: _holds(follower), within=10)
        queued = await queued_messages(5)
        await eventually(lambda: _finished(list(queued.values())), within=15)
    finally:
        first.stop()
        second.stop()


async def _holds(holder: str) -> bool:
    return await JobLease.filter(holder=holder, name__in=RUNNER_JOBS, expires_at__gt=now()).count() == len(RUNNER_JOBS)


async def test_sigterm_finishes_what_is_in_flight_and_releases_the_rest(sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher

    queued = await queued_messages(5)
    ids = list(queued.values())
    await sandbox.put(
        "/_sandbox/faults",
        json={"error_rate": 1.0, "error_kinds": ["timeout"], "timeout_seconds": 2, "only_openids": list(queued)},
    )
    # One send at a time: when SIGTERM comes, one delivery is in flight and four are claimed but
    # not started.
    runner = start_dispatcher(
        stack,
        "draining",
        artifacts_dir,
        "--only",
        "notifications",
        DISPATCHER_CONCURRENCY="1",
        WECHAT_TIMEOUT_SECONDS="5",
    )
    await eventually(lambda: NotificationDelivery.filter(id__in=ids, claimed_by="draining").count(), within=15)
    await asyncio.sleep(0.5)  # the first send is under way (the sandbox holds it 2 s)
    runner.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert runner.process.wait(timeout=15) == 0
    assert time.monotonic() - started < 10
    rows = await NotificationDelivery.filter(id__in=ids).values_list("status", "attempts", "claimed_by")
    # The send in flight finished (WeChat timed out: a retry later, one attempt counted); the
    # others went back to pending as if never claimed.
    assert sorted(rows) == sorted([(DeliveryStatus.PENDING, 1, "")] + [(DeliveryStatus.PENDING, 0, "")] * 4)


async def test_the_shutdown_bound_holds_when_a_round_outlasts_it(sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher

    queued = await queued_messages(1)
    await sandbox.put(
        "/_sandbox/faults",
        json={"error_rate": 1.0, "error_kinds": ["timeout"], "timeout_seconds": 6, "only_openids": list(queued)},
    )
    runner = start_dispatcher(
        stack, "bounded", artifacts_dir, "--only", "notifications", JOB_SHUTDOWN_SECONDS="1", WECHAT_TIMEOUT_SECONDS="8"
    )
    (delivery_id,) = queued.values()
    await eventually(lambda: NotificationDelivery.exists(id=delivery_id, claimed_by="bounded"), within=15)
    await asyncio.sleep(0.3)  # the send is under way
    runner.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert runner.process.wait(timeout=15) == 0
    assert time.monotonic() - started < 4
    # Cancelled mid-send: the claim is given back at once (not left until its lease lapses), with
    # its attempt counted, since the send may have reached WeChat.
    rows = await NotificationDelivery.filter(id=delivery_id).values_list("status", "attempts", "claimed_by")
    assert rows == [(DeliveryStatus.PENDING, 1, "")]


async def test_a_round_past_its_timeout_is_cancelled_recorded_and_retried(api, sandbox, stack, artifacts_dir) -> None:
    from tests.conftest import start_dispatcher

    queued = await queued_messages(1)
    (openid,) = queued
    await sandbox.put(
        "/_sandbox/faults",
        json={"error_rate": 1.0, "error_kinds": ["timeout"], "timeout_seconds": 3, "only_openids": [openid]},
    )
    runner = start_dispatcher(
        stack,
        "timed",
        artifacts_dir,
        JOB_ROUND_TIMEOUT_SECONDS="1",
        WECHAT_TIMEOUT_SECONDS="5",
        DISPATCHER_LEASE_SECONDS="2",
    )
    try:

        async def round_failed() -> JobFailure | None:
            return await JobFailure.get_or_none(job="notifications", item_type=ROUND, item_id="", resolved_at=None)

        failure = await eventually(round_failed, within=15)
        assert failure.error.startswith("round timed out after 1 s") and "timed" in failure.error
        assert runner.process.poll() is None  # the runner goes on
        # (The record may already be closed: the rounds after the timed-out one find nothing to do.)
        superadmin = await _staff(api, "广东省总工会", StaffRole.SUPERADMIN)
        assert (await _failures(api, superadmin, state="all"))[(ROUND, "")]["retryable"] is False
        refused = await api.post(f"/api/v1/admin/jobs/failures/{failure.id}/retry", headers=bearer(superadmin))
        assert_error(refused, 409, "job.not_retryable")
        zhongshan_admin = await _staff(api, "中山市总工会", StaffRole.UNION_ADMIN)
        assert (ROUND, "") not in await _failures(api, zhongshan_admin, state="all")  # a failure of no union
        await sandbox.put("/_sandbox/faults", json={"error_rate": 0, "only_openids": []})
        # The cancelled round's claim lapses with its lease; a later round delivers it, and the
        # round's failure is closed as recovered.
        await eventually(lambda: _finished(list(queued.values())), within=20)
        assert (await NotificationDelivery.get(id=queued[openid])).status == DeliveryStatus.DELIVERED
        assert await sandbox_messages(sandbox, openid)

        async def recovered() -> JobFailure | None:
            closed = await JobFailure.get(id=failure.id)
            return closed if closed.resolution == "recovered" else None

        await eventually(recovered, within=10)
    finally:
        runner.stop()


def test_unknown_job_names_are_refused(stack) -> None:
    done = run_command(stack.env, "dispatch", "--only", "notifications,no-such-job")
    assert done.returncode == 2
    assert "no job named no-such-job" in done.stderr and "notifications, broadcasts" in done.stderr
