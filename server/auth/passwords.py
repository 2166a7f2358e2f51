"""Staff passwords, hashed with argon2id. Hashing runs off the event loop: it costs ~50 ms of CPU."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models.errors import Invalid
from server.pg_backend import lend_connection_back

_hasher = PasswordHasher()
# Verified against when the username is unknown, so that timing does not reveal which names exist.
_DECOY_HASH = _hasher.hash("decoy-password-for-unknown-usernames")

MIN_PASSWORD_LENGTH = 10


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or password.isdigit() or password.isalpha():
        raise Invalid(
            "auth.weak_password",
            f"密码至少 {MIN_PASSWORD_LENGTH} 位，且须同时包含字母和数字或符号",
        )


async def hash_password(password: str) -> str:
    await lend_connection_back()  # hashing takes tens of milliseconds of CPU
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DECOY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    await lend_connection_back()
    return await asyncio.to_thread(verify)
