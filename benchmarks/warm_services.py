"""Warm services at city scale: the nearby search among 20,000 rest stations and the caseworker's
request queue with 100,000 requests in a city subtree, through the real server under wrk, beside a
bare Sanic + asyncpg app issuing the same statements, in the same run.

    .venv/bin/python -m benchmarks.warm_services [--database-url postgres://...] [--seconds 10]

It makes its own database beside the one named (and drops it at the end), applies the migrations,
loads the city of `benchmarks.enrolment_scale` (10,760 unions), 20,000 stations around 中山 and
深圳 and 100,000 help requests with their two timers each, with COPY; starts the WeChat sandbox,
the server (one worker, PostgreSQL + Redis) and the bare app; checks that both give the same
answer for each measured request; then loads each endpoint with wrk (64 connections) and prints
requests per second, p50/p99 and the ratio to the bare app. It exits 0 whether or not the server
is fast, non-zero only when something broke. See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from benchmarks.common import BenchmarkRun, asyncpg_url, run_or_serve
from benchmarks.enrolment_scale import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    BenchmarkError,
    City,
    build_city,
    copy_org_tree,
    machine_facts,
    markdown_table,
)
from benchmarks.wrk import WrkResult, run_wrk
from models.catalogue import STATION_AMENITIES
from models.stations.geo import bounding_box, distance_m
from models.stations.hours import Hours
from models.warm_requests.catalogue import REQUEST_TYPES
from server.clock import SHANGHAI

STATIONS = 20_000
REQUESTS = 100_000
STAFF_USERNAME = "bench-warm-caseworker"
STAFF_PASSWORD = "bench-warm-caseworker-2025"

# Where stations are: around the province's cities, by rough share of its outdoor workers
# ((centre lat, lng in GCJ-02), share, spread in degrees); about 1,200 in 中山.
STATION_CLUSTERS = (
    ((23.1291, 113.2644), 0.22, 0.20),  # 广州
    ((22.5431, 114.0579), 0.22, 0.15),  # 深圳
    ((23.0215, 113.7518), 0.12, 0.15),  # 东莞
    ((23.0218, 113.1219), 0.10, 0.15),  # 佛山
    ((22.5170, 113.3926), 0.06, 0.10),  # 中山
    ((22.5787, 113.0819), 0.05, 0.15),  # 江门
    ((23.1115, 114.4152), 0.05, 0.15),  # 惠州
    ((22.2710, 113.5767), 0.04, 0.08),  # 珠海
    ((23.3535, 116.6820), 0.05, 0.15),  # 汕头
    ((21.2707, 110.3594), 0.05, 0.15),  # 湛江
    ((24.8104, 113.5972), 0.04, 0.15),  # 韶关
)
# The worker looking for a station stands in 中山 石岐, among the densest stations.
WORKER_AT = (22.5220, 113.3860)
HOURS_MIX = (
    ({"always": True}, 0.4),
    ({"open": "08:00", "close": "20:00"}, 0.35),
    ({"open": "07:00", "close": "22:00"}, 0.15),
    ({"open": "18:00", "close": "06:00"}, 0.10),
)
# Help requests by status: most are done; the open ones are what queues show.
STATUS_MIX = (
    ("submitted", 0.08),
    ("assigned", 0.07),
    ("in_progress", 0.12),
    ("waiting_worker", 0.04),
    ("resolved", 0.09),
    ("closed", 0.55),
    ("withdrawn", 0.05),
)
OPEN_STATUSES = {"submitted", "assigned", "in_progress", "waiting_worker"}

STATION_COLUMNS = (
    "id", "name", "address", "lat", "lng", "hours", "amenities", "contact_phone", "active",
    "created_at", "updated_at", "org_id",
)  # fmt: skip
REQUEST_COLUMNS = (
    "id", "user_id", "org_id", "request_type", "description", "values", "lat", "lng", "status",
    "assignee_id", "resolution", "created_at", "resolved_at",
)  # fmt: skip
TIMER_COLUMNS = (
    "case_type", "case_id", "kind", "calendar", "target_minutes", "risk_percent", "on_breach", "status",
    "started_at", "worked_seconds", "segment_started_at", "paused_at", "ended_at", "risk_at", "due_at",
    "next_check_at", "at_risk_alerted_at", "breach_alerted_at", "estimated", "created_at", "updated_at", "org_id",
)  # fmt: skip
RISK_PERCENT = 80


def weighted(rng: random.Random, mix: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([value for value, _ in mix], [weight for _, weight in mix])[0]


def station_rows(rng: random.Random, city: City, moment: datetime) -> list[tuple[Any, ...]]:
    towns = city.town_ids
    amenities = list(STATION_AMENITIES)
    rows = []
    for number in range(1, STATIONS + 1):
        (lat, lng), _, spread = rng.choices(STATION_CLUSTERS, [share for _, share, _ in STATION_CLUSTERS])[0]
        offered = [code for code in amenities if rng.random() < 0.45]
        rows.append(
            (
                number,
                f"户外劳动者驿站{number:05d}",
                f"站点路{number}号",
                lat + rng.gauss(0, spread),
                lng + rng.gauss(0, spread),
                json.dumps(weighted(rng, HOURS_MIX)),
                json.dumps(offered),
                "0760-88888888",
                rng.random() > 0.02,
                moment,
                moment,
                rng.choice(towns),
            )
        )
    return rows


def timer_row(
    request_id: int, org_id: int, kind: str, minutes: int, started: datetime, ended: datetime | None, moment: datetime
) -> tuple[Any, ...]:
    """One timer on the 24x7 calendar (so its instants are plain arithmetic), as the kernel keeps
    it: running, paused, or met/stopped at `ended`; alerted once its risk or due instant passed."""
    due = started + timedelta(minutes=minutes)
    risk = started + timedelta(minutes=minutes * RISK_PERCENT / 100)
    status = "running" if ended is None else ("met" if kind == "first_response" else "stopped")
    risk_alerted = risk if ended is None and risk <= moment else None
    breach_alerted = due if ended is None and due <= moment else None
    pending = [instant for instant, alerted in ((risk, risk_alerted), (due, breach_alerted)) if alerted is None]
    next_check = min(pending) if pending and ended is None else None
    worked = int(((ended or moment) - started).total_seconds()) if ended else 0
    return (
        "warm_request", request_id, kind, "24x7", minutes, RISK_PERCENT, '["notify", "escalate"]', status,
        started, worked, started if ended is None else None, None, ended, risk, due,
        next_check, risk_alerted, breach_alerted, False, started, ended or started, org_id,
    )  # fmt: skip


def request_rows(
    rng: random.Random, city: City, moment: datetime, staff_id: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    # Requests land in grassroots unions and towns alike, more in the bigger grassroots ones.
    orgs = [org.id for org in city.grassroots] + city.town_ids
    weights = [*city.members_per_org, *([sum(city.members_per_org) / len(city.grassroots) * 5] * len(city.town_ids))]
    org_ids = rng.choices(orgs, weights, k=REQUESTS)
    types = list(REQUEST_TYPES.values())
    requests, timers = [], []
    for number, org_id in enumerate(org_ids, start=1):
        status = weighted(rng, STATUS_MIX)
        kind = rng.choice(types)
        is_open = status in OPEN_STATUSES
        # Open requests are recent; the queue's oldest are what breach.
        created = moment - timedelta(minutes=rng.uniform(5, 60 * 24 * (6 if is_open else 180)))
        assignee = staff_id if status != "submitted" and is_open and rng.random() < 0.3 else None
        resolved = created + timedelta(hours=rng.uniform(2, 96)) if status in {"resolved", "closed"} else None
        requests.append(
            (
                number, 1_000_000 + rng.randrange(400_000), org_id, kind.code, "平台拖欠配送费，请工会帮忙",
                "{}", None, None, status, assignee, "已协调平台补发" if resolved else "", created, resolved,
            )
        )  # fmt: skip
        answered = None if status == "submitted" else created + timedelta(minutes=rng.uniform(10, 600))
        finished = resolved or (created + timedelta(hours=1) if status == "withdrawn" else None)
        timers.append(
            timer_row(
                number, org_id, "first_response", kind.first_response_minutes, created,
                min(filter(None, (answered, finished)), default=None), moment,
            )
        )  # fmt: skip
        timers.append(timer_row(number, org_id, "resolution", kind.resolution_minutes, created, finished, moment))
    return requests, timers


@dataclass(frozen=True)
class Loaded:
    city: City
    staff_id: int
    seconds: float


async def load_city(url: str, rng: random.Random) -> City:
    """The union tree first: the caseworker is made at its root before the cases are loaded."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        city = build_city(rng)
        await copy_org_tree(connection, city.orgs)
        await connection.execute("SELECT setval(pg_get_serial_sequence('orgs', 'id'), (SELECT max(id) FROM orgs))")
    finally:
        await connection.close()
    return city


