"""Notification throughput: a burst of N state changes through two dispatchers to the WeChat
sandbox, on PostgreSQL and Redis.

    .venv/bin/python -m benchmarks.notifications_throughput [--messages 10000] [--fault-run]

It makes its own database beside the one named (and drops it at the end, also on failure),
applies the migrations, starts the WeChat sandbox, measures two no-database baselines (the same
sends straight to the sandbox, with httpx and with bare sockets), loads N workers with one
subscribe consent each, starts two dispatchers, lands N pending deliveries in one COPY and waits
until none is pending or sending. It prints messages per second against the target, end-to-end
latency, duplicates, losses, the final delivery states and where the CPU went.
`--fault-run` injects WeChat errors and timeouts and SIGKILLs one dispatcher half-way through.
It exits 0 whether or not the throughput target is met, and non-zero when something broke or a
message was lost (or, outside the fault run, sent twice). See benchmarks/results-notifications.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from benchmarks.common import asyncpg_url, forget_redis_keys
from server.clock import SHANGHAI
from server.settings import Settings
from server.wechat.templates import TemplateBook, parse_templates
from tests.harness import (
    Process,
    base_env,
    create_scratch_database,
    drop_scratch_database,
    free_port,
    run_command,
    wait_until_answering,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

TARGET_PER_SECOND = 1_000.0
EVENT = "enrolment.approved"
ORG_NAME = "中山市新就业形态劳动者工会联合会"
OPENID_PREFIX = "sandbox-bench-"
OPEN_STATES = ("pending", "sending")

# The fault run's WeChat: one send in ten fails, as a quota error, a 500 or a hang longer than
# the dispatcher's timeout; the dispatchers retry fast and take back a dead one's claims in 5 s.
FAULTS = {"error_rate": 0.1, "error_kinds": ["45009", "500", "timeout"], "timeout_seconds": 2}
NO_FAULTS = {
    "error_rate": 0,
    "refuse_openids": [],
    "reject_templates": [],
    "only_openids": [],
    "sends_per_second_cap": 0,
}
FAULT_DISPATCH = {
    "WECHAT_TIMEOUT_SECONDS": "1",
    "DISPATCHER_BACKOFF_BASE_SECONDS": "0.2",
    "DISPATCHER_BACKOFF_CAP_SECONDS": "2",
    "DISPATCHER_MAX_ATTEMPTS": "10",
    "DISPATCHER_LEASE_SECONDS": "5",
}
WATCH_INTERVAL_SECONDS = 0.25
HTTPX_POOL = 4  # connections per httpx client in the baseline


class BenchmarkError(RuntimeError):
    """Something broke: the run's figures cannot be trusted."""


@dataclass
class Baseline:
    label: str
    messages: int
    seconds: float
    concurrency: int
    failures: int

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


@dataclass
class Watch:
    """What the benchmark saw while the dispatchers worked."""

    t0: float  # epoch seconds: created_at and due_at of every notification and delivery
    insert_seconds: float
    finished_at: float  # epoch seconds at which nothing was pending or sending any more
    # wall seconds, machine busy seconds, CPU seconds by kind of process (see CpuMeter.report)
    cpu_figures: tuple[float, float, dict[str, float]] = field(default_factory=lambda: (0.0, 0.0, {}))
    killed: str = ""
    killed_at: float = 0.0
    delivered_when_killed: int = 0
    lapsed_alive: int = 0  # most lapsed claims seen at once while no dispatcher had been killed
    lapsed_after_kill: int = 0  # the same after the kill (the dead one's claims lapse by design)


@dataclass
class Outcome:
    messages: int
    receipts: list[float]  # epoch seconds of every message the sandbox accepted
    latencies: list[float]  # seconds, first receipt per worker minus the notification's due_at
    duplicates: int
    users_without_message: int
    not_delivered: int
    statuses: dict[str, int]
    attempts: int
    balance_left: int
    send_calls: int  # subscribe sends that reached the sandbox, failed ones included
    last_errors: Counter[str] = field(default_factory=Counter)


