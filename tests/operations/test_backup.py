"""deploy/backup.sh and deploy/restore.sh on PostgreSQL: data made through the API, dumped while
the server runs, restored into a scratch database, and a server started on the restored database
shows it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import PRODUCTION_DATABASE_URL, Stack, start_servers
from tests.factories.common import bearer
from tests.factories.operations import applicants, demo_staff_token, reveal
from tests.harness import ROOT, create_scratch_database, drop_scratch_database


def script(name: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(ROOT / "deploy" / name), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def old_dumps(directory: Path) -> Path:
    directory.mkdir()
    for day in (1, 2, 3):
        (directory / f"gonghui-2020010{day}T000000Z.dump").write_text("an old dump")
    return directory


def the_dump(printed: str, directory: Path) -> Path:
    """The file backup.sh named: in the directory, not empty, readable by its owner only."""
    dump = Path(printed.strip().splitlines()[-1])
    assert dump.parent == directory and dump.stat().st_size > 0 and oct(dump.stat().st_mode)[-3:] == "600"
    assert not list(directory.glob("*.partial"))
    return dump


async def test_a_restored_backup_serves_the_same_data(stack: Stack, api: httpx.AsyncClient, tmp_path: Path) -> None:
    if stack.backend != "production":
        pytest.skip("pg_dump backs up PostgreSQL; the embedded back end is one SQLite file (docs/OPERATIONS.md)")
    ((token, number, enrolment_id),) = await applicants(api, 1)
    me = (await api.get("/api/v1/me", headers=bearer(token))).json()

    backups = old_dumps(tmp_path / "backups")
    made = script("backup.sh", str(backups), DATABASE_URL=stack.env["DATABASE_URL"], BACKUP_KEEP="2")
    assert made.returncode == 0, made.stderr
    dump = the_dump(made.stdout, backups)
    # BACKUP_KEEP=2: the new dump and the newest of the old ones stay.
    assert sorted(path.name for path in backups.glob("*.dump")) == ["gonghui-20200103T000000Z.dump", dump.name]

    name, url = await create_scratch_database(PRODUCTION_DATABASE_URL, "gonghui_restore")
    servers = []
    try:
        restored = script("restore.sh", str(dump), TARGET_DATABASE_URL=url)
        assert restored.returncode == 0, restored.stderr
        # A second restore into the now full database is refused, and changes nothing.
        again = script("restore.sh", str(dump), TARGET_DATABASE_URL=url)
        assert again.returncode == 1 and "already has" in again.stderr

        servers, (restored_url,) = start_servers(stack, "restored", DATABASE_URL=url)
        async with httpx.AsyncClient(base_url=restored_url, timeout=20) as restored_api:
            shown = (await restored_api.get("/api/v1/me", headers=bearer(token))).json()
            assert shown["profile"] == me["profile"] and shown["user"]["id"] == me["user"]["id"]
            assert await reveal(restored_api, await demo_staff_token(restored_api), enrolment_id) == number
    finally:
        for server in servers:
            server.stop()
        await drop_scratch_database(PRODUCTION_DATABASE_URL, name)


def test_a_backup_without_a_database_is_refused_and_prunes_nothing(tmp_path: Path) -> None:
    backups = old_dumps(tmp_path / "backups")
    refused = script("backup.sh", str(backups), DATABASE_URL="")
    assert refused.returncode != 0 and "DATABASE_URL" in refused.stderr
    assert len(list(backups.glob("*.dump"))) == 3  # nothing pruned by a failed run
