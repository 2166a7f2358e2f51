"""Enterprise tests also call the domain directly (instants as arguments), on the session's database."""

from __future__ import annotations

import pytest

from tests.conftest import Stack


@pytest.fixture(autouse=True)
def database(stack: Stack) -> Stack:
    return stack
