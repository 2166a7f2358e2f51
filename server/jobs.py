"""The background jobs of this deployment, run by `python -m server jobs` (models/kernel/jobs.py).

A domain adds its job here with one line, like the blueprints in handlers/__init__.py. `run`
does one bounded round and returns something truthy when there may be more at once; a job whose
items cannot be claimed one by one with SKIP LOCKED is `exclusive=True` (one runner at a time on
every back end). An item it cannot process it
sets aside and records with `models.kernel.jobs.record_failure`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from models.kernel.assignment import expire_offers
from models.kernel.jobs import Job, Runner, record_failure
from models.kernel.timers import SWEEP_BATCH, sweep_timers
from models.service_orders import actions as service_order_actions  # noqa: F401 - registers offer and deadline handlers
from models.warm_requests import actions as warm_request_actions  # noqa: F401 - registers its timers' handler
from server.clock import now
from server.dispatcher import build_dispatcher
from server.settings import Settings
from server.shared_state import SharedState


async def sweep_due_timers() -> bool:
    """One sweep of the SLA timers; a timer whose handler failed is set aside by the sweep and
    shown to staff here. True while a full batch says there may be more."""
    results = await sweep_timers(now())
    for result in results:
        if result.error:
            await record_failure("timers", "sla_timer", result.timer_id, result.error)
    return len(results) >= SWEEP_BATCH


async def expire_due_offers() -> bool:
    """Offers past their deadline go back to their case type's handler; failures are recorded."""
    for failure in await expire_offers(now()):
        await record_failure("offers", "assignment", failure.assignment_id, failure.error)
    return False


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
    kernel_job = {
        "every": settings.job_sweep_seconds,
        "timeout": settings.job_round_timeout_seconds,
        "lease": settings.dispatcher_lease_seconds,
    }
    runner.register(Job("timers", run=sweep_due_timers, **kernel_job))
    runner.register(Job("offers", run=expire_due_offers, **kernel_job))
    try:
        yield runner
    finally:
        await dispatcher.close()