async def load_cases(url: str, rng: random.Random, city: City, staff_username: str) -> Loaded:
    moment = datetime.now(SHANGHAI)
    started = time.perf_counter()
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await connection.execute("SET session_replication_role = replica")
        await connection.copy_records_to_table(
            "stations", columns=STATION_COLUMNS, records=station_rows(rng, city, moment)
        )
        staff_id = await connection.fetchval("SELECT id FROM staff_accounts WHERE username = $1", staff_username)
        requests, timers = request_rows(rng, city, moment, staff_id)
        await connection.copy_records_to_table("warm_requests", columns=REQUEST_COLUMNS, records=requests)
        await connection.copy_records_to_table("sla_timers", columns=TIMER_COLUMNS, records=timers)
        await connection.execute("RESET session_replication_role")
        for table in ("stations", "warm_requests", "sla_timers"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()
    return Loaded(city, staff_id, time.perf_counter() - started)


# --- the bare app ----------------------------------------------------------------------------

NEARBY_CANDIDATES_SQL = """
SELECT id, lat, lng, amenities, hours FROM stations
WHERE active AND lat >= $1 AND lat <= $2 AND lng >= $3 AND lng <= $4
"""
PAGE_SQL = "SELECT * FROM stations WHERE id = ANY($1::bigint[])"
# The filters as the server writes them (Tortoise's SQL, parameters and all), so that both sides
# get the same plans: (SQL after the subtree condition, its parameters after the org id).
OPEN = ("submitted", "assigned", "in_progress", "waiting_worker")
QUEUE_FILTERS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "": ("", ()),
    "submitted": ("AND w.status = $2", ("submitted",)),
    "breached": (
        """AND w.status IN ($2, $3, $4, $5) AND w.id IN (SELECT case_id FROM sla_timers
        WHERE case_type = $6 AND status IN ($7, $8) AND ((status = $9 AND due_at <= $10) OR NOT breach_alerted_at IS NULL))""",
        (*OPEN, "warm_request", "running", "paused", "running"),
    ),
}
QUEUE_WHERE = "w.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1) {filter}"
QUEUE_PAGE_SQL = f"SELECT w.* FROM warm_requests w WHERE {QUEUE_WHERE} ORDER BY w.created_at, w.id LIMIT 20"
QUEUE_COUNT_SQL = f"SELECT count(*) FROM warm_requests w WHERE {QUEUE_WHERE}"
QUEUE_TIMERS_SQL = """
SELECT * FROM sla_timers WHERE case_type = 'warm_request' AND case_id = ANY($1::bigint[])
"""
QUEUE_ORGS_SQL = "SELECT id, name FROM orgs WHERE id = ANY($1::bigint[])"


