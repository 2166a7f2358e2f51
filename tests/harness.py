"""Real processes for the tests: the WeChat sandbox and the Gonghui server, each started with
`python -m server ...` on a free loopback port, exactly as in production."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent


# Tests and benchmarks log in, search and fail logins from 127.0.0.1 far more often than one
# person would; tests/auth/test_rate_limits.py proves the limits on servers of its own.
ROOMY_LIMITS = {
    "LOGIN_FREE_FAILURES": "1000",
    "RATE_LIMIT_STAFF_LOGIN_FAILURES": "100000/60",
    "RATE_LIMIT_WORKER_LOGIN": "100000/60",
    "RATE_LIMIT_WORKER_LOGIN_FAILURES": "100000/60",
    "RATE_LIMIT_CARD_VERIFY": "100000/60",
    "RATE_LIMIT_ORG_SEARCH": "100000/60",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen, seconds: float = 90, status: int | None = 200) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            answer = httpx.get(url, timeout=1)
            if status is None or answer.status_code == status:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


@dataclass
class Process:
    name: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = field(default=None)

    def start(self, *args: str) -> Process:
        log = self.log_path.open("ab")
        # A session of its own: with WORKERS>1, Sanic's manager SIGKILLs its whole process group
        # when a worker is slow to start, which would otherwise include the test run itself.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def base_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"ENVIRONMENT": "development", "LOG_LEVEL": "WARNING", "WORKERS": "1", **ROOMY_LIMITS})
    env.update(overrides)
    return env


def _asyncpg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def create_scratch_database(url: str, prefix: str) -> tuple[str, str]:
    """A fresh database beside the one `url` names, so that runs never share tables; returns
    its name and URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(_asyncpg_url(url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base, _, _ = url.rpartition("/")
    return name, f"{base}/{name}"


async def drop_scratch_database(url: str, name: str) -> None:
    connection = await asyncpg.connect(_asyncpg_url(url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
