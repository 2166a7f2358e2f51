"""Tortoise's asyncpg backend, with a bound on the wait for a pooled connection.

asyncpg waits for a free connection for as long as it takes: under a burst larger than the pool a
request queued behind the others until Sanic's own timeout and was answered 500 a minute later.
Here the wait is bounded (`DATABASE_ACQUIRE_TIMEOUT_SECONDS`); past it `DatabaseBusy` is raised,
which `server/errors.py` answers 503 with Retry-After at once. Selected by
`server.db.tortoise_config` for PostgreSQL URLs.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient


class DatabaseBusy(Exception):
    """No pooled connection became free within the bound."""


class BoundedPool(asyncpg.Pool):
    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acquire_timeout = acquire_timeout

    async def _acquire(self, timeout: float | None) -> asyncpg.Connection:  # noqa: ASYNC109 - asyncpg's signature
        bound = self._acquire_timeout if timeout is None else timeout
        try:
            return await super()._acquire(bound)
        except TimeoutError as exc:
            raise DatabaseBusy(f"no database connection free within {bound:g} s") from exc


class BoundedPostgresClient(AsyncpgDBClient):
    def __init__(self, *, acquire_timeout: float = 5.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acquire_timeout = float(acquire_timeout)

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        defaults = {"max_queries": 50_000, "max_inactive_connection_lifetime": 300.0, "record_class": asyncpg.Record}
        return await BoundedPool(None, acquire_timeout=self.acquire_timeout, **{**defaults, **kwargs})


client_class = BoundedPostgresClient