def serve_baseline(port: int, database_url: str) -> None:
    """The ceiling: Sanic and an asyncpg pool issuing the statements the product needs for the same
    answer, with the same distance and opening-hours code, but no ORM, no auth, no response model."""
    app = Sanic("warm_services_baseline", configure_logging=False)
    app.config.AUTO_EXTEND = False  # sanic-ext would otherwise attach itself to this app too

    @app.before_server_start
    async def open_pool(app: Sanic) -> None:
        # The server's own connection setting (server/db.py): generic plans count a city's breached
        # requests seven times slower than planning each time.
        app.ctx.pool = await asyncpg.create_pool(
            asyncpg_url(database_url),
            min_size=1,
            max_size=5,
            server_settings={"plan_cache_mode": "force_custom_plan"},
        )

    @app.get("/nearby")
    async def nearby(request: Request) -> HTTPResponse:
        lat, lng = float(request.args["lat"][0]), float(request.args["lng"][0])
        radius = float(request.args["radius_m"][0])
        wanted = set(request.args.getlist("amenity", []))
        open_now = request.args.get("open_now") == "true"
        at = datetime.now(SHANGHAI)
        box = bounding_box(lat, lng, radius)
        async with request.app.ctx.pool.acquire() as connection:
            rows = await connection.fetch(NEARBY_CANDIDATES_SQL, box.south, box.north, box.west, box.east)
            found = []
            for row in rows:
                distance = distance_m(lat, lng, row["lat"], row["lng"])
                if distance > radius or (wanted and not wanted <= set(json.loads(row["amenities"]))):
                    continue
                if open_now and not Hours.parse(json.loads(row["hours"])).is_open(at):
                    continue
                found.append((distance, row["id"]))
            found.sort()
            page = found[:20]
            stations = {row["id"]: row for row in await connection.fetch(PAGE_SQL, [station for _, station in page])}
        items = [
            {
                "id": station,
                "name": stations[station]["name"],
                "distance_m": round(distance, 1),
                "amenities": json.loads(stations[station]["amenities"]),
                "open_now": Hours.parse(json.loads(stations[station]["hours"])).is_open(at),
            }
            for distance, station in page
        ]
        return json_response({"items": items, "total": len(found)}, ensure_ascii=False)

    @app.get("/queue")
    async def queue(request: Request) -> HTTPResponse:
        org_id = int(request.args["org_id"][0])
        chosen, values = QUEUE_FILTERS[request.args.get("filter", "")]
        # The breached filter compares with the instant, a parameter as the server sends it.
        parameters = (org_id, *values, *((datetime.now(SHANGHAI),) if "$10" in chosen else ()))
        # One connection for the request's statements, as a request should hold one.
        async with request.app.ctx.pool.acquire() as connection:
            rows = await connection.fetch(QUEUE_PAGE_SQL.format(filter=chosen), *parameters)
            timers = await connection.fetch(QUEUE_TIMERS_SQL, [row["id"] for row in rows])
            names = await connection.fetch(QUEUE_ORGS_SQL, [row["org_id"] for row in rows])
            total = await connection.fetchval(QUEUE_COUNT_SQL.format(filter=chosen), *parameters)
        org_names = {row["id"]: row["name"] for row in names}
        due = {(timer["case_id"], timer["kind"]): timer["due_at"] for timer in timers}
        items = [
            {
                "id": row["id"],
                "status": row["status"],
                "org": org_names[row["org_id"]],
                "created_at": row["created_at"].isoformat(),
                "resolution_due_at": due[row["id"], "resolution"].isoformat(),
            }
            for row in rows
        ]
        return json_response({"items": items, "total": total})

    app.prepare(host="127.0.0.1", port=port, motd=False, access_log=False, single_process=True)
    Sanic.serve_single(app)


