"""What the benchmarks share beyond tests/harness.py."""

from __future__ import annotations

from redis.asyncio import Redis


def asyncpg_url(url: str) -> str:
    """asyncpg wants postgresql://; Tortoise and the settings write postgres://."""
    return url.replace("postgres://", "postgresql://", 1)


async def forget_redis_keys(redis_url: str, prefix: str) -> None:
    """Delete every key a run wrote under its own prefix."""
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
