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
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
