"""On SQLite a read outside a transaction does not take the connection's lock, yet never slips
into another task's open transaction, and its row count is its own (server/sqlite_backend.py)."""

from __future__ import annotations

import asyncio

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from models.orgs import Org
from server.sqlite_backend import ImmediateSqliteClient
from tests.conftest import Stack
from tests.factories.unions import demo_org, make_org

CITY = "中山市总工会"


class _RolledBack(Exception):
    pass


def _client(stack: Stack) -> ImmediateSqliteClient:
    if not stack.settings.uses_sqlite:
        pytest.skip("the unlocked read is SQLite's; PostgreSQL gives each request a connection of its own")
    client = connections.get("default")
    assert isinstance(client, ImmediateSqliteClient)
    return client


async def test_a_read_waits_for_another_tasks_open_transaction(stack: Stack) -> None:
    _client(stack)
    org = await make_org(await demo_org(CITY))
    renamed = asyncio.Event()
    finish = asyncio.Event()

    async def rename_then_roll_back() -> None:
        try:
            async with in_transaction():
                await Org.filter(id=org.id).update(name=org.name + "（改名中）")
                renamed.set()
                await finish.wait()
                # A statement of the transaction's own: any read queued before it has run by now.
                assert await Org.filter(id=org.id).count() == 1
                raise _RolledBack
        except _RolledBack:
            pass

    async def read() -> Org:
        return await Org.get(id=org.id)

    writer = asyncio.create_task(rename_then_roll_back())
    await renamed.wait()
    reader = asyncio.create_task(read())
    await asyncio.sleep(0)  # the read has gone as far as it goes while the transaction is open
    assert not reader.done()
    finish.set()
    await writer
    # Had the read gone to the connection at once, it would have run inside the transaction and
    # seen the name the transaction then rolled back.
    assert (await reader).name == org.name


async def test_a_reads_row_count_is_its_rows_when_a_write_runs_beside_it(stack: Stack) -> None:
    client = _client(stack)
    parent = await make_org(await demo_org(CITY))
    children = [await make_org(parent) for _ in range(3)]
    read = asyncio.create_task(client.execute_query('SELECT "id" FROM "orgs" WHERE "parent_id"=?', [parent.id]))
    await asyncio.sleep(0)  # the read is queued on the connection
    # A write queued behind it and finished before the read's answer is looked at: the
    # connection's change counter has moved while the read was out.
    await client._connection.execute('UPDATE "orgs" SET "name"="name" WHERE "id"=?', [children[0].id])
    count, rows = await read
    assert count == len(rows) == 3
