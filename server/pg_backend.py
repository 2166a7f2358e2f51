"""Tortoise's asyncpg backend, with one pool connection per request and no reset round trip.

Stock Tortoise takes a pool connection for every statement outside a transaction and gives it
back after, and asyncpg resets a connection it gets back (`SELECT pg_advisory_unlock_all(); CLOSE
ALL; UNLISTEN *; RESET ALL`): one more round trip per statement, half of what PostgreSQL saw for
`GET /api/v1/me`. Here:

- The pool gives connections back without that reset: nothing here leaves session state behind
  (no LISTEN, advisory locks, cursors held past a statement or SET outside a transaction).
  asyncpg still rolls back a transaction left open (a request cancelled halfway) before the hook.
- Inside `request_connection()` (server/app.py runs every request in it) the first statement
  takes a pool connection and the request keeps it until it ends; its statements and its
  transactions use that one, one at a time. A transaction begun while the request's connection
  is already in one, or a statement sent meanwhile from outside it (a task the request started),
  takes another pool connection, as stock Tortoise would, so that no statement ever joins a
  transaction it was not part of. Outside a request (job runner, dispatcher, commands) every
  statement takes a pool connection, as before.

The wait for a pooled connection stays bounded as in server/postgres_backend.py, which this builds on.

Selected by `server.db.connection_config` for PostgreSQL URLs (not with PgBouncer).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import TransactionWrapper
from tortoise.backends.base.client import TransactionContext
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

from server.postgres_backend import BoundedPool, BoundedPostgresClient


async def _keep_session(connection: asyncpg.Connection) -> None:
    """In place of asyncpg's reset query (see the module's docstring)."""


class KeptSessionPool(BoundedPool):
    """The bounded pool, giving a connection back at once when there is nothing to undo.

    asyncpg's release runs its reset in a task of its own under a timer (`asyncio.shield`, so that
    a cancelled request cannot lose the connection), even when, as here, the reset has nothing to
    do: 15 of the 22 µs of CPU that taking and giving back a connection cost. A connection with
    no transaction open, no listener, no cancellation under way, under its query limit and of the
    pool's generation goes back here without awaiting anything (so nothing can interrupt it),
    the steps asyncpg's release takes after its reset; any other goes through asyncpg's release.
    Written against asyncpg 0.32's pool (pyproject pins the minor version); tests/platform covers
    both paths."""

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if self._give_back_at_once(connection):
            self._lent.discard(id(connection))
            self._turns.release()
            return
        await super().release(connection, timeout=timeout)

    def _give_back_at_once(self, proxy: Any) -> bool:
        holder, connection = getattr(proxy, "_holder", None), getattr(proxy, "_con", None)
        if holder is None or connection is None or holder._pool is not self or holder._in_use is None:
            return False
        if id(proxy) not in self._lent or holder._generation != self._generation:
            return False
        protocol = connection._protocol
        if connection.is_closed() or protocol.is_in_transaction() or connection._top_xact is not None:
            return False
        if protocol._is_cancelling() or protocol.queries_count >= holder._max_queries:
            return False
        if connection._listeners or connection._log_listeners:
            return False
        connection._on_release()
        holder._timeout = None
        holder._release()
        holder._setup_inactive_callback()
        return True


class _Held:
    """A request's connection: none until its first statement."""

    __slots__ = ("client", "connection", "ended", "in_transaction", "lock")

    def __init__(self) -> None:
        self.client: RequestConnectionClient | None = None
        self.connection: asyncpg.Connection | None = None
        self.lock = asyncio.Lock()
        self.in_transaction = False
        self.ended = False

    @property
    def usable(self) -> bool:
        return not self.ended and not self.in_transaction

    async def take(self, client: RequestConnectionClient) -> asyncpg.Connection:
        """The connection, acquired on first use; call with `lock` held."""
        if self.connection is None:
            await client.ensure_pool()
            self.connection = await client._pool.acquire()
            self.client = client
        return self.connection

    async def give_back(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and self.client is not None and self.client._pool is not None:
            await self.client._pool.release(connection)

    async def end(self) -> None:
        """The request is over: its connection goes back now, or, when a statement of a task it
        started is still running on it, as soon as that statement is done (`done_with`)."""
        self.ended = True
        if not self.lock.locked():
            await self.give_back()

    async def done_with(self) -> None:
        self.lock.release()
        if self.ended and not self.lock.locked():
            await self.give_back()


_held: ContextVar[_Held | None] = ContextVar("gonghui_request_connection", default=None)


@asynccontextmanager
async def request_connection() -> AsyncIterator[None]:
    """Statements inside share one pool connection, given back when the block ends."""
    held = _Held()
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
        await held.end()


class _HeldConnection:
    __slots__ = ("client", "held")

    def __init__(self, client: RequestConnectionClient, held: _Held) -> None:
        self.client = client
        self.held = held

    async def __aenter__(self) -> asyncpg.Connection:
        await self.held.lock.acquire()
        try:
            return await self.held.take(self.client)
        except BaseException:
            await self.held.done_with()
            raise

    async def __aexit__(self, *exc: object) -> None:
        await self.held.done_with()


class _HeldTransaction(TransactionContext):
    """A transaction on the request's connection (Tortoise's pooled one, minus the pool)."""

    __slots__ = ("client", "connection_name", "held", "token")

    def __init__(self, client: TransactionWrapper, held: _Held) -> None:
        self.client = client
        self.connection_name = client.connection_name
        self.held = held

    async def __aenter__(self) -> TransactionWrapper:
        await self.held.lock.acquire()
        try:
            self.client._connection = await self.held.take(self.client._parent)
            self.held.in_transaction = True
            self.token = get_connections().set(self.connection_name, self.client)
            try:
                await self.client.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self.held.in_transaction = False
            await self.held.done_with()
            raise
        return self.client

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            if not self.client._finalized:
                if exc_type:
                    if exc_type is not TransactionManagementError:
                        await self.client.rollback()
                else:
                    await self.client.commit()
        finally:
            get_connections().reset(self.token)
            self.held.in_transaction = False
            await self.held.done_with()


class RequestConnectionClient(BoundedPostgresClient):
    pool_class = KeptSessionPool

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        return await super().create_pool(reset=_keep_session, **kwargs)

    async def ensure_pool(self) -> None:
        if not self._pool:
            async with self._pool_init_lock:
                if not self._pool:
                    await self.create_connection(with_db=True)

    def acquire_connection(self) -> Any:
        held = _held.get()
        if held is None or not held.usable:
            return super().acquire_connection()
        return _HeldConnection(self, held)

    def _in_transaction(self) -> TransactionContext:
        held = _held.get()
        if held is None or not held.usable:
            return super()._in_transaction()
        return _HeldTransaction(TransactionWrapper(self), held)


async def lend_connection_back() -> None:
    """Before a wait that is not the database's (WeChat over HTTP, hashing a password): give the
    request's connection back, unless a transaction holds it, so that a slow call never keeps a
    pool connection from other requests; the request's next statement takes one again."""
    held = _held.get()
    if held is None or not held.usable or held.connection is None or held.lock.locked():
        return
    await held.give_back()


client_class = RequestConnectionClient
