"""Product endpoints under load, beside a bare Sanic app replaying the very statements the server
sends, in the same run, on PostgreSQL + Redis and on the embedded default (SQLite + in-process).

    make bench-load            # or: .venv/bin/python -m benchmarks.load [--backend production]

For each back end it migrates a fresh database (PostgreSQL: a scratch database beside the one
named, dropped at the end; embedded: a SQLite file), loads the demo, starts the WeChat sandbox and
the server, and sets up through the real API a worker who is a member, has applied and asked for
help, and a caseworker of 中山市总工会. The server runs first with a statement tracer
(`--serve-traced`: asyncpg's and aiosqlite's query methods counted in the server process, the
only instrumentation): it records each endpoint's statements (SQL, parameters, results) for one
request after a warm-up and counts them over `--count-requests` more. Then the plain server
(`python -m server run`, one worker) and the bare app start. The bare app is Sanic plus the same
driver, no ORM, no auth, no response model: for each endpoint it replays the recorded statements
(same SQL, same count, same parameters, in a transaction where the server had one) on one
connection per request and answers their rows as JSON. Before loading, each endpoint's replay
must return the rows the server's statements returned. Then wrk (64 connections, one thread)
loads each endpoint on each side, `--rounds` times, alternating sides so that noise hits both.

It prints req/s, p50/p99, statements per request and the ratio to the bare app with its target
(reads 50 %, writes 35 %, p99 under 100 ms). It exits 0 whether or not targets are met, non-zero
only when something broke. See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import statistics
import sys
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sanic import Request, Sanic
from sanic.response import HTTPResponse, raw
from sanic.response import json as json_response

from benchmarks.common import BenchmarkError, BenchmarkRun, asyncpg_url
from benchmarks.enrolment_scale import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, machine_facts, markdown_table
from benchmarks.wrk import WrkResult, run_wrk
from server.clock import SHANGHAI
from server.settings import DEV_DEMO_ADMIN_PASSWORD
from tests.factories.common import bearer
from tests.factories.profiles import worker_with_profile

READ_TARGET, WRITE_TARGET, P99_TARGET_MS = 0.50, 0.35, 100.0
STAFF = "zhongshan"  # a caseworker of 中山市总工会 in the demo
ADMIN = "admin"  # the demo's superadmin, who may set time limits
APPLY_TO = "中山市新就业形态劳动者工会联合会"
CONSENT_TEMPLATE = "sbx-review-result"

# --- the tracer: counts and records what the drivers send ------------------------------------------


@dataclass
class Traced:
    driver: str
    method: str
    query: str
    args: tuple[Any, ...]
    rows: str  # what came back, as text: a replay must get the same
    reset: bool = False


@dataclass
class Tracer:
    count: int = 0
    resets: int = 0
    recording: list[Traced] | None = None

    def seen(self, traced: Traced) -> None:
        self.count += 1
        self.resets += traced.reset
        if self.recording is not None:
            self.recording.append(traced)


TRACER = Tracer()


def result_text(result: Any) -> str:
    """Rows as comparable text: records and sqlite rows as tuples, cursors as nothing."""
    if isinstance(result, list):
        return repr([tuple(row) for row in result])
    if hasattr(result, "keys"):  # an asyncpg Record or a sqlite3.Row
        return repr(tuple(result))
    if result is None or isinstance(result, str | int | float | tuple):
        return repr(result)
    return ""


def install_tracer() -> None:
    """Wrap the query methods of asyncpg's and aiosqlite's connections (a method counted here is
    one statement sent; `execute` with no arguments is one simple-protocol round trip)."""
    import aiosqlite
    import asyncpg

    def wrap(cls: type, driver: str, method: str) -> None:
        original = getattr(cls, method)

        async def traced(self: Any, query: str = "", *args: Any, **kwargs: Any) -> Any:
            result = await original(self, query, *args, **kwargs) if query else await original(self)
            reset = driver == "asyncpg" and query == self.get_reset_query()
            TRACER.seen(Traced(driver, method, query, args, result_text(result), reset))
            return result

        setattr(cls, method, traced)

    for method in ("fetch", "fetchrow", "fetchval", "execute", "executemany"):
        wrap(asyncpg.Connection, "asyncpg", method)
    for method in ("execute", "execute_fetchall", "execute_insert", "executemany", "commit", "rollback"):
        wrap(aiosqlite.Connection, "aiosqlite", method)


def serve_traced() -> None:
    """The server, as `python -m server run` serves it (one worker), with the tracer and two
    routes to read it."""
    from server.app import create_app
    from server.settings import load_settings

    install_tracer()
    settings = load_settings()
    app = create_app(settings)

    @app.post("/_bench/trace")
    async def start(request: Request) -> HTTPResponse:
        TRACER.count = TRACER.resets = 0
        TRACER.recording = [] if request.args.get("record") else None
        return json_response({})

    @app.get("/_bench/trace")
    async def read(request: Request) -> HTTPResponse:
        """The figures since the start; with `recorded`, the recorded statements, pickled."""
        if request.args.get("recorded"):
            recorded, TRACER.recording = TRACER.recording, None
            return raw(pickle.dumps([astuple(traced) for traced in recorded or []]))
        return json_response({"count": TRACER.count, "resets": TRACER.resets})

    app.prepare(host=settings.host, port=settings.port, motd=False, access_log=False, single_process=True)
    Sanic.serve_single(app)


# --- the bare app ---------------------------------------------------------------------------


def read_statements(path: Path) -> dict[str, list[Traced]]:
    return {slug: [Traced(*fields) for fields in kept] for slug, kept in pickle.loads(path.read_bytes()).items()}


def serve_baseline(port: int, database_url: str, statements_path: str) -> None:
    """Sanic and the server's driver replaying each endpoint's recorded statements on one
    connection, with nothing else: no ORM, no auth, no validation, no response model."""
    recorded = read_statements(Path(statements_path))
    app = Sanic("load_baseline", configure_logging=False)
    app.config.AUTO_EXTEND = False  # sanic-ext would otherwise attach itself to this app too
    sqlite = database_url.startswith("sqlite")

    @app.before_server_start
    async def connect(app: Sanic) -> None:
        if sqlite:
            import aiosqlite

            # As Tortoise opens it (server/db.py, server/sqlite_backend.py): one connection,
            # autocommit, WAL, foreign keys, the same busy timeout.
            app.ctx.db = await aiosqlite.connect(database_url.removeprefix("sqlite://"), isolation_level=None)
            for pragma in ("journal_mode=WAL", "journal_size_limit=16384", "foreign_keys=ON", "busy_timeout=10000"):
                await (await app.ctx.db.execute(f"PRAGMA {pragma}")).close()
            app.ctx.writing = asyncio.Lock()
        else:
            import asyncpg

            async def keep(connection: asyncpg.Connection) -> None:
                """No reset round trip: these statements leave nothing behind on the session."""

            app.ctx.pool = await asyncpg.create_pool(
                asyncpg_url(database_url),
                min_size=5,
                max_size=5,
                reset=keep,
                # The server's own setting (server/db.py).
                server_settings={"plan_cache_mode": "force_custom_plan"},
            )

    async def replay_pg(statements: list[Traced]) -> list[Any]:
        async with app.ctx.pool.acquire() as connection:
            return [await getattr(connection, s.method)(s.query, *s.args) for s in statements]

    async def replay_sqlite(statements: list[Traced]) -> list[Any]:
        db = app.ctx.db

        async def run() -> list[Any]:
            results = []
            for s in statements:
                method = getattr(db, s.method)
                result = await (method(s.query, *s.args) if s.query else method())
                results.append(result if s.method != "execute" else None)
            return results

        # A transaction holds the connection, as the server's does (Tortoise's lock on it).
        if any(s.query.startswith("BEGIN") for s in statements):
            async with app.ctx.writing:
                return await run()
        return await run()

    @app.route("/<name:str>", methods=["GET", "POST", "PUT"])
    async def replay(request: Request, name: str) -> HTTPResponse:
        statements = recorded[name]
        results = await (replay_sqlite if sqlite else replay_pg)(statements)
        rows = [result_text(result) for result in results]
        return json_response({"rows": rows}, default=str)

    app.prepare(host="127.0.0.1", port=port, motd=False, access_log=False, single_process=True)
    Sanic.serve_single(app)


# --- the world and the endpoints -------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    token: str = ""
    body: dict[str, Any] | None = None

    @property
    def write(self) -> bool:
        return self.method != "GET"

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.name)

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", **(bearer(self.token) if self.token else {})}


async def checked(response: httpx.Response, what: str) -> Any:
    if response.status_code not in (200, 201):
        raise BenchmarkError(f"{what}: {response.status_code} {response.text[:300]}")
    return response.json()


async def set_up(base_url: str) -> list[Endpoint]:
    """Through the real API: a caseworker; a worker with a profile who consented, applied to a
    union, was approved, and asked it for help."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as api:
        password = os.environ.get("DEMO_ADMIN_PASSWORD", DEV_DEMO_ADMIN_PASSWORD)
        staff, admin = [
            (await checked(await api.post("/api/v1/admin/auth/login", json=login), "staff login"))["token"]
            for login in ({"username": STAFF, "password": password}, {"username": ADMIN, "password": password})
        ]
        found = await checked(await api.get("/api/v1/orgs", params={"q": APPLY_TO}), "org search")
        org_id = next(org["id"] for org in found["items"] if org["name"] == APPLY_TO)
        worker, _ = await worker_with_profile(api)
        consent = {"results": {CONSENT_TEMPLATE: "accept"}}
        await checked(await api.post("/api/v1/me/subscriptions", json=consent, headers=bearer(worker)), "consent")
        applied = await api.post("/api/v1/enrolments", json={"org_id": org_id}, headers=bearer(worker))
        enrolment = await checked(applied, "apply")
        approve = f"/api/v1/admin/enrolments/{enrolment['id']}/approve"
        await checked(await api.post(approve, json={}, headers=bearer(staff)), "approve")
        asked = {
            "type": "legal_aid",
            "description": "平台拖欠我三个月的配送费",
            "fields": {
                "dispute_kind": "unpaid_wages",
                "employer": "某配送站",
                "amount_owed": 8600,
                "since": "2026-08-01",
            },
            "location": {"lat": 22.517, "lng": 113.392},
            "org_id": org_id,
        }
        help_request = await checked(await api.post("/api/v1/warm-requests", json=asked, headers=bearer(worker)), "ask")
    policy = {
        "org_id": org_id,
        "request_type": "legal_aid",
        "calendar": "workdays",
        "first_response_minutes": 240,
        "resolution_minutes": 4320,
    }
    return [
        Endpoint("public: org detail", "GET", f"/api/v1/orgs/{org_id}"),
        Endpoint("worker: me", "GET", "/api/v1/me", worker),
        Endpoint("worker: enrolments", "GET", "/api/v1/enrolments", worker),
        Endpoint("worker: help request", "GET", f"/api/v1/warm-requests/{help_request['id']}", worker),
        Endpoint("worker: service orders", "GET", "/api/v1/service-orders", worker),
        Endpoint("staff: enrolment list", "GET", "/api/v1/admin/enrolments?page_size=20", staff),
        Endpoint("staff: help-request queue", "GET", "/api/v1/admin/warm-requests?page_size=20", staff),
        Endpoint("staff: service-order queue", "GET", "/api/v1/admin/service-orders?page_size=20", staff),
        Endpoint("worker: subscribe (write)", "POST", "/api/v1/me/subscriptions", worker, consent),
        Endpoint("staff: SLA policy (write, audited)", "PUT", "/api/v1/admin/sla-policies", admin, policy),
    ]