# --- the database ---------------------------------------------------------------------------


def openid(n: int) -> str:
    return f"{OPENID_PREFIX}{n}"


def notification_values(n: int, moment: datetime) -> dict[str, str]:
    return {"status": "已通过", "org": ORG_NAME, "note": f"会员号ZS2025{n:07d}", "time": moment.isoformat()}


async def load_workers(url: str, count: int, template_id: str) -> None:
    """N workers who each accepted one subscribe message of the review-result template: loaded
    before the dispatchers start, so that only the burst itself is timed."""
    moment = datetime.now(SHANGHAI)
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        async with connection.transaction():
            await connection.copy_records_to_table(
                "users",
                columns=["id", "openid", "unionid", "roles", "created_at", "last_login_at"],
                records=[(n, openid(n), None, '["worker"]', moment, None) for n in range(1, count + 1)],
            )
            await connection.copy_records_to_table(
                "subscription_balances",
                columns=["id", "user_id", "template_id", "balance", "updated_at"],
                records=[(n, n, template_id, 1, moment) for n in range(1, count + 1)],
            )
            # Explicit ids went in, so the sequences must move past them for any later insert.
            for table in ("users", "subscription_balances"):
                await connection.execute(f"SELECT setval('{table}_id_seq', $1)", count)
            await connection.execute("ANALYZE users; ANALYZE subscription_balances")
    finally:
        await connection.close()


async def land_burst(connection: asyncpg.Connection, count: int) -> tuple[float, float]:
    """N approvals at one instant T0: their notifications and pending subscribe deliveries, in one
    transaction, as the outbox would have them, then the tables' statistics. Returns T0 (epoch
    seconds) and the insert time."""
    moment = datetime.now(SHANGHAI)
    started = time.perf_counter()
    async with connection.transaction():
        await connection.copy_records_to_table(
            "notifications",
            columns=[
                "id",
                "user_id",
                "event",
                "object_type",
                "object_id",
                "org_id",
                "title",
                "body",
                "values",
                "page",
                "broadcast_id",
                "created_at",
                "read_at",
            ],
            records=[
                (
                    n,
                    n,
                    EVENT,
                    "enrolment",
                    str(n),
                    None,
                    "入会申请已通过",
                    f"欢迎加入{ORG_NAME}！您的会员号为 ZS2025{n:07d}，电子会员卡已生成。",
                    json.dumps(notification_values(n, moment), ensure_ascii=False),
                    f"pages/enrolment/detail?id={n}",
                    None,
                    moment,
                    None,
                )
                for n in range(1, count + 1)
            ],
        )
        await connection.copy_records_to_table(
            "notification_deliveries",
            columns=[
                "id",
                "notification_id",
                "channel",
                "status",
                "attempts",
                "due_at",
                "claimed_by",
                "lease_expires_at",
                "template_id",
                "last_errcode",
                "last_error",
                "msgid",
                "org_id",
                "created_at",
                "finished_at",
                "consent_spent",
            ],
            records=[
                (n, n, "subscribe", "pending", 0, moment, "", None, "", None, "", "", None, moment, None, False)
                for n in range(1, count + 1)
            ],
        )
        for table in ("notifications", "notification_deliveries"):
            await connection.execute(f"SELECT setval('{table}_id_seq', $1)", count)
    # The tables were empty when last analysed, and with those statistics PostgreSQL plans the
    # claim as a bitmap scan that sorts every pending row to take the first few (6 ms a claim
    # at 10,000). A production table has statistics from its history, with which the claim reads
    # the (status, due_at, id) index in order; autovacuum analyses a fresh one within a minute.
    await connection.execute("ANALYZE notifications, notification_deliveries")
    return moment.timestamp(), time.perf_counter() - started


