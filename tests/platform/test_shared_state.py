"""Shared state behaves the same in-process and on Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from server.shared_state import LockNotAcquired, SharedState, connect_shared_state, hold_lock
from tests.factories.common import unique


@pytest.fixture
async def state(stack) -> AsyncIterator[SharedState]:
    shared = connect_shared_state(stack.settings.redis_url, stack.settings.redis_prefix + unique("ss") + ":")
    yield shared
    await shared.close()


async def test_values_expire(state: SharedState) -> None:
    await state.set("k", "v", ttl_seconds=0.2)
    assert await state.get("k") == "v"
    await asyncio.sleep(0.3)
    assert await state.get("k") is None


async def test_counter_ttl_starts_at_first_increment(state: SharedState) -> None:
    assert [await state.incr("c", 0.3) for _ in range(3)] == [1, 2, 3]
    remaining = await state.ttl("c")
    assert remaining is not None and 0 < remaining <= 0.3
    await asyncio.sleep(0.35)
    assert await state.incr("c", 0.3) == 1


async def test_hits_count_in_a_fixed_window_and_can_be_given_back(state: SharedState) -> None:
    counts = [await state.hit("h", 0.4) for _ in range(3)]
    assert [count for count, _ in counts] == [1, 2, 3]
    assert all(0 < remaining <= 0.4 for _, remaining in counts)
    await state.give_back("h")
    assert (await state.hit("h", 0.4))[0] == 3
    await asyncio.gather(*(state.hit("h", 0.4) for _ in range(20)))
    assert (await state.hit("h", 0.4))[0] == 24
    await asyncio.sleep(0.45)
    await state.give_back("h")  # an expired window is not brought back as a negative count
    assert (await state.hit("h", 0.4))[0] == 1


async def test_set_if_absent_and_compare_and_delete(state: SharedState) -> None:
    assert await state.set_if_absent("once", "a", 5)
    assert not await state.set_if_absent("once", "b", 5)
    assert not await state.compare_and_delete("once", "b")
    assert await state.compare_and_delete("once", "a")
    assert await state.get("once") is None


async def test_lock_is_exclusive_and_released(state: SharedState) -> None:
    inside: list[int] = []
    peak = 0

    async def worker(n: int) -> None:
        nonlocal peak
        async with hold_lock(state, "job", ttl_seconds=5, wait_seconds=5):
            inside.append(n)
            peak = max(peak, len(inside))
            await asyncio.sleep(0.02)
            inside.remove(n)

    await asyncio.gather(*(worker(n) for n in range(5)))
    assert peak == 1
    async with hold_lock(state, "held", ttl_seconds=5):
        with pytest.raises(LockNotAcquired):
            async with hold_lock(state, "held", wait_seconds=0.1):
                pass


async def test_more_commands_at_once_than_connections_wait_their_turn(state: SharedState) -> None:
    # A dispatcher's sends reading the access token as it starts: three times the connections.
    from server.shared_state import REDIS_CONNECTIONS

    await state.set("token", "t", ttl_seconds=30)
    answers = await asyncio.gather(*(state.get("token") for _ in range(3 * REDIS_CONNECTIONS)))
    assert answers == ["t"] * (3 * REDIS_CONNECTIONS)