def call(client: httpx.Client, url: str, endpoint: Endpoint, *, authorised: bool = True) -> httpx.Response:
    headers = endpoint.headers() if authorised else {"Content-Type": "application/json"}
    body = json.dumps(endpoint.body, ensure_ascii=False).encode() if endpoint.body is not None else None
    answer = client.request(endpoint.method, url, headers=headers, content=body)
    if answer.status_code not in (200, 201):
        raise BenchmarkError(f"{endpoint.name}: {answer.status_code} {answer.text[:300]}")
    return answer


@dataclass(frozen=True)
class Counted:
    statements: float
    resets: float


def trace(
    base_url: str, endpoints: list[Endpoint], directory: Path, requests: int
) -> tuple[dict[str, Counted], dict[str, list[Traced]]]:
    """Each endpoint's statements: one request recorded (after a warm-up), `requests` counted."""
    counted, recorded = {}, {}
    with httpx.Client(timeout=60) as client:
        for endpoint in endpoints:
            url = base_url + endpoint.path
            call(client, url, endpoint)
            client.post(f"{base_url}/_bench/trace?record=1")
            call(client, url, endpoint)
            # Plain tuples: the classes of `python -m` are `__main__`'s on each side.
            answer = client.get(f"{base_url}/_bench/trace?recorded=1").content
            recorded[endpoint.slug] = [Traced(*fields) for fields in pickle.loads(answer)]
            client.post(f"{base_url}/_bench/trace")
            for _ in range(requests):
                call(client, url, endpoint)
            figures = client.get(f"{base_url}/_bench/trace").json()
            counted[endpoint.slug] = Counted(figures["count"] / requests, figures["resets"] / requests)
    # The bare app replays the work, not the product's pool hygiene.
    replay = {slug: [s for s in statements if not s.reset] for slug, statements in recorded.items()}
    (directory / "statements.pickle").write_bytes(
        pickle.dumps({slug: [astuple(s) for s in statements] for slug, statements in replay.items()})
    )
    return counted, recorded