async def open_counts(connection: asyncpg.Connection) -> tuple[dict[str, int], int]:
    """Deliveries by status, and how many are `sending` under a lease that has run out: claims
    that another dispatcher may take over while their owner may still be sending them."""
    rows = await connection.fetch(
        """
        SELECT status, count(*) AS n, count(*) FILTER (WHERE status = 'sending' AND lease_expires_at < now()) AS lapsed
        FROM notification_deliveries GROUP BY status
        """
    )
    return {row["status"]: row["n"] for row in rows}, sum(row["lapsed"] for row in rows)


async def wait_for_dispatchers(url: str, dispatchers: list[Process], seconds: float = 30) -> None:
    """Both dispatchers connected and polling an empty table, so that the burst meets them idle,
    as a burst of approvals in production would (their start-up is not part of the figures)."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        database = await connection.fetchval("SELECT current_database()")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for dispatcher in dispatchers:
                if dispatcher.process is None or dispatcher.process.poll() is not None:
                    raise BenchmarkError(f"dispatcher {dispatcher.name} exited at start; see its log")
            others = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", database
            )
            if others >= len(dispatchers):
                await asyncio.sleep(1.0)
                return
            await asyncio.sleep(0.2)
    finally:
        await connection.close()
    raise BenchmarkError(f"the dispatchers did not connect to the database within {seconds:.0f} s")


class CpuMeter:
    """CPU seconds of the processes that make up the pipeline, from /proc, so that the figures
    say where the machine's two cores went (and how much of them other work took meanwhile)."""

    TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self) -> None:
        self.started: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.kinds: dict[int, str] = {}
        self.machine_started = self.machine_busy()
        self.wall_started = time.monotonic()

    @classmethod
    def machine_busy(cls) -> float:
        # user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
        ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return (sum(ticks) - ticks[3] - ticks[4]) / cls.TICKS

    @classmethod
    def process_seconds(cls, pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / cls.TICKS

    def watch(self, pid: int, kind: str) -> None:
        if pid in self.kinds:
            return
        seconds = self.process_seconds(pid)
        if seconds is not None:
            self.kinds[pid], self.started[pid], self.last[pid] = kind, seconds, seconds

    def sample(self) -> None:
        for pid in self.kinds:
            seconds = self.process_seconds(pid)
            if seconds is not None:  # a killed process keeps what it had used when last seen
                self.last[pid] = seconds

    def report(self) -> tuple[float, float, dict[str, float]]:
        """Wall seconds, machine busy seconds and CPU seconds by kind since the meter started."""
        self.sample()
        used: dict[str, float] = {}
        for pid, kind in self.kinds.items():
            used[kind] = used.get(kind, 0.0) + self.last[pid] - self.started[pid]
        return time.monotonic() - self.wall_started, self.machine_busy() - self.machine_started, used


async def database_backends(connection: asyncpg.Connection) -> list[int]:
    rows = await connection.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return [row["pid"] for row in rows]


async def burst_and_watch(
    url: str, count: int, dispatchers: list[Process], sandbox: Process, victim: Process | None, max_wait: float
) -> Watch:
    """Land the burst, then poll the delivery states until nothing is open; in the fault run,
    SIGKILL `victim` once half the deliveries are delivered."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        meter = CpuMeter()
        for process, kind in [*((dispatcher, "dispatchers") for dispatcher in dispatchers), (sandbox, "sandbox")]:
            meter.watch(process.process.pid, kind)  # type: ignore[union-attr]
        for pid in await database_backends(connection):
            meter.watch(pid, "PostgreSQL (this database)")
        meter.watch(os.getpid(), "benchmark (watching)")
        t0, insert_seconds = await land_burst(connection, count)
        watch = Watch(t0=t0, insert_seconds=insert_seconds, finished_at=0.0)
        print(f"  burst of {count:,} deliveries landed in {insert_seconds:.2f} s", flush=True)
        deadline = time.monotonic() + max_wait
        last_report = time.monotonic()
        while time.monotonic() < deadline:
            counts, lapsed = await open_counts(connection)
            if watch.killed:
                watch.lapsed_after_kill = max(watch.lapsed_after_kill, lapsed)
            else:
                watch.lapsed_alive = max(watch.lapsed_alive, lapsed)
            delivered = counts.get("delivered", 0)
            for pid in await database_backends(connection):
                meter.watch(pid, "PostgreSQL (this database)")
            meter.sample()
            if victim is not None and not watch.killed and delivered >= count // 2:
                victim.process.kill()  # type: ignore[union-attr]
                await asyncio.to_thread(victim.process.wait)  # type: ignore[union-attr]
                watch.killed, watch.killed_at, watch.delivered_when_killed = victim.name, time.time(), delivered
                print(f"  SIGKILL {victim.name} at {delivered:,} delivered", flush=True)
            for dispatcher in dispatchers:
                if dispatcher.name != watch.killed and dispatcher.process.poll() is not None:  # type: ignore[union-attr]
                    raise BenchmarkError(f"dispatcher {dispatcher.name} exited during the run; see its log")
            if not any(counts.get(state, 0) for state in OPEN_STATES):
                watch.finished_at = time.time()
                watch.cpu_figures = meter.report()
                return watch
            if time.monotonic() - last_report >= 5:
                last_report = time.monotonic()
                print(f"  {time.time() - t0:6.1f} s: {dict(sorted(counts.items()))}", flush=True)
            await asyncio.sleep(WATCH_INTERVAL_SECONDS)
        counts, _ = await open_counts(connection)
        raise BenchmarkError(f"deliveries still open after {max_wait:.0f} s: {counts}")
    finally:
        await connection.close()


# --- the sandbox ----------------------------------------------------------------------------


def subscribe_bodies(count: int, book: TemplateBook) -> list[dict[str, Any]]:
    """The bodies the dispatcher sends for this burst: same template, fields and fitting."""
    templates = book.for_event(EVENT)
    spec = templates.subscribe if templates else None
    if spec is None:
        raise BenchmarkError(f"no subscribe template for {EVENT}")
    moment = datetime.now(SHANGHAI)
    return [
        {
            "touser": openid(n),
            "template_id": spec.template_id,
            "data": book.subscribe_data(spec, notification_values(n, moment)),
            "miniprogram_state": "formal",
            "lang": "zh_CN",
            "page": f"pages/enrolment/detail?id={n}",
        }
        for n in range(1, count + 1)
    ]


async def stable_token(sandbox_url: str, settings: Settings) -> str:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as client:
        answer = await client.post(
            "/cgi-bin/stable_token",
            json={
                "grant_type": "client_credential",
                "appid": settings.wechat_miniprogram_appid,
                "secret": settings.wechat_miniprogram_secret,
            },
        )
    token = answer.json().get("access_token")
    if not token:
        raise BenchmarkError(f"stable_token: {answer.text[:300]}")
    return str(token)


async def measure_httpx_baseline(sandbox_url: str, token: str, bodies: list[dict[str, Any]], width: int) -> Baseline:
    """The ceiling for a Python sender: the same sends straight from one asyncio loop to the
    sandbox with httpx, no database, no Redis, no threads; as many in flight as both dispatchers
    together may have."""
    # httpx's pool slows down as it grows: on this machine one client of 64 connections managed
    # ~380 sends/s, sixteen clients of 4 ~1,060/s. Small clients keep httpx's own pool from being
    # what is measured.
    limits = httpx.Limits(max_connections=HTTPX_POOL, max_keepalive_connections=HTTPX_POOL)
    clients = [
        httpx.AsyncClient(base_url=sandbox_url, timeout=30, limits=limits) for _ in range(-(-width // HTTPX_POOL))
    ]
    queue = iter(bodies)
    failures = 0

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal failures
        for body in queue:  # a shared iterator: each body is sent once, by whichever sender is free
            reply = await client.post("/cgi-bin/message/subscribe/send", params={"access_token": token}, json=body)
            if reply.status_code != 200 or reply.json().get("errcode") != 0:
                failures += 1

    try:
        started = time.perf_counter()
        senders = (sender(clients[i % len(clients)]) for i in range(width))
        await asyncio.wait_for(asyncio.gather(*senders), timeout=600)
        seconds = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    return Baseline(f"httpx, {len(clients)} clients of {HTTPX_POOL} connections", len(bodies), seconds, width, failures)


async def measure_raw_ceiling(sandbox_url: str, token: str, bodies: list[dict[str, Any]], width: int) -> Baseline:
    """The sandbox's own ceiling: hand-written HTTP/1.1 keep-alive requests on `width` sockets,
    so that no client library's cost is in the figure (the sandbox answers with Content-Length)."""
    host, _, port = sandbox_url.removeprefix("http://").partition(":")
    target = f"/cgi-bin/message/subscribe/send?access_token={token}"
    queue = iter(bodies)
    failures = 0

    async def sender() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for body in queue:
                payload = json.dumps(body, ensure_ascii=False).encode()
                head = (
                    f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n"
                )
                writer.write(head.encode() + payload)
                await writer.drain()
                lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length"))
                answer = await reader.readexactly(length)
                if " 200 " not in lines[0] or json.loads(answer).get("errcode") != 0:
                    failures += 1
        finally:
            writer.close()
            await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(sender() for _ in range(width))), timeout=600)
    return Baseline("raw HTTP/1.1 sockets", len(bodies), time.perf_counter() - started, width, failures)


