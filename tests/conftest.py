"""Fixtures: the sandbox, the server on each back end, API clients and factories.

A pytest run tests one back end, named by TEST_BACKEND: `embedded` (SQLite file and in-process
shared state, the default) or `production` (PostgreSQL and Redis from DATABASE_URL and
REDIS_URL). `make test` runs both when those are set, as `.ci/run` sets them. One back end per
process because Tortoise builds each model's SQL once, for the first database it meets. A
configured back end that cannot be reached fails the run; nothing is skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from tortoise import Tortoise

from server.db import tortoise_config
from server.settings import Settings
from tests.harness import (
    Process,
    base_env,
    create_scratch_database,
    drop_scratch_database,
    free_port,
    run_command,
    wait_until_answering,
)

PRODUCTION_DATABASE_URL = os.environ.get("DATABASE_URL", "")
PRODUCTION_REDIS_URL = os.environ.get("REDIS_URL", "")
BACKEND = os.environ.get("TEST_BACKEND", "embedded")
DEMO_PASSWORD = "demo-password-for-tests-1"
SECRET_KEY = "test-secret-key-" + "x" * 32


@dataclass
class Stack:
    backend: str
    base_url: str
    sandbox_url: str
    env: dict[str, str]
    settings: Settings


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[str]:
    port = free_port()
    env = base_env(SANDBOX_PORT=str(port), DATA_DIR=str(tmp_path_factory.mktemp("sandbox")))
    process = Process("sandbox", env, artifacts_dir / "sandbox.log").start("sandbox")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{url}/_sandbox/healthz", process.process)  # type: ignore[arg-type]
        yield url
    finally:
        process.stop()


def backend_env(backend: str, data_dir: Path, database_url: str) -> dict[str, str]:
    env = {"DATA_DIR": str(data_dir), "SECRET_KEY": SECRET_KEY, "DEMO_ADMIN_PASSWORD": DEMO_PASSWORD}
    if backend == "production":
        if not PRODUCTION_DATABASE_URL or not PRODUCTION_REDIS_URL:
            pytest.fail("the production back end needs both DATABASE_URL and REDIS_URL")
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL=PRODUCTION_REDIS_URL,
            REDIS_PREFIX=f"gonghui-test-{uuid.uuid4().hex[:8]}:",
        )
    return env


@asynccontextmanager
async def running_stack(
    backend: str, sandbox_url: str, data_dir: Path, log_path: Path, **overrides: str
) -> AsyncIterator[Stack]:
    """A migrated server with the demo data on `backend`, on its own database (and Redis prefix),
    stopped and dropped afterwards; `overrides` are extra settings."""
    database_name = database_url = ""
    if backend == "production":
        redis.Redis.from_url(PRODUCTION_REDIS_URL, socket_connect_timeout=3).ping()
        database_name, database_url = await create_scratch_database(PRODUCTION_DATABASE_URL, "gonghui_test")
    port = free_port()
    env = base_env(
        PORT=str(port),
        WECHAT_API_BASE_URL=sandbox_url,
        **backend_env(backend, data_dir, database_url),
        **overrides,
    )
    server: Process | None = None
    try:
        for command in ("migrate", "load-demo"):
            done = run_command(env, command)
            assert done.returncode == 0, done.stdout + done.stderr
        server = Process("server", env, log_path).start("run")
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL", ""),
            redis_url=env.get("REDIS_URL", ""),
            redis_prefix=env.get("REDIS_PREFIX", "gonghui:"),
            secret_key=SECRET_KEY,
        )
        base_url = f"http://127.0.0.1:{port}"
        wait_until_answering(f"{base_url}/readyz", server.process)  # type: ignore[arg-type]
        yield Stack(backend, base_url, sandbox_url, env, settings)
    finally:
        if server:
            server.stop()
        if database_name:
            await drop_scratch_database(PRODUCTION_DATABASE_URL, database_name)


def start_servers(stack: Stack, name: str, count: int = 1, **overrides: str) -> tuple[list[Process], list[str]]:
    """More server processes on the stack's database, with settings of their own; they answer
    before this returns. The caller stops them."""
    servers, urls = [], []
    try:
        for n in range(count):
            port = free_port()
            env = {**stack.env, **overrides, "PORT": str(port)}
            servers.append(Process(f"{name}-{n}", env, stack.settings.data_dir / f"{name}-{n}.log").start("run"))
            urls.append(f"http://127.0.0.1:{port}")
        for server, url in zip(servers, urls, strict=True):
            wait_until_answering(f"{url}/readyz", server.process)  # type: ignore[arg-type]
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers, urls


@pytest.fixture(scope="session", params=[BACKEND])
async def stack(
    request: pytest.FixtureRequest, sandbox_url: str, tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path
) -> AsyncIterator[Stack]:
    backend = request.param
    data_dir = tmp_path_factory.mktemp(backend)
    async with running_stack(backend, sandbox_url, data_dir, artifacts_dir / f"server-{backend}.log") as started:
        await Tortoise.init(config=tortoise_config(started.settings), _enable_global_fallback=True)
        try:
            yield started
        finally:
            await Tortoise.close_connections()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=20) as client:
        yield client


@pytest.fixture
async def sandbox(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=20) as client:
        yield client
        await client.put(
            "/_sandbox/faults",
            json={
                "refuse_openids": [],
                "error_rate": 0,
                "sends_per_second_cap": 0,
                "reject_templates": [],
                "only_openids": [],
                "timeout_seconds": 8,
                "delay_seconds": 0,
                "login_delay_seconds": 0,
            },
        )


FAST_DISPATCH = {
    "DISPATCHER_POLL_SECONDS": "0.05",
    "DISPATCHER_BACKOFF_BASE_SECONDS": "0.05",
    "DISPATCHER_BACKOFF_CAP_SECONDS": "0.3",
    "DISPATCHER_MAX_ATTEMPTS": "4",
    "DISPATCHER_LEASE_SECONDS": "5",
    "WECHAT_TIMEOUT_SECONDS": "1",
    "WECHAT_SENDS_PER_SECOND": "0",
    "JOB_SWEEP_SECONDS": "0.2",
}


def start_dispatcher(stack: Stack, name: str, artifacts_dir: Path, *args: str, **overrides: str) -> Process:
    """A job runner (`python -m server jobs`, all jobs unless `args` say `--only ...`) with
    fast dispatch settings and `overrides`. The caller stops it."""
    env = {**stack.env, **FAST_DISPATCH, **overrides}
    return Process(name, env, artifacts_dir / f"{name}-{stack.backend}.log").start("jobs", "--name", name, *args)


@pytest.fixture(scope="module")
def dispatcher(stack: Stack, artifacts_dir: Path) -> Iterator[Process]:
    """One dispatcher, as `make run` has, for the tests of a module; modules that start their own
    dispatchers (to race or kill them) do not take it."""
    process = start_dispatcher(stack, "dispatcher-main", artifacts_dir)
    yield process
    process.stop()
