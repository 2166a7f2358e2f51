"""What the benchmarks share beyond tests/harness.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis

from tests.harness import ROOT, Process


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


def start_baseline(module: str, env: dict[str, str], log_path: Path, port: int, database_url: str) -> Process:
    """A benchmark's bare app: `python -m <module> --serve-baseline PORT DATABASE_URL`."""
    baseline = Process("baseline", env, log_path)
    with log_path.open("ab") as log:
        baseline.process = subprocess.Popen(
            [sys.executable, "-m", module, "--serve-baseline", str(port), database_url],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return baseline