async def sandbox_call(sandbox_url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=120) as client:
        answer = await client.request(method, path, json=body)
        if answer.status_code != 200:
            raise BenchmarkError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()


# --- the figures ----------------------------------------------------------------------------


async def collect(url: str, sandbox_url: str, count: int) -> Outcome:
    messages = (await sandbox_call(sandbox_url, "GET", "/_sandbox/messages"))["items"]
    calls = await sandbox_call(sandbox_url, "GET", "/_sandbox/calls")
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        rows = await connection.fetch(
            """
            SELECT u.openid, n.created_at, d.status, d.attempts, d.last_error
            FROM notification_deliveries d
            JOIN notifications n ON n.id = d.notification_id
            JOIN users u ON u.id = n.user_id
            """
        )
        balance_left = await connection.fetchval("SELECT coalesce(sum(balance), 0) FROM subscription_balances")
    finally:
        await connection.close()
    due = {row["openid"]: row["created_at"].timestamp() for row in rows}
    first_receipt: dict[str, float] = {}
    for message in messages:
        touser = message["touser"]
        first_receipt[touser] = min(first_receipt.get(touser, message["received_at"]), message["received_at"])
    latencies = sorted(first_receipt[user] - due[user] for user in first_receipt if user in due)
    statuses = Counter(row["status"] for row in rows)
    errors = Counter(row["last_error"].split(":")[0] for row in rows if row["status"] != "delivered")
    return Outcome(
        messages=len(messages),
        receipts=sorted(message["received_at"] for message in messages),
        latencies=latencies,
        duplicates=len(messages) - len(first_receipt),
        users_without_message=sum(1 for user in due if user not in first_receipt) + (count - len(due)),
        not_delivered=sum(1 for row in rows if row["status"] != "delivered") + (count - len(rows)),
        statuses=dict(sorted(statuses.items())),
        attempts=sum(row["attempts"] for row in rows),
        balance_left=int(balance_left),
        send_calls=int(calls.get("subscribe", 0)),
        last_errors=errors,
    )


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest rank: a value that was observed, not an interpolation."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def postgres_version(url: str) -> str:
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


