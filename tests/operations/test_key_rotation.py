"""`python -m server rotate-id-key`: every stored ID number re-sealed under the new key, in
batches, while a server keeps revealing and showing them; stopped halfway it resumes; run again it
changes nothing; with a key missing from the ring it refuses and changes nothing."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.crypto import IdCipher, Sealed
from tests.conftest import BACKEND, Stack, running_stack, start_servers
from tests.factories.common import bearer
from tests.factories.operations import applicants, demo_staff_token, new_key, reveal, rows, sealed_rows
from tests.harness import ROOT, run_command

OLD = new_key("old1")
NEW = new_key("new2")
NEW_RING = f"{NEW},{OLD}"


@pytest.fixture(scope="module")
async def old_stack(
    sandbox_url: str, tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path
) -> AsyncIterator[Stack]:
    """A stack of its own whose ID numbers are sealed under OLD."""
    data_dir = tmp_path_factory.mktemp("rotation")
    log = artifacts_dir / f"server-rotation-{BACKEND}.log"
    async with running_stack(BACKEND, sandbox_url, data_dir, log, ID_ENCRYPTION_KEYS=OLD) as stack:
        yield stack


def rotation(stack: Stack, ring: str, *args: str) -> subprocess.Popen:
    env = {**stack.env, "ID_ENCRYPTION_KEYS": ring}
    return subprocess.Popen(
        [sys.executable, "-m", "server", "rotate-id-key", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def reads_match(api: httpx.AsyncClient, staff: str, made: list[tuple[str, str, int]]) -> None:
    """What the server shows: the full number to staff, the masked one to the worker."""
    for token, number, enrolment_id in made:
        assert await reveal(api, staff, enrolment_id) == number
        shown = (await api.get("/api/v1/me", headers=bearer(token))).json()["profile"]["id_number"]
        assert shown == f"{number[:4]}{'*' * 10}{number[-4:]}"


async def test_rotation_reseals_every_row_while_the_server_reads_them(old_stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=old_stack.base_url, timeout=20) as api:
        made = await applicants(api, 4)
    old_cipher = IdCipher(OLD, old_stack.settings.id_blind_index_key)
    before = await sealed_rows(old_stack)
    assert {row["id_key_id"] for row in before} == {"old1"} and len(before) >= 8

    # A ring without the old key opens nothing: refused, nothing written.
    refused = rotation(old_stack, NEW)
    output, _ = refused.communicate(timeout=120)
    assert refused.returncode == 1 and "not in ID_ENCRYPTION_KEYS" in output, output
    assert await sealed_rows(old_stack) == before

    # The servers are restarted with the new key first, the old one behind it.
    servers, (url,) = start_servers(old_stack, "rotated", ID_ENCRYPTION_KEYS=NEW_RING)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=20) as api:
            staff = await demo_staff_token(api)
            await reads_match(api, staff, made)

            # One row per batch, slowly, so that the server is read between batches; stopped
            # (SIGKILL, no goodbye) after two batches.
            first = rotation(old_stack, NEW_RING, "--batch-size", "1", "--pause", "0.3")
            assert first.stdout is not None
            progress = [first.stdout.readline() for _ in range(3)]  # the heading and two batches
            assert all("re-sealed" in line for line in progress[1:]), progress
            await reads_match(api, staff, made)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            halfway = {row["id_key_id"] for row in await sealed_rows(old_stack)}
            assert halfway == {"old1", "new2"}

            # Resumed: it finishes what is left while the server goes on reading.
            second = rotation(old_stack, NEW_RING, "--batch-size", "2", "--pause", "0.2")
            reads_during = 0
            while second.poll() is None:
                await reads_match(api, staff, made)
                reads_during += 1
                await asyncio.sleep(0.05)
            output = second.stdout.read() if second.stdout else ""
            assert second.returncode == 0, output
            assert reads_during >= 1 and "every ID number is sealed under the current key" in output
            await reads_match(api, staff, made)
    finally:
        for server in servers:
            server.stop()

    after = await sealed_rows(old_stack)
    new_only = IdCipher(NEW, old_stack.settings.id_blind_index_key)
    assert [(row["tbl"], row["id"]) for row in after] == [(row["tbl"], row["id"]) for row in before]
    for old_row, new_row in zip(before, after, strict=True):
        assert new_row["id_key_id"] == "new2" and new_row["id_ciphertext"] != old_row["id_ciphertext"]
        number = old_cipher.open(Sealed(old_row["id_key_id"], old_row["id_ciphertext"]), "id_number")
        assert new_only.open(Sealed(new_row["id_key_id"], new_row["id_ciphertext"]), "id_number") == number
    by_enrolment = {row["id"]: row for row in after if row["tbl"] == "enrolments"}
    for _, number, enrolment_id in made:
        row = by_enrolment[enrolment_id]
        assert new_only.open(Sealed(row["id_key_id"], row["id_ciphertext"]), "id_number") == number

    # Run again: nothing left, nothing written.
    again = run_command({**old_stack.env, "ID_ENCRYPTION_KEYS": NEW_RING}, "rotate-id-key")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "worker_profiles: 0 re-sealed, 0 left" in again.stdout and "enrolments: 0 re-sealed, 0 left" in again.stdout
    assert await sealed_rows(old_stack) == after

    audited = await rows(old_stack, "SELECT object_id FROM audit_entries WHERE action = 'identity.key_rotated'")
    assert {row["object_id"] for row in audited} == {"new2"}
