"""What the benchmarks share beyond tests/harness.py."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from redis.asyncio import Redis

from benchmarks.wrk import ensure_wrk
from tests.harness import (
    ROOT,
    Process,
    base_env,
    create_scratch_database,
    drop_scratch_database,
    free_port,
    run_command,
    wait_until_answering,
)


class BenchmarkError(RuntimeError):
    """Something broke: the run's figures cannot be trusted."""


def run_or_serve(
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace], None],
    serve_baseline: Callable[[int, str], None],
) -> None:
    """A benchmark's entry point: the bare side's own process when `--serve-baseline` names its
    port and database, else the run, which exits 1 (not a traceback) when something broke."""
    if args.serve_baseline:
        serve_baseline(int(args.serve_baseline[0]), args.serve_baseline[1])
        return
    try:
        run(args)
    except BenchmarkError as exc:
        print(f"benchmark broke: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def asyncpg_url(url: str) -> str:
    """asyncpg wants postgresql://; Tortoise and the settings write postgres://."""
    return url.replace("postgres://", "postgresql://", 1)


async def forget_redis_keys(redis_url: str, prefix: str) -> None:
    """Delete every key a run wrote under its own prefix."""
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def start_baseline(
    module: str, env: dict[str, str], log_path: Path, port: int, database_url: str, extra: tuple[str, ...] = ()
) -> Process:
    """A benchmark's bare app: `python -m <module> --serve-baseline PORT DATABASE_URL [extra...]`."""
    baseline = Process("baseline", env, log_path)
    with log_path.open("ab") as log:
        baseline.process = subprocess.Popen(
            [sys.executable, "-m", module, "--serve-baseline", str(port), database_url, *extra],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return baseline


class BenchmarkRun:
    """What every benchmark's `run` does around its own work: a scratch database (PostgreSQL) or a
    SQLite file (embedded), migrated; the environment the server reads; the processes it starts;
    and, whatever happens, their end, the database dropped, the run's Redis keys forgotten, and
    the logs kept only when something broke.

        with BenchmarkRun(args.database_url, args.redis_url, keep_database=...) as bench:
            bench.command("create-staff", ...)
            sandbox_url = bench.start_sandbox()
            base_url = bench.start_server()
            baseline_url = bench.start_baseline("benchmarks.mine", "/ready")
            ...

    With `database_url=""` the run is embedded: SQLite in the logs directory, in-process state.
    """

    def __init__(self, database_url: str, redis_url: str, *, keep_database: bool = False) -> None:
        self.admin_url = database_url
        self.redis_url = redis_url
        self.keep_database = keep_database
        self.logs = Path(tempfile.mkdtemp(prefix="gonghui-bench-"))
        self.redis_prefix = f"gonghui-bench-{uuid.uuid4().hex[:8]}:"
        self.database_name = ""
        self.database_url = ""
        self.env: dict[str, str] = {}
        self.processes: list[Process] = []
        self.sandbox_url = ""
        self._serving: dict[str, Process] = {}

    @property
    def embedded(self) -> bool:
        return not self.admin_url

    def __enter__(self) -> BenchmarkRun:
        ensure_wrk()
        print(f"logs of the processes: {self.logs}", flush=True)
        try:
            if self.embedded:
                self.database_url = f"sqlite://{self.logs / 'gonghui.sqlite3'}"
                self.env = base_env(DATA_DIR=str(self.logs))
            else:
                self.database_name, self.database_url = asyncio.run(
                    create_scratch_database(self.admin_url, "gonghui_bench")
                )
                self.env = base_env(
                    DATA_DIR=str(self.logs),
                    DATABASE_URL=self.database_url,
                    REDIS_URL=self.redis_url,
                    REDIS_PREFIX=self.redis_prefix,
                )
            self.command("migrate")
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        print(f"database {self.database_name or self.database_url} migrated", flush=True)
        return self

    def command(self, *args: str) -> str:
        """`python -m server <args>` with the run's settings; its output, or BenchmarkError."""
        done = run_command(self.env, *args)
        if done.returncode != 0:
            raise BenchmarkError(f"{args[0]} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def start_sandbox(self) -> str:
        port = free_port()
        sandbox = Process("sandbox", {**self.env, "SANDBOX_PORT": str(port)}, self.logs / "sandbox.log")
        self.processes.append(sandbox.start("sandbox"))
        self.sandbox_url = f"http://127.0.0.1:{port}"
        wait_until_answering(f"{self.sandbox_url}/_sandbox/healthz", sandbox.process)  # type: ignore[arg-type]
        return self.sandbox_url

    def start_server(self, name: str = "server", *command: str, **env: str) -> str:
        """The server (`python -m server run`, or `command` under `python -m`) talking to the sandbox."""
        port = free_port()
        settings = {**self.env, "PORT": str(port), "WECHAT_API_BASE_URL": self.sandbox_url, **env}
        server = Process(name, settings, self.logs / f"{name}.log")
        if command:
            with server.log_path.open("ab") as log:
                server.process = subprocess.Popen(
                    [sys.executable, "-m", *command], cwd=ROOT, env=settings, stdout=log, stderr=subprocess.STDOUT
                )
        else:
            server.start("run")
        self.processes.append(server)
        base_url = f"http://127.0.0.1:{port}"
        self._serving[base_url] = server
        wait_until_answering(f"{base_url}/readyz", server.process)  # type: ignore[arg-type]
        return base_url

    def start_baseline(
        self, module: str, ready_path: str, status: int | None = 200, extra: tuple[str, ...] = ()
    ) -> str:
        port = free_port()
        baseline = start_baseline(module, self.env, self.logs / "baseline.log", port, self.database_url, extra)
        self.processes.append(baseline)
        baseline_url = f"http://127.0.0.1:{port}"
        self._serving[baseline_url] = baseline
        wait_until_answering(f"{baseline_url}{ready_path}", baseline.process, status=status)  # type: ignore[arg-type]
        return baseline_url

    def pid(self, base_url: str) -> tuple[str, int]:
        """The URL with the id of the process serving it."""
        return base_url, self._serving[base_url].process.pid  # type: ignore[union-attr]

    def stop(self, base_url: str) -> None:
        """Stop the process serving `base_url` (to start another in its place)."""
        process = self._serving.pop(base_url)
        process.stop()
        self.processes.remove(process)

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self.database_name and not self.keep_database:
            asyncio.run(drop_scratch_database(self.admin_url, self.database_name))
        elif self.database_name:
            print(f"database kept: {self.database_name}", flush=True)
        if not self.embedded:
            asyncio.run(forget_redis_keys(self.redis_url, self.redis_prefix))
        if error is None:
            shutil.rmtree(self.logs, ignore_errors=True)
        else:
            print(f"logs kept in {self.logs}", file=sys.stderr, flush=True)
