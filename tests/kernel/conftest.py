"""The kernel's tests use the session's database directly (the stack initialises Tortoise)."""

from __future__ import annotations

import pytest

from tests.conftest import Stack


@pytest.fixture(autouse=True)
def database(stack: Stack) -> Stack:
    return stack
