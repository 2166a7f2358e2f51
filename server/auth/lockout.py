"""Repeated failed logins lock an account for a while; counted in shared state so that every
server process agrees."""

from __future__ import annotations

import math

from models.errors import TooManyAttempts
from server.shared_state import SharedState


class LoginLockout:
    def __init__(self, state: SharedState, max_failures: int, lockout_seconds: int) -> None:
        self._state = state
        self._max_failures = max_failures
        self._lockout_seconds = lockout_seconds

    @staticmethod
    def _key(username: str) -> str:
        return f"login-failures:{username.strip().lower()}"

    async def attempt(self, username: str) -> None:
        """Count the attempt first, then judge it, so that concurrent guesses cannot slip past
        the limit between a check and a count. A successful login clears the count."""
        key = self._key(username)
        if await self._state.incr(key, self._lockout_seconds) > self._max_failures:
            remaining = await self._state.ttl(key) or self._lockout_seconds
            minutes = max(1, math.ceil(remaining / 60))
            raise TooManyAttempts(
                "auth.locked",
                f"登录失败次数过多，账号已临时锁定，请 {minutes} 分钟后再试",
                {"retry_after": math.ceil(remaining)},
            )

    async def clear(self, username: str) -> None:
        await self._state.delete(self._key(username))