# --- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    name: str
    product_path: str
    baseline_path: str
    staff: bool


@dataclass(frozen=True)
class Measured:
    pair: Pair
    total: int
    product: WrkResult
    baseline: WrkResult


def pairs(city: City) -> list[Pair]:
    lat, lng = WORKER_AT
    here = f"lat={lat}&lng={lng}"
    return [
        Pair("nearby, 3 km", f"/api/v1/stations/nearby?{here}&radius_m=3000", f"/nearby?{here}&radius_m=3000", False),
        Pair(
            "nearby, 10 km, charger, open now",
            f"/api/v1/stations/nearby?{here}&radius_m=10000&amenity=charging&open_now=true",
            f"/nearby?{here}&radius_m=10000&amenity=charging&open_now=true",
            False,
        ),
        Pair(
            "request queue, city root, page 1",
            "/api/v1/admin/warm-requests?page=1&page_size=20",
            f"/queue?org_id={city.city_id}",
            True,
        ),
        Pair(
            "request queue, city root, unassigned new",
            "/api/v1/admin/warm-requests?status=submitted&page_size=20",
            f"/queue?org_id={city.city_id}&filter=submitted",
            True,
        ),
        Pair(
            "request queue, city root, breached",
            "/api/v1/admin/warm-requests?sla=breached&page_size=20",
            f"/queue?org_id={city.city_id}&filter=breached",
            True,
        ),
    ]


