"""Abuse limits, counted in shared state so that every server process agrees (Redis in
production, process memory in the embedded mode). See docs/RELIABILITY.md, "Abuse".

- `Limiter`: at most N hits per fixed window per client address. Used as `counting_failures`,
  the hit is taken before the attempt (a burst of concurrent attempts cannot slip past the
  limit between a check and a count) and given back when the attempt does not fail.
- `LoginDelays`: per client address and account, the first failures are free, then each attempt
  waits a delay that doubles with every further failure. Nothing is counted per account alone,
  so a stranger's failures never delay the account's owner at another address.

Every refusal is a `TooManyAttempts` (429 `rate_limited`, `details.retry_after`, and the
`Retry-After` header that server/errors.py derives from it).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from models.errors import TooManyAttempts, Unauthorized
from server.settings import RateLimit, Settings
from server.shared_state import SharedState


def _wait_text(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 60 else f"{math.ceil(seconds / 60)} 分钟"


def too_many(retry_after: float, message: str = "请求过于频繁") -> TooManyAttempts:
    seconds = max(1, math.ceil(retry_after))
    return TooManyAttempts("rate_limited", f"{message}，请 {_wait_text(seconds)}后再试", {"retry_after": seconds})


def _account(username: str) -> str:
    # Hashed: any text a stranger types as a username becomes a short, fixed-size key.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


class Limiter:
    def __init__(self, state: SharedState, name: str, limit: RateLimit, message: str = "请求过于频繁") -> None:
        self._state = state
        self._name = name
        self._limit = limit
        self._message = message

    def _key(self, subject: str) -> str:
        return f"rate:{self._name}:{subject}"

    async def hit(self, subject: str) -> None:
        if self._limit.max_hits == 0:
            return
        count, remaining = await self._state.hit(self._key(subject), self._limit.window_seconds)
        if count > self._limit.max_hits:
            raise too_many(remaining or self._limit.window_seconds, self._message)

    @asynccontextmanager
    async def counting_failures(self, subject: str) -> AsyncIterator[None]:
        """Only a failed credential (401) inside the block keeps its hit."""
        await self.hit(subject)
        try:
            yield
        except Unauthorized:
            raise
        except BaseException:
            await self._give_back(subject)
            raise
        await self._give_back(subject)

    async def _give_back(self, subject: str) -> None:
        if self._limit.max_hits:
            await self._state.give_back(self._key(subject))


class LoginDelays:
    def __init__(self, state: SharedState, settings: Settings) -> None:
        self._state = state
        self._free = settings.login_free_failures
        self._base = settings.login_delay_base_seconds
        self._cap = settings.login_delay_cap_seconds
        self._memory = settings.login_failure_memory_seconds

    def _keys(self, ip: str, username: str) -> tuple[str, str]:
        pair = f"{ip}:{_account(username)}"
        return f"login-failures:{pair}", f"login-wait:{pair}"

    async def attempt(self, ip: str, username: str) -> None:
        """Counted before the password is checked; past the free failures, each attempt claims
        the wait before the next one, so concurrent guesses are refused rather than raced."""
        failures, wait = self._keys(ip, username)
        if remaining := await self._state.ttl(wait):
            raise too_many(remaining, "登录失败次数过多")
        count = await self._state.incr(failures, self._memory)
        if count <= self._free:
            return
        delay = min(self._cap, self._base * 2 ** min(count - self._free - 1, 30))
        if not await self._state.set_if_absent(wait, "1", delay):
            raise too_many(await self._state.ttl(wait) or delay, "登录失败次数过多")

    async def succeeded(self, ip: str, username: str) -> None:
        for key in self._keys(ip, username):
            await self._state.delete(key)


class StaffLoginThrottle:
    """Staff login: delays per address and account, and a cap on failures per address across
    accounts (password spraying)."""

    def __init__(self, state: SharedState, settings: Settings) -> None:
        self._delays = LoginDelays(state, settings)
        self._failures = Limiter(
            state, "staff-login-failures", settings.rate_limit_staff_login_failures, "登录失败次数过多"
        )

    @asynccontextmanager
    async def attempt(self, ip: str, username: str) -> AsyncIterator[None]:
        async with self._failures.counting_failures(ip):
            await self._delays.attempt(ip, username)
            yield
            await self._delays.succeeded(ip, username)


class RateLimits:
    """Every limit, built once per process from the settings; keyed by the client's address."""

    def __init__(self, state: SharedState, settings: Settings) -> None:
        self.staff_login = StaffLoginThrottle(state, settings)
        self.worker_login = Limiter(state, "worker-login", settings.rate_limit_worker_login)
        self.worker_login_failures = Limiter(
            state, "worker-login-failures", settings.rate_limit_worker_login_failures, "登录失败次数过多"
        )
        self.card_verify = Limiter(state, "card-verify", settings.rate_limit_card_verify)
        self.org_search = Limiter(state, "org-search", settings.rate_limit_org_search)