def same_rows(baseline_url: str, endpoints: list[Endpoint], directory: Path) -> None:
    """The bare app's replay must read what the server read, or the comparison means nothing;
    for writes, whose later reads see the write before, the same number of results."""
    recorded = read_statements(directory / "statements.pickle")
    with httpx.Client(timeout=60) as client:
        for endpoint in endpoints:
            bare = call(client, f"{baseline_url}/{endpoint.slug}", endpoint, authorised=False).json()["rows"]
            mine = [s.rows for s in recorded[endpoint.slug]]
            if endpoint.write:
                mine = [row.count("(") for row in mine]
                bare = [row.count("(") for row in bare]
            if mine != bare:
                raise BenchmarkError(f"{endpoint.name}: the bare app's replay read other rows than the server")


# --- measuring -------------------------------------------------------------------------------


def lua_script(directory: Path, name: str, endpoint: Endpoint, *, authorised: bool) -> str:
    """wrk's request: method, headers and the body read from a file beside it."""
    lines = [f'wrk.method = "{endpoint.method}"']
    headers = endpoint.headers() if authorised else {"Content-Type": "application/json"}
    lines += [f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items()]
    if endpoint.body is not None:
        body = directory / f"{name}.json"
        body.write_text(json.dumps(endpoint.body, ensure_ascii=False))
        lines += [f'local file = io.open("{body}", "rb")', 'wrk.body = file:read("*a")', "file:close()"]
    script = directory / f"{name}.lua"
    script.write_text("\n".join(lines) + "\n")
    return str(script)


