"""The PostgreSQL pool gives a clean connection back at once and anything else through asyncpg's
own release, and either way the connection serves the next request (server/pg_backend.py)."""

from __future__ import annotations

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from models.orgs import Org
from server.pg_backend import KeptSessionPool, request_connection
from tests.conftest import Stack


async def _one_request() -> None:
    async with request_connection():
        assert await Org.filter(parent_id=None).count() >= 1


async def _pool(stack: Stack) -> KeptSessionPool:
    if stack.settings.uses_sqlite:
        pytest.skip("the pool is PostgreSQL's; SQLite has one connection and no pool")
    await _one_request()  # the pool is made by the first statement
    pool = connections.get("default")._pool
    assert isinstance(pool, KeptSessionPool)
    return pool


async def test_a_clean_connection_goes_back_at_once_and_serves_again(stack: Stack) -> None:
    pool = await _pool(stack)
    free = pool.get_idle_size()
    proxy = await pool.acquire()
    server_pid = proxy.get_server_pid()
    assert pool._give_back_at_once(proxy) is True
    pool._lent.discard(id(proxy))
    pool._turns.release()
    assert pool.get_idle_size() == free
    # The same server session is handed out next, and it works.
    again = await pool.acquire()
    try:
        assert again.get_server_pid() == server_pid
        assert await again.fetchval("SELECT 1") == 1
    finally:
        await pool.release(again)
    for _ in range(3 * pool.get_max_size()):
        await _one_request()
    assert pool.get_idle_size() == free


async def test_a_connection_left_in_a_transaction_is_rolled_back_by_asyncpg(stack: Stack) -> None:
    pool = await _pool(stack)
    proxy = await pool.acquire()
    server_pid = proxy.get_server_pid()
    transaction = proxy.transaction()
    await transaction.start()
    await proxy.execute("CREATE TEMPORARY TABLE pool_probe (n int) ON COMMIT DROP")
    assert pool._give_back_at_once(proxy) is False  # something to undo: not here
    await pool.release(proxy)
    # Every turn came back: the pool's every connection can be held at once, the same session among them.
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        (again,) = [connection for connection in held if connection.get_server_pid() == server_pid]
        assert not again.is_in_transaction()
        assert await again.fetchval("SELECT to_regclass('pg_temp.pool_probe')") is None
    finally:
        for connection in held:
            await pool.release(connection)
    async with in_transaction():
        assert await Org.all().count() >= 1
    for _ in range(3 * pool.get_max_size()):
        await _one_request()