async def redis_version(url: str) -> str:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        return str((await client.info("server")).get("redis_version", "unknown"))
    finally:
        await client.aclose()


def machine_facts(database_url: str, redis_url: str) -> list[tuple[str, str]]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return [
        ("CPUs (nproc)", str(len(os.sched_getaffinity(0)))),
        ("CPU model", model),
        ("PostgreSQL", asyncio.run(postgres_version(database_url))),
        ("Redis", asyncio.run(redis_version(redis_url))),
        ("Python", platform.python_version()),
    ]


def print_report(
    args: argparse.Namespace,
    machine: list[tuple[str, str]],
    dispatch_env: dict[str, str],
    baselines: list[Baseline],
    watch: Watch,
    outcome: Outcome,
) -> bool:
    """Print the figures; True when the run's correctness checks held."""
    count = args.messages
    first_due = watch.t0
    last_receipt = outcome.receipts[-1] if outcome.receipts else first_due
    span = max(last_receipt - first_due, 1e-9)
    per_second = count / span
    lat = outcome.latencies
    print("\n== machine")
    for name, value in machine:
        print(f"  {name}: {value}")
    print("\n== settings")
    names = ", ".join(dispatcher_names(args.dispatchers))
    print(f"  messages: {count:,}; dispatchers: {args.dispatchers} ({names}); fault run: {args.fault_run}")
    for name in sorted(dispatch_env):
        print(f"  {name}={dispatch_env[name]}")
    pool = "default (Tortoise asyncpg maxsize 5)" if not args.pool_maxsize else str(args.pool_maxsize)
    print(f"  database pool per dispatcher: {pool}")
    print("\n== baselines: the same N sends straight to the sandbox, no database")
    for baseline in baselines:
        print(
            f"  {baseline.label}: {baseline.messages:,} in {baseline.seconds:.2f} s = "
            f"{baseline.per_second:,.0f} messages/s at {baseline.concurrency} in flight"
        )
    print("\n== pipeline")
    print(f"  burst insert (COPY, one transaction, then ANALYZE): {watch.insert_seconds:.2f} s (inside the latencies)")
    print(f"  messages/s: {per_second:,.0f} ({count:,} / {span:.2f} s from first due to last receipt)")
    for baseline in baselines:
        print(f"  of the baseline ({baseline.label}): {per_second / baseline.per_second:.2f}")
    print(
        f"  latency due -> receipt: p50 {percentile(lat, 0.5):.2f} s, p95 {percentile(lat, 0.95):.2f} s, "
        f"max {percentile(lat, 1.0):.2f} s"
    )
    print(f"  wall time, burst to nothing open: {watch.finished_at - watch.t0:.2f} s")
    print(f"  sandbox messages: {outcome.messages:,}; duplicates: {outcome.duplicates:,}")
    print(
        f"  losses: {outcome.users_without_message:,} workers without a message, "
        f"{outcome.not_delivered:,} deliveries not delivered"
    )
    print(f"  final delivery states: {outcome.statuses}")
    print(f"  retries (attempts - N): {outcome.attempts - count:,}")
    print(f"  consent balance left (0: each worker's one consent spent exactly once): {outcome.balance_left:,}")
    if outcome.last_errors:
        print(f"  errors of undelivered: {dict(outcome.last_errors)}")
    print(f"  sends that reached the sandbox (refused ones included): {outcome.send_calls:,}")
    print(f"  most claims seen at once sending under a lapsed lease, every dispatcher alive: {watch.lapsed_alive:,}")
    wall, busy, used = watch.cpu_figures
    if wall > 0:
        cores = len(os.sched_getaffinity(0))
        print(f"  CPU from burst to nothing open ({wall:.1f} s): machine busy {busy / wall:.2f} of {cores} cores")
        for kind, seconds in sorted(used.items(), key=lambda item: -item[1]):
            print(f"    {kind}: {seconds / wall:.2f} cores, {1000 * seconds / count:.2f} ms per message")
        others = busy - sum(used.values())
        print(f"    everything else (Redis, other work on the machine): {others / wall:.2f} cores")
    if watch.killed:
        print(
            f"  killed {watch.killed} (SIGKILL) at {watch.delivered_when_killed:,} delivered, "
            f"{watch.killed_at - watch.t0:.2f} s into the run"
        )
        print(f"  most claims seen at once sending under a lapsed lease after the kill: {watch.lapsed_after_kill:,}")
        before = sum(1 for receipt in outcome.receipts if receipt < watch.killed_at)
        after_span = max(last_receipt - watch.killed_at, 1e-9)
        print(
            f"  messages/s before the kill: {before / max(watch.killed_at - first_due, 1e-9):,.0f}; "
            f"after it, the survivor alone: {(outcome.messages - before) / after_span:,.0f}"
        )
    lost = outcome.users_without_message + outcome.not_delivered
    sound = lost == 0 and (args.fault_run or outcome.duplicates == 0)
    verdict = "PASS" if per_second >= TARGET_PER_SECOND else "MISS"
    print(f"\nthroughput target >= {TARGET_PER_SECOND:,.0f} messages/s: {verdict} ({per_second:,.0f})")
    print("correctness: " + ("OK" if sound else "BROKEN (losses, or duplicates in a run without faults)"))
    return sound