@dataclass
class Figures:
    endpoint: Endpoint
    counted: Counted
    product: list[WrkResult] = field(default_factory=list)
    bare: list[WrkResult] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [p.requests_per_second / b.requests_per_second for p, b in zip(self.product, self.bare, strict=True)]

    @property
    def target(self) -> float:
        return WRITE_TARGET if self.endpoint.write else READ_TARGET

    @property
    def met(self) -> bool:
        return statistics.median(self.ratios()) >= self.target and max(p.p99_ms for p in self.product) < P99_TARGET_MS


def measure(
    base_url: str, baseline_url: str, figures: list[Figures], directory: Path, args: argparse.Namespace
) -> None:
    options = {"connections": args.connections, "timeout_s": 30}
    for round_number in range(args.rounds):
        for item in figures:
            endpoint = item.endpoint
            for side, url, authorised, kept in (
                ("product", base_url + endpoint.path, True, item.product),
                ("bare", f"{baseline_url}/{endpoint.slug}", False, item.bare),
            ):
                script = lua_script(directory, f"{side}-{endpoint.slug}", endpoint, authorised=authorised)
                run_wrk(url, seconds=args.warm_up, script=script, **options)
                kept.append(run_wrk(url, seconds=args.seconds, script=script, **options))
            product, bare = item.product[-1], item.bare[-1]
            print(
                f"  round {round_number + 1}, {endpoint.name}: {product.requests_per_second:,.0f} req/s "
                f"(p99 {product.p99_ms:.0f} ms) against {bare.requests_per_second:,.0f}: "
                f"{product.requests_per_second / bare.requests_per_second:.0%}",
                flush=True,
            )


