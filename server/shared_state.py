"""Shared state: the small set of operations that several processes must agree on.

Cache entries, counters for rate limits and lockouts, locks, the WeChat access token. Backed by
Redis (`redis.asyncio`) when `REDIS_URL` is set, by an in-process store otherwise: the embedded
mode runs one server process, so process memory is shared enough there.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from redis.asyncio import BlockingConnectionPool, Redis

# Connections per process, and how long a command waits for one when all are busy.
REDIS_CONNECTIONS = 100
REDIS_WAIT_SECONDS = 5.0


class LockNotAcquired(Exception):
    pass


class SharedState(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_seconds: float | None = None) -> None: ...

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool: ...

    async def delete(self, key: str) -> None: ...

    async def compare_and_delete(self, key: str, expected: str) -> bool: ...

    async def incr(self, key: str, ttl_seconds: float) -> int:
        """Increment a counter; its time to live starts at the first increment."""
        ...

    async def hit(self, key: str, window_seconds: float) -> tuple[int, float]:
        """Count one more in a fixed window that starts at the first hit; returns the count and
        the seconds left in the window, in one atomic step."""
        ...

    async def give_back(self, key: str) -> None:
        """Take one hit back from a live counter (a hit that turned out not to count); an
        expired counter stays expired."""
        ...

    async def ttl(self, key: str) -> float | None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


@asynccontextmanager
async def hold_lock(
    state: SharedState, name: str, ttl_seconds: float = 10.0, wait_seconds: float = 10.0
) -> AsyncIterator[None]:
    """A lease-style lock: released on exit, or by expiry if its holder dies."""
    token = secrets.token_hex(16)
    key = f"lock:{name}"
    deadline = time.monotonic() + wait_seconds
    while not await state.set_if_absent(key, token, ttl_seconds):
        if time.monotonic() >= deadline:
            raise LockNotAcquired(name)
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        await state.compare_and_delete(key, token)


class MemorySharedState:
    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float | None]] = {}

    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        expires_at = entry[1]
        if expires_at is not None and expires_at <= time.monotonic():
            del self._values[key]
            return None
        return entry

    @staticmethod
    def _expiry(ttl_seconds: float | None) -> float | None:
        return None if ttl_seconds is None else time.monotonic() + ttl_seconds

    async def get(self, key: str) -> str | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def set(self, key: str, value: str, ttl_seconds: float | None = None) -> None:
        self._values[key] = (value, self._expiry(ttl_seconds))

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        if self._live(key) is not None:
            return False
        self._values[key] = (value, self._expiry(ttl_seconds))
        return True

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def compare_and_delete(self, key: str, expected: str) -> bool:
        entry = self._live(key)
        if entry is None or entry[0] != expected:
            return False
        del self._values[key]
        return True

    async def incr(self, key: str, ttl_seconds: float) -> int:
        entry = self._live(key)
        if entry is None:
            self._values[key] = ("1", self._expiry(ttl_seconds))
            return 1
        count = int(entry[0]) + 1
        self._values[key] = (str(count), entry[1])
        return count

    async def hit(self, key: str, window_seconds: float) -> tuple[int, float]:
        count = await self.incr(key, window_seconds)
        return count, await self.ttl(key) or 0.0

    async def give_back(self, key: str) -> None:
        entry = self._live(key)
        if entry is not None:
            self._values[key] = (str(int(entry[0]) - 1), entry[1])

    async def ttl(self, key: str) -> float | None:
        entry = self._live(key)
        if entry is None or entry[1] is None:
            return None
        return max(0.0, entry[1] - time.monotonic())

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._values.clear()


_COMPARE_AND_DELETE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""
_INCR_WITH_TTL = """
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
return n
"""

_HIT = """
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
return {n, redis.call('pttl', KEYS[1])}
"""
_GIVE_BACK = """
if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) else return 0 end
"""


class RedisSharedState:
    def __init__(self, url: str, prefix: str = "gonghui:") -> None:
        # redis-py's default pool answers a command beyond its 100 connections with "Too many
        # connections" at once: a dispatcher's 128 sends reading the access token as it starts, or
        # more requests at once than that, failed. This pool makes such a command wait its turn.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=REDIS_CONNECTIONS,
            timeout=REDIS_WAIT_SECONDS,
            decode_responses=True,
            socket_timeout=5,
            socket_connect_timeout=2,
        )
        self._redis = Redis.from_pool(pool)
        self._prefix = prefix

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> str | None:
        return await self._redis.get(self._k(key))

    async def set(self, key: str, value: str, ttl_seconds: float | None = None) -> None:
        px = int(ttl_seconds * 1000) if ttl_seconds is not None else None
        await self._redis.set(self._k(key), value, px=px)

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        return bool(await self._redis.set(self._k(key), value, px=int(ttl_seconds * 1000), nx=True))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._k(key))

    async def compare_and_delete(self, key: str, expected: str) -> bool:
        return bool(await self._redis.eval(_COMPARE_AND_DELETE, 1, self._k(key), expected))

    async def incr(self, key: str, ttl_seconds: float) -> int:
        return int(await self._redis.eval(_INCR_WITH_TTL, 1, self._k(key), int(ttl_seconds * 1000)))

    async def hit(self, key: str, window_seconds: float) -> tuple[int, float]:
        count, remaining = await self._redis.eval(_HIT, 1, self._k(key), int(window_seconds * 1000))
        return int(count), max(0, int(remaining)) / 1000

    async def give_back(self, key: str) -> None:
        await self._redis.eval(_GIVE_BACK, 1, self._k(key))

    async def ttl(self, key: str) -> float | None:
        remaining = await self._redis.pttl(self._k(key))
        return None if remaining < 0 else remaining / 1000

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()


def connect_shared_state(redis_url: str, prefix: str = "gonghui:") -> SharedState:
    if redis_url:
        return RedisSharedState(redis_url, prefix)
    return MemorySharedState()
