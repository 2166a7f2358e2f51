"""Tortoise's SQLite backend, with transactions that take the write lock when they begin.

In the embedded mode the server and the dispatcher are two processes writing one SQLite file.
A plain `BEGIN` starts as a reader; when it later writes after the other process has committed,
SQLite refuses at once ("database is locked", SQLITE_BUSY_SNAPSHOT) without waiting.
`BEGIN IMMEDIATE` takes the write lock up front, so a second writer waits its turn for up to
`busy_timeout` instead. Selected by `server.db.tortoise_config` for SQLite URLs.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
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


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return ReleasingTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
