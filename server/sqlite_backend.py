"""Tortoise's SQLite backend, with transactions that take the write lock when they begin and
reads that do not queue behind one another.

In the embedded mode the server and the dispatcher are two processes writing one SQLite file.
A plain `BEGIN` starts as a reader; when it later writes after the other process has committed,
SQLite refuses at once ("database is locked", SQLITE_BUSY_SNAPSHOT) without waiting.
`BEGIN IMMEDIATE` takes the write lock up front, so a second writer waits its turn for up to
`busy_timeout` instead. Selected by `server.db.tortoise_config` for SQLite URLs.

Rows come back as dicts: Tortoise reads each row by column name, and sqlite3.Row finds a name by
comparing it with every column in turn (a 25-column row cost ~5 µs to unpack; as a dict, ~1.5).

Tortoise puts every statement behind one lock on the one connection, so that nothing slips into
a transaction another task holds. A read outside a transaction needs the lock only while one is
open: otherwise it goes straight to aiosqlite's queue, where reads run back to back in its thread
instead of each waiting for the previous one's answer to reach the event loop. Its row count is
its rows (the connection's change counter, which Tortoise reads around each statement, would also
count the writes queued beside it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError


def _as_dicts(rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
    if not rows:
        return []
    names = rows[0].keys()
    return [dict(zip(names, row, strict=True)) for row in rows]


class _DictRows(SqliteClient):
    async def execute_query(self, query: str, values: list | None = None) -> tuple[int, Sequence[dict]]:
        count, rows = await super().execute_query(query, values)
        return count, _as_dicts(rows)


class ImmediateTransactionWrapper(_DictRows, SqliteTransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ImmediateTransactionWrapper(self))

    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ReleasingTransactionContext(SqliteTransactionContext):
    """Tortoise's context takes the connection's lock and then begins; when beginning fails or
    is cancelled (a client hanging up while its request waits for the write lock), it keeps the
    lock, and every later statement of the server waits for it forever. This one gives it back."""

    async def __aenter__(self) -> ImmediateTransactionWrapper:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


def _is_read(query: str) -> bool:
    return query[:7].upper() == "SELECT "


def _nul_spelled_out(query: str) -> str:
    """As Tortoise's client writes a NUL inside the SQL text, which sqlite3 would cut it at."""
    return query.replace("\x00", "'||CHAR(0)||'")


class ImmediateSqliteClient(_DictRows):
    def _in_transaction(self) -> TransactionContext:
        return ReleasingTransactionContext(ImmediateTransactionWrapper(self), self._lock)

    def _may_read_unlocked(self, query: str) -> bool:
        # Checked and queued with no await between: a transaction that takes the lock later
        # queues its BEGIN behind this read.
        return self._connection is not None and not self._lock.locked() and _is_read(query)

    @translate_exceptions
    async def execute_query(self, query: str, values: list | None = None) -> tuple[int, Sequence[dict]]:
        if not self._may_read_unlocked(query):
            return await super().execute_query(query, values)
        rows = await self._connection.execute_fetchall(_nul_spelled_out(query), values)
        return len(rows), _as_dicts(rows)

    @translate_exceptions
    async def execute_query_dict(self, query: str, values: list | None = None) -> list[dict]:
        if not self._may_read_unlocked(query):
            return await super().execute_query_dict(query, values)
        return _as_dicts(await self._connection.execute_fetchall(_nul_spelled_out(query), values))


client_class = ImmediateSqliteClient