async def staff_token(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        login = await client.post(
            "/api/v1/admin/auth/login", json={"username": STAFF_USERNAME, "password": STAFF_PASSWORD}
        )
        if login.status_code != 200:
            raise BenchmarkError(f"staff login: {login.status_code} {login.text[:300]}")
        return str(login.json()["token"])


async def same_answers(base_url: str, baseline_url: str, pair: Pair, headers: dict[str, str]) -> int:
    """Both sides must find the same items in the same order, or the comparison means nothing."""
    async with httpx.AsyncClient(timeout=60) as client:
        product = (await client.get(base_url + pair.product_path, headers=headers)).json()
        bare = (await client.get(baseline_url + pair.baseline_path)).json()
    if "items" not in product:
        raise BenchmarkError(f"{pair.name}: the server answered {product}")
    ids = [item["id"] for item in product["items"]]
    if ids != [item["id"] for item in bare["items"]] or product["total"] != bare["total"]:
        raise BenchmarkError(
            f"{pair.name}: the server and the bare app disagree ({product['total']} / {bare['total']})"
        )
    if not ids:
        raise BenchmarkError(f"{pair.name}: nothing found; the load is wrong")
    return int(product["total"])


def measure(base_url: str, baseline_url: str, city: City, args: argparse.Namespace) -> list[Measured]:
    headers = {"Authorization": f"Bearer {asyncio.run(staff_token(base_url))}"}
    results = []
    for pair in pairs(city):
        sent = headers if pair.staff else {}
        total = asyncio.run(same_answers(base_url, baseline_url, pair, sent))
        print(f"  {pair.name}: {total} found; loading each side for {args.seconds:.0f} s", flush=True)
        load = {"connections": args.connections, "seconds": args.seconds}
        run_wrk(base_url + pair.product_path, headers=sent, connections=args.connections, seconds=2)  # warm-up
        product = run_wrk(base_url + pair.product_path, headers=sent, **load)
        run_wrk(baseline_url + pair.baseline_path, connections=args.connections, seconds=2)
        baseline = run_wrk(baseline_url + pair.baseline_path, **load)
        results.append(Measured(pair, total, product, baseline))
    return results


def print_report(
    machine: list[tuple[str, str]], loaded: Loaded, results: list[Measured], args: argparse.Namespace
) -> None:
    print()
    print(f"# Warm services at city scale ({datetime.now(SHANGHAI):%Y-%m-%d})")
    print()
    for key, value in machine:
        print(f"- {key}: {value}")
    print(
        f"- data: {len(loaded.city.orgs) - 1:,} orgs in the city subtree, {STATIONS:,} stations, "
        f"{REQUESTS:,} help requests with {2 * REQUESTS:,} timers, loaded in {loaded.seconds:.1f} s"
    )
    print(f"- load: wrk, {args.connections} connections, 1 thread, {args.seconds:.0f} s per side; server WORKERS=1")
    print()
    rows = []
    for result in results:
        product, baseline = result.product, result.baseline
        rows.append(
            [
                result.pair.name,
                f"{result.total:,}",
                f"{product.requests_per_second:,.0f}",
                f"{product.p50_ms:.1f} / {product.p99_ms:.1f}",
                f"{baseline.requests_per_second:,.0f}",
                f"{baseline.p50_ms:.1f} / {baseline.p99_ms:.1f}",
                f"{product.requests_per_second / baseline.requests_per_second:.0%}"
                if baseline.requests_per_second
                else "n/a",
                "yes" if product.clean and baseline.clean else f"no ({product.non_2xx + product.socket_errors})",
            ]
        )
    headers = ["request", "found", "server req/s", "p50 / p99 ms", "bare req/s", "bare p50 / p99 ms", "ratio", "clean"]
    print("\n".join(markdown_table(headers, rows)))


def run(args: argparse.Namespace) -> None:
    with BenchmarkRun(args.database_url, args.redis_url, keep_database=args.keep_database) as bench:
        print("loading:", flush=True)
        rng = random.Random(args.seed)
        city = asyncio.run(load_city(bench.database_url, rng))
        bench.command(
            "create-staff",
            *("--username", STAFF_USERNAME, "--password", STAFF_PASSWORD),
            *("--role", "caseworker", "--org-id", str(city.city_id), "--permanent"),
        )
        loaded = asyncio.run(load_cases(bench.database_url, rng, city, STAFF_USERNAME))
        print(f"loaded in {loaded.seconds:.1f} s", flush=True)
        bench.start_sandbox()
        base_url = bench.start_server()
        baseline_url = bench.start_baseline("benchmarks.warm_services", f"/queue?org_id={loaded.city.city_id}")
        quiet = os.getloadavg()[0]
        print("measuring:", flush=True)
        results = measure(base_url, baseline_url, loaded.city, args)
        machine = [
            *machine_facts(args.database_url),
            ("load average", f"{quiet:.2f} before measuring, {os.getloadavg()[0]:.2f} after (1 min)"),
        ]
        print_report(machine, loaded, results, args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warm_services", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk's measured time per endpoint and side")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seed", type=int, default=442000)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--serve-baseline", nargs=2, metavar=("PORT", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    run_or_serve(args, run, serve_baseline)


if __name__ == "__main__":
    main()
