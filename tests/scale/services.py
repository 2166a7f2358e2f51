"""Private PostgreSQL, Redis and PgBouncer processes for the outage tests: each on a free port in a
directory of its own, so that a test may stop and restart it without touching the machine's
shared servers. PostgreSQL and PgBouncer refuse to run as root: they run as `postgres`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import free_port

PG_BIN = Path("/usr/local/bin")
SERVICE_USER = "postgres"


def _as_service_user(*command: str) -> list[str]:
    return ["runuser", "-u", SERVICE_USER, "--", *command] if os.geteuid() == 0 else list(command)


def _owned_directory(prefix: str) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(directory, SERVICE_USER)
    return directory


@dataclass
class PrivatePostgres:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"  # a throwaway cluster: its own database

    def _ctl(self, *args: str) -> None:
        # Output to a file, not a pipe: the server started inherits it, and a pipe would stay open.
        with (self.directory / "pg_ctl.log").open("a") as log:
            done = subprocess.run(
                _as_service_user(str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), *args),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=60,
            )
        assert done.returncode == 0, (self.directory / "pg_ctl.log").read_text()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.directory / "postgres.log"), "-w", "start")

    def restart(self) -> None:
        """A fast shutdown (open sessions ended) and a start, as an operator's restart does."""
        self._ctl("-m", "fast", "-w", "stop")
        self.start()

    def stop(self) -> None:
        self._ctl("-m", "immediate", "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"the PostgreSQL outage test needs initdb and pg_ctl in {PG_BIN}")
    directory = _owned_directory("gonghui-pg-")
    server = PrivatePostgres(directory, free_port())
    done = subprocess.run(
        _as_service_user(str(PG_BIN / "initdb"), "-D", str(directory / "data"), "-A", "trust", "-U", "postgres"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class PrivateRedis:
    directory: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=(self.directory / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.fail("the Redis outage test needs redis-server (Debian's redis-server package)")
    directory = Path(tempfile.mkdtemp(prefix="gonghui-redis-"))
    server = PrivateRedis(directory, free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()
        shutil.rmtree(directory, ignore_errors=True)


PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


@contextmanager
def pgbouncer(host: str, port: int) -> Iterator[int]:
    """PgBouncer in transaction mode on a free port in front of `host:port` (every database);
    yields its port. Installed by `make test` (Debian's `pgbouncer`)."""
    if not Path(PGBOUNCER).exists():
        pytest.fail("the PgBouncer test needs Debian's pgbouncer: `make pgbouncer` installs it")
    directory = _owned_directory("gonghui-pgbouncer-")
    listen = free_port()
    config = directory / "pgbouncer.ini"
    config.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host={host} port={port}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {listen}",
                f"unix_socket_dir = {directory}",
                "auth_type = trust",
                f"auth_file = {directory / 'users.txt'}",
                "pool_mode = transaction",
                "max_client_conn = 200",
                "default_pool_size = 10",
                f"logfile = {directory / 'pgbouncer.log'}",
                "",
            ]
        )
    )
    (directory / "users.txt").write_text('"postgres" ""\n')
    if os.geteuid() == 0:
        for path in directory.iterdir():
            shutil.chown(path, SERVICE_USER)
    process = subprocess.Popen(_as_service_user(PGBOUNCER, str(config)), stdout=subprocess.DEVNULL)
    try:
        yield listen
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