def span(values: list[float], form: Callable[[float], str]) -> str:
    low, high = min(values), max(values)
    return form(low) if form(low) == form(high) else f"{form(low)}–{form(high)}"


def report(backend: str, figures: list[Figures], args: argparse.Namespace) -> list[str]:
    lines = [
        f"## {backend} ({datetime.now(SHANGHAI):%Y-%m-%d %H:%M} Asia/Shanghai)",
        "",
        f"wrk, {args.connections} connections, 1 thread, {args.seconds:.0f} s per side after {args.warm_up:.0f} s "
        f"of warm-up, {args.rounds} round(s) alternating sides; server WORKERS=1. Ranges are over the rounds.",
        "",
    ]
    rows = []
    for item in figures:
        product, bare = item.product, item.bare
        rows.append(
            [
                item.endpoint.name,
                span([r.requests_per_second for r in product], lambda v: f"{v:,.0f}"),
                span([r.p50_ms for r in product], lambda v: f"{v:.1f}")
                + " / "
                + span([r.p99_ms for r in product], lambda v: f"{v:.0f}"),
                span([r.requests_per_second for r in bare], lambda v: f"{v:,.0f}"),
                span([r.p99_ms for r in bare], lambda v: f"{v:.0f}"),
                f"{item.counted.statements:g}" + (f" ({item.counted.resets:g} resets)" if item.counted.resets else ""),
                span(item.ratios(), lambda v: f"{v:.0%}"),
                f"{item.target:.0%}",
                "yes" if item.met else "no",
                "yes" if all(r.clean for r in product + bare) else "no",
            ]
        )
    headers = [
        "endpoint", "req/s", "p50 / p99 ms", "bare req/s", "bare p99 ms", "statements", "ratio", "target", "met",
        "clean",
    ]  # fmt: skip
    return [*lines, *markdown_table(headers, rows), ""]


def run_backend(backend: str, args: argparse.Namespace) -> list[str]:
    database_url = "" if backend == "embedded" else args.database_url
    with BenchmarkRun(database_url, args.redis_url, keep_database=args.keep_database) as bench:
        bench.command("load-demo")
        bench.start_sandbox()
        traced_url = bench.start_server("traced", "benchmarks.load", "--serve-traced")
        endpoints = [e for e in asyncio.run(set_up(traced_url)) if not args.only or args.only in e.name]
        counted, _ = trace(traced_url, endpoints, bench.logs, args.count_requests)
        bench.stop(traced_url)
        base_url = bench.start_server()
        baseline_url = bench.start_baseline(
            "benchmarks.load", f"/{endpoints[0].slug}", extra=("--statements", str(bench.logs / "statements.pickle"))
        )
        same_rows(baseline_url, endpoints, bench.logs)
        figures = [Figures(endpoint, counted[endpoint.slug]) for endpoint in endpoints]
        quiet = os.getloadavg()[0]
        print(f"{backend}: measuring", flush=True)
        measure(base_url, baseline_url, figures, bench.logs, args)
        machine = [
            *machine_facts(args.database_url),
            ("load average", f"{quiet:.2f} before measuring, {os.getloadavg()[0]:.2f} after (1 min)"),
        ]
        lines = report(
            "PostgreSQL + Redis" if backend == "production" else "embedded (SQLite + in-process)", figures, args
        )
        return [*(f"- {key}: {value}" for key, value in machine), "", *lines]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--backend", choices=("production", "embedded", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=8.0, help="wrk's measured time per endpoint, side and round")
    parser.add_argument("--warm-up", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--count-requests", type=int, default=20, help="requests over which statements are counted")
    parser.add_argument("--only", help="endpoints whose name contains this text")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--serve-traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-baseline", nargs=2, metavar=("PORT", "DATABASE_URL"), help=argparse.SUPPRESS)
    parser.add_argument("--statements", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_traced:
        serve_traced()
        return
    if args.serve_baseline:
        serve_baseline(int(args.serve_baseline[0]), args.serve_baseline[1], args.statements)
        return
    backends = ("production", "embedded") if args.backend == "both" else (args.backend,)
    try:
        printed = [f"# Load ({datetime.now(SHANGHAI):%Y-%m-%d})", ""]
        for backend in backends:
            printed += run_backend(backend, args)
        print("\n" + "\n".join(printed))
    except BenchmarkError as exc:
        print(f"benchmark broke: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