# --- the run --------------------------------------------------------------------------------


def dispatcher_names(count: int) -> list[str]:
    return [f"bench-{chr(ord('a') + index)}" for index in range(count)]


def dispatcher_env(args: argparse.Namespace) -> dict[str, str]:
    settings = {
        "LOG_LEVEL": "WARNING",
        "WECHAT_SENDS_PER_SECOND": "0",
        "DISPATCHER_POLL_SECONDS": "0.05",
        "DISPATCHER_BATCH_SIZE": str(args.batch_size),
        "DISPATCHER_CONCURRENCY": str(args.concurrency),
    }
    if args.fault_run:
        settings.update(FAULT_DISPATCH)
    return settings


def run(args: argparse.Namespace) -> bool:
    """Process management is plain blocking code; each stage that talks to a database or over HTTP
    runs in its own event loop."""
    logs = Path(tempfile.mkdtemp(prefix="gonghui-bench-notifications-"))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    redis_prefix = f"gonghui-bench-{uuid.uuid4().hex[:8]}:"
    processes: list[Process] = []
    database_name = ""
    succeeded = False
    print(f"logs of the processes: {logs}", flush=True)
    try:
        machine = machine_facts(args.database_url, args.redis_url)
        database_name, database_url = asyncio.run(create_scratch_database(args.database_url, "gonghui_bench"))
        print(f"database {database_name}", flush=True)
        sandbox_port = free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        env = base_env(
            DATA_DIR=str(logs),
            DATABASE_URL=database_url,
            REDIS_URL=args.redis_url,
            REDIS_PREFIX=redis_prefix,
            SANDBOX_PORT=str(sandbox_port),
            WECHAT_API_BASE_URL=sandbox_url,
            # The baseline asks for a token with these; a .env in the working directory must not differ.
            WECHAT_MINIPROGRAM_APPID=settings.wechat_miniprogram_appid,
            WECHAT_MINIPROGRAM_SECRET=settings.wechat_miniprogram_secret,
            NOTIFICATION_TEMPLATES="",
        )
        done = run_command(env, "migrate")
        if done.returncode != 0:
            raise BenchmarkError("migrate failed: " + done.stdout + done.stderr)

        sandbox = Process("sandbox", env, logs / "sandbox.log")
        processes.append(sandbox.start("sandbox"))
        wait_until_answering(f"{sandbox_url}/_sandbox/healthz", sandbox.process)  # type: ignore[arg-type]

        book = TemplateBook(parse_templates(""))
        spec = book.for_event(EVENT)
        template_id = spec.subscribe.template_id if spec and spec.subscribe else ""
        started = time.perf_counter()
        asyncio.run(load_workers(database_url, args.messages, template_id))
        print(f"{args.messages:,} workers with one consent each loaded in {time.perf_counter() - started:.1f} s")

        width = args.dispatchers * args.concurrency
        bodies = subscribe_bodies(args.messages, book)
        token = asyncio.run(stable_token(sandbox_url, settings))
        baselines: list[Baseline] = []
        for measure in (measure_httpx_baseline, measure_raw_ceiling):
            baseline = asyncio.run(measure(sandbox_url, token, bodies, width))
            print(f"baseline, {baseline.label}, {width} in flight: {baseline.per_second:,.0f} messages/s", flush=True)
            if baseline.failures:
                raise BenchmarkError(f"{baseline.failures} sends of the baseline ({baseline.label}) failed")
            baselines.append(baseline)
        # Forget the baseline's messages (and its token) so that every recorded message is the pipeline's.
        asyncio.run(sandbox_call(sandbox_url, "POST", "/_sandbox/reset"))
        faults = {**NO_FAULTS, **(FAULTS if args.fault_run else {})}
        asyncio.run(sandbox_call(sandbox_url, "PUT", "/_sandbox/faults", faults))

        dispatch_settings = dispatcher_env(args)
        dispatch_env = {**env, **dispatch_settings}
        if args.pool_maxsize:
            dispatch_env["DATABASE_URL"] = f"{database_url}?maxsize={args.pool_maxsize}"
        dispatchers = [Process(name, dispatch_env, logs / f"{name}.log") for name in dispatcher_names(args.dispatchers)]
        for dispatcher in dispatchers:
            processes.append(dispatcher.start("jobs", "--name", dispatcher.name))
        asyncio.run(wait_for_dispatchers(database_url, dispatchers))
        print(f"pipeline: two dispatchers, burst of {args.messages:,} ...", flush=True)
        victim = dispatchers[1] if args.fault_run else None
        watch = asyncio.run(burst_and_watch(database_url, args.messages, dispatchers, sandbox, victim, args.max_wait))
        for dispatcher in dispatchers:
            if dispatcher.name != watch.killed:
                dispatcher.stop()  # SIGTERM, as systemd would
        outcome = asyncio.run(collect(database_url, sandbox_url, args.messages))
        if args.fault_run:
            asyncio.run(sandbox_call(sandbox_url, "PUT", "/_sandbox/faults", NO_FAULTS))
        sound = print_report(args, machine, dispatch_settings, baselines, watch, outcome)
        succeeded = True
        return sound
    finally:
        for process in reversed(processes):
            process.stop()
        if database_name:
            asyncio.run(drop_scratch_database(args.database_url, database_name))
        asyncio.run(forget_redis_keys(args.redis_url, redis_prefix))
        if succeeded and not args.keep_logs:
            shutil.rmtree(logs)
        else:
            print(f"logs kept in {logs}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.notifications_throughput", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="a PostgreSQL database on the server to use; the benchmark makes and drops its own beside it",
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--fault-run", action="store_true", help="inject WeChat faults and kill one dispatcher")
    parser.add_argument("--dispatchers", type=int, default=2, help="dispatcher processes (2 as specified; 1..4)")
    parser.add_argument("--batch-size", type=int, default=200, help="DISPATCHER_BATCH_SIZE of each dispatcher")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=Settings.model_fields["dispatcher_concurrency"].default,
        help="DISPATCHER_CONCURRENCY of each dispatcher (default: the setting's default)",
    )
    parser.add_argument(
        "--pool-maxsize", type=int, default=0, help="database pool per dispatcher (?maxsize=); 0: Tortoise's default"
    )
    parser.add_argument("--max-wait", type=float, default=600.0, help="seconds to wait for every delivery to end")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs after a clean run")
    args = parser.parse_args(argv)
    if not 1 <= args.messages <= 1_000_000:
        parser.error("--messages must be within 1..1,000,000")
    if not 1 <= args.dispatchers <= 4 or (args.fault_run and args.dispatchers < 2):
        parser.error("--dispatchers must be within 1..4, and at least 2 for --fault-run (one is killed)")
    try:
        sound = run(args)
    except BenchmarkError as exc:
        print(f"benchmark broke: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if not sound:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
