"""The background jobs of this deployment, run by `python -m server jobs` (models/kernel/jobs.py).

A domain adds its job here with one line, like the blueprints in handlers/__init__.py; the SLA
timer sweep (models/kernel/timers.py, once merged) is:

    runner.register(Job("timers", run=lambda: sweep_timers(now()), every=30, timeout=settings.job_round_timeout_seconds))

`run` does one bounded round and returns something truthy when there may be more at once (a
non-empty list of what it did will do); a job whose items cannot be claimed one by one with SKIP
LOCKED is `exclusive=True` (one runner at a time on every back end). An item it cannot process it
sets aside and records with `models.kernel.jobs.record_failure`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from models.kernel.jobs import Job, Runner
from server.dispatcher import build_dispatcher
from server.settings import Settings
from server.shared_state import SharedState


@asynccontextmanager
async def job_runner(settings: Settings, state: SharedState, name: str | None = None) -> AsyncIterator[Runner]:
    """A runner with every job registered; closes what the jobs opened when done."""
    dispatcher = build_dispatcher(settings, state, name)
    runner = Runner(dispatcher.name, row_locks=not settings.uses_sqlite, shutdown_seconds=settings.job_shutdown_seconds)
    notification_job = {
        "every": settings.dispatcher_poll_seconds,
        "timeout": settings.job_round_timeout_seconds,
        "lease": settings.dispatcher_lease_seconds,
        "on_stop": dispatcher.stop,
    }
    runner.register(Job("notifications", run=dispatcher.deliver, **notification_job))
    runner.register(Job("broadcasts", run=dispatcher.expand_broadcasts, **notification_job))
    try:
        yield runner
    finally:
        await dispatcher.close()
