"""Tortoise's asyncpg backend, with a bound on the wait for a pooled connection.

asyncpg waits for a free connection for as long as it takes: under a burst larger than the pool a
request queued behind the others until Sanic's own timeout and was answered 500 a minute later.
Here the wait is bounded (`DATABASE_ACQUIRE_TIMEOUT_SECONDS`); past it `DatabaseBusy` is raised,
which `server/errors.py` answers 503 with Retry-After at once. Selected by
`server.db.tortoise_config` for PostgreSQL URLs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient


class DatabaseBusy(Exception):
    """No pooled connection became free within the bound."""


class BoundedPool(asyncpg.Pool):
    """asyncpg's pool, bounded and fair: connections go to waiting requests in the order they
    asked. asyncpg's own queue lets a request that arrives just as a connection comes back take
    it ahead of those already waiting, who go to the back again: under load most requests are
    served at once and some wait many turns, which made p99 five to ten times the median at 64
    connections over a pool of 5. A first-come, first-served semaphore of the pool's size now
    decides the turn; holding a turn, a connection is always free."""

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acquire_timeout = acquire_timeout
        self._turns = asyncio.Semaphore(self._maxsize)
        self._lent: set[int] = set()  # ids of the connections handed out, each holding a turn

    async def _acquire(self, timeout: float | None) -> asyncpg.Connection:  # noqa: ASYNC109 - asyncpg's signature
        bound = self._acquire_timeout if timeout is None else timeout
        if self._turns.locked():
            try:
                async with asyncio.timeout(bound):
                    await self._turns.acquire()
            except TimeoutError as exc:
                raise DatabaseBusy(f"no database connection free within {bound:g} s") from exc
        else:
            await self._turns.acquire()  # free now: no timer to arm
        try:
            # Holding a turn, a connection holder is free at once: the only wait left is a new
            # connection's connect, which asyncpg bounds itself (`timeout`, set in create_pool).
            # asyncpg's own bound here would cost a task and a timer on every acquire.
            connection = await super()._acquire(None)
        except BaseException as exc:
            self._turns.release()
            if isinstance(exc, TimeoutError):
                raise DatabaseBusy(f"no database connection free within {bound:g} s") from exc
            raise
        self._lent.add(id(connection))
        return connection

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        try:
            await super().release(connection, timeout=self._acquire_timeout if timeout is None else timeout)
        finally:
            if id(connection) in self._lent:
                self._lent.discard(id(connection))
                self._turns.release()


class BoundedPostgresClient(AsyncpgDBClient):
    def __init__(self, *, acquire_timeout: float = 5.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acquire_timeout = float(acquire_timeout)

    pool_class: type[BoundedPool] = BoundedPool

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        defaults = {
            "max_queries": 50_000,
            "max_inactive_connection_lifetime": 300.0,
            "record_class": asyncpg.Record,
            "timeout": self.acquire_timeout,  # asyncpg.connect's: a new connection's connect
        }
        return await self.pool_class(None, acquire_timeout=self.acquire_timeout, **{**defaults, **kwargs})


client_class = BoundedPostgresClient
