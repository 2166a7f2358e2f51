"""The command line: `python -m server <command>`.

run           serve the API (WORKERS processes)
migrate       apply database migrations
create-staff  create a caseworker or admin account
load-demo     load the demo union tree and accounts into an empty database
sandbox       run the WeChat sandbox on SANDBOX_PORT
jobs          run the background jobs (notifications, broadcasts, ...); `dispatch` is an alias
dev           migrate, load demo data if empty, then run sandbox, server and job runner together
rotate-id-key re-seal stored ID numbers under the current key of ID_ENCRYPTION_KEYS, in batches
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import uvloop
from pydantic import ValidationError
from tortoise import Tortoise

from server.settings import Settings, load_settings


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        messages = "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
        print(f"gonghui: settings refused: {messages}", file=sys.stderr)
        raise SystemExit(2) from None


def _with_database(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    from server.db import tortoise_config

    async def run() -> Any:
        await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(run())


def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    metrics_directory = ""
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker process keeps its request figures in files here and GET /metrics sums them
        # (server/metrics.py). prometheus-client reads the variable at import: set it first.
        metrics_directory = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="gonghui-metrics-")
    try:
        _serve(settings)
    finally:
        if metrics_directory:
            shutil.rmtree(metrics_directory, ignore_errors=True)


def _serve(settings: Settings) -> None:
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from server.app import create_app

    # Sanic's worker processes are new interpreters that build their own app: they get it from
    # the loader's factory, which reads the same settings from the same environment.
    loader = AppLoader(factory=create_app)
    app = loader.load()
    options = {"host": settings.host, "port": settings.port, "motd": False, "access_log": False}
    if settings.workers <= 1:
        app.prepare(**options, single_process=True)
        Sanic.serve_single(app)
    else:
        app.prepare(**options, workers=settings.workers)
        Sanic.serve(primary=app, app_loader=loader)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    from server.db import apply_migrations

    asyncio.run(apply_migrations(settings))
    print("migrations applied")


def cmd_create_staff(settings: Settings, args: argparse.Namespace) -> None:
    from models.accounts import StaffRole
    from models.audit import Actor
    from models.orgs import Org
    from models.unions.staff import create_staff

    password = args.password or getpass.getpass("password: ")

    async def work() -> None:
        org = await Org.get_or_none(id=args.org_id)
        if org is None:
            raise SystemExit(f"no org with id {args.org_id}")
        staff = await create_staff(
            username=args.username,
            display_name=args.display_name or args.username,
            password=password,
            role=StaffRole(args.role),
            org=org,
            must_change_password=not args.permanent,
            actor=Actor("system", None, f"cli:{getpass.getuser()}"),
        )
        print(f"created {staff.role.value} {staff.username} (id {staff.id}) at {org.name}")

    _with_database(settings, work)


def cmd_load_demo(settings: Settings, args: argparse.Namespace) -> None:
    from server.demo import load_demo

    loaded = _with_database(settings, lambda: load_demo(settings.demo_admin_password))
    print("demo data loaded" if loaded else "database already has data; demo data not loaded")


def cmd_sandbox(settings: Settings, args: argparse.Namespace) -> None:
    from sanic import Sanic

    from server.logging_setup import configure_logging
    from server.wechat.sandbox import create_sandbox_app

    configure_logging(settings.log_level)
    app = create_sandbox_app()
    app.config.ACCESS_LOG = False
    app.prepare(
        host=settings.sandbox_host, port=settings.sandbox_port, motd=False, access_log=False, single_process=True
    )
    Sanic.serve_single(app)


def cmd_jobs(settings: Settings, args: argparse.Namespace) -> None:
    from server.db import tortoise_config
    from server.dispatcher import default_name, session_name
    from server.jobs import job_runner
    from server.logging_setup import configure_logging
    from server.shared_state import connect_shared_state

    configure_logging(settings.log_level)
    only = [name.strip() for names in args.only or [] for name in names.split(",") if name.strip()]

    name = args.name or default_name()

    async def run() -> bool:
        # Its sessions carry the runner's name: when they are gone, the other dispatchers know it died.
        await Tortoise.init(config=tortoise_config(settings, session_name(name)), _enable_global_fallback=True)
        state = connect_shared_state(settings.redis_url, settings.redis_prefix)
        try:
            async with job_runner(settings, state, name) as runner:
                unknown = sorted(set(only) - set(runner.jobs))
                if unknown:
                    known = ", ".join(runner.jobs)
                    print(f"gonghui: no job named {', '.join(unknown)} (jobs: {known})", file=sys.stderr)
                    raise SystemExit(2)
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(signum, runner.stop)
                return await runner.run(only)
        finally:
            await state.close()
            await Tortoise.close_connections()

    # uvloop, as Sanic runs the API on: the dispatcher's event loop overhead is a fifth of its CPU.
    if not uvloop.run(run()):
        # Rounds were cancelled at the shutdown bound: a thread may still wait on WeChat, and the
        # interpreter would join it at exit. The bound is the bound; their claims lapse and retry.
        logging.shutdown()
        os._exit(0)


def cmd_rotate_id_key(settings: Settings, args: argparse.Namespace) -> None:
    from models.audit import Actor
    from models.profiles.key_rotation import rotate_id_key
    from server.crypto import IdCipher

    cipher = IdCipher(settings.id_encryption_keys, settings.id_blind_index_key)
    print(f"re-sealing ID numbers under key {cipher.current_key_id!r}", flush=True)

    def progress(table: str, rows: int) -> None:
        print(f"  {table}: {rows} re-sealed", flush=True)

    report = _with_database(
        settings,
        lambda: rotate_id_key(
            cipher,
            Actor("system", None, f"cli:{getpass.getuser()}"),
            batch_size=args.batch_size,
            pause_seconds=args.pause,
            progress=progress,
        ),
    )
    for table, count in report.remaining.items():
        print(f"{table}: {report.resealed[table]} re-sealed, {count} left under other keys")
    if report.changed_meanwhile:
        print(f"{report.changed_meanwhile} rows changed while this ran; they are counted above if still old")
    for row in report.unreadable:
        print(f"gonghui: {row} is sealed under a key that is not in ID_ENCRYPTION_KEYS", file=sys.stderr)
    if not report.done:
        # A server or job runner still sealing with the old key first, or a key missing from the ring.
        print("gonghui: rows are left under other keys; fix the ring everywhere and run this again", file=sys.stderr)
        raise SystemExit(1)
    print("every ID number is sealed under the current key")


def _wait_for_http(url: str, seconds: float) -> bool:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def cmd_dev(settings: Settings, args: argparse.Namespace) -> None:
    cmd_migrate(settings, args)
    cmd_load_demo(settings, args)
    env = dict(os.environ)
    sandbox_url = f"http://{settings.sandbox_host}:{settings.sandbox_port}"
    env.setdefault("WECHAT_API_BASE_URL", sandbox_url)
    children = [
        subprocess.Popen([sys.executable, "-m", "server", "sandbox"], env=env),
        subprocess.Popen([sys.executable, "-m", "server", "run"], env=env),
        subprocess.Popen([sys.executable, "-m", "server", "jobs"], env=env),
    ]

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            child.wait(timeout=15)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    base = f"http://{settings.host}:{settings.port}"
    ready = _wait_for_http(f"{base}/readyz", 30) and _wait_for_http(f"{sandbox_url}/_sandbox/healthz", 10)
    print(
        "\n".join(
            [
                "",
                "Gonghui is running." if ready else "Gonghui did not become ready; see the logs above.",
                f"  Admin pages:    {base}/admin/",
                f"  API:            {base}/api/v1/   (docs: {base}/api/v1/docs)",
                f"  WeChat sandbox: {sandbox_url}   (messages: {sandbox_url}/_sandbox/messages)",
                "  Background jobs: running (delivery log: GET /api/v1/admin/notifications,",
                "                   failures: GET /api/v1/admin/jobs/failures)",
                f"  Data:           {settings.resolved_database_url}",
                f"  Staff logins (password {settings.demo_admin_password!r}):",
                "    admin (超级管理员, 广东省总工会), shenzhen (深圳市总工会), zhongshan (中山市总工会),",
                "    gaoming (高明区总工会), zhanjiang (湛江市总工会)",
                f"  Worker login:   curl -X POST {base}/api/v1/auth/wechat-login -H 'Content-Type: application/json'"
                f' -d \'{{"code":"dev:alice"}}\'',
                "",
            ]
        ),
        flush=True,
    )
    while True:
        for child in children:
            if child.poll() is not None:
                print(f"gonghui: {' '.join(child.args[2:])} exited with {child.returncode}", file=sys.stderr)
                stop()
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m server", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve the API")
    commands.add_parser("migrate", help="apply database migrations")
    staff = commands.add_parser("create-staff", help="create a caseworker or admin account")
    staff.add_argument("--username", required=True)
    staff.add_argument("--display-name")
    staff.add_argument("--role", choices=["caseworker", "union_admin", "superadmin"], default="caseworker")
    staff.add_argument("--org-id", type=int, required=True)
    staff.add_argument("--password", help="prompted for when left out")
    staff.add_argument("--permanent", action="store_true", help="do not force a password change at first login")
    commands.add_parser("load-demo", help="load demo data into an empty database")
    commands.add_parser("sandbox", help="run the WeChat sandbox")
    for command, about in (("jobs", "run the background jobs"), ("dispatch", "the old name of `jobs`")):
        jobs = commands.add_parser(command, help=about)
        jobs.add_argument("--name", help="this runner's name in claims, leases and logs (default host:pid)")
        jobs.add_argument(
            "--only", action="append", metavar="NAME", help="run only these jobs (repeat, or comma-separate)"
        )
    commands.add_parser("dev", help="migrate, load demo data, run sandbox, server and job runner")
    rotate = commands.add_parser(
        "rotate-id-key", help="re-seal stored ID numbers under the first key of ID_ENCRYPTION_KEYS (resumable)"
    )
    rotate.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")
    rotate.add_argument("--pause", type=float, default=0.0, help="seconds to wait between batches (default 0)")
    args = parser.parse_args(argv)
    settings = _settings_or_exit()
    handler = {
        "run": cmd_run,
        "migrate": cmd_migrate,
        "create-staff": cmd_create_staff,
        "load-demo": cmd_load_demo,
        "sandbox": cmd_sandbox,
        "jobs": cmd_jobs,
        "dispatch": cmd_jobs,
        "dev": cmd_dev,
        "rotate-id-key": cmd_rotate_id_key,
    }[args.command]
    handler(settings, args)


if __name__ == "__main__":
    main()
