"""`WORKERS>1`: Sanic's worker processes build the app from its factory and share sessions
through Redis; without Redis the setting is refused rather than run with per-process state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Stack, start_servers
from tests.factories.common import bearer, login_staff
from tests.factories.unions import demo_org, make_staff
from tests.harness import Process, base_env, run_command


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def two_worker_server(stack: Stack) -> Iterator[tuple[str, Process]]:
    if stack.backend != "production":
        pytest.skip("several workers need Redis: the production back end")
    (server,), (url,) = start_servers(stack, "server-2-workers", WORKERS="2")
    try:
        yield url, server
    finally:
        server.stop()


async def test_two_workers_serve_and_share_sessions(stack: Stack, two_worker_server: tuple[str, Process]) -> None:
    base_url, server = two_worker_server
    assert server.process is not None
    assert len(_children(server.process.pid)) >= 2
    staff = await make_staff(await demo_org("中山市总工会"))
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as api:
        token = await login_staff(api, staff.username)
        for _ in range(20):  # spread over both workers by the kernel
            assert (await api.get("/api/v1/admin/me", headers=bearer(token))).status_code == 200
        assert (await api.post("/api/v1/admin/auth/logout", headers=bearer(token))).status_code in (200, 204)
        for _ in range(20):  # revoked at once in every worker
            assert (await api.get("/api/v1/admin/me", headers=bearer(token))).status_code == 401
    # A session made by the two-worker server is valid on the session's own server too.
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as api:
        token = await login_staff(api, staff.username)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=20) as other:
        assert (await other.get("/api/v1/admin/me", headers=bearer(token))).status_code == 200


def test_several_workers_without_redis_are_refused(tmp_path: Path) -> None:
    done = run_command(base_env(DATA_DIR=str(tmp_path), WORKERS="2"), "run")
    assert done.returncode == 2
    assert "WORKERS>1 needs REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr
