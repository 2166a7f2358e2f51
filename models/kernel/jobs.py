"""Background jobs: named, periodic units of work, run by `python -m server jobs`.

A `Job` is one round of work repeated: `run()` does a bounded amount (claims a batch, sweeps the
due timers) and returns True when there may be more at once; otherwise the runner waits `every`
seconds. Each round is bounded by `timeout`. A round that raises or times out is logged,
recorded in `job_failures` and tried again after the interval; the runner goes on.

Sharing the work between runner processes (docs/RELIABILITY.md, "Background jobs"):
- PostgreSQL: every runner runs every job; a job claims its items with
  `SELECT ... FOR UPDATE SKIP LOCKED` (and a lease on the item), so runners take disjoint items.
  A job marked `exclusive` (one whose items cannot be claimed one by one) runs in one runner at a
  time, the holder of its `JobLease` row.
- SQLite has no row locks: every job is exclusive there, so one runner at a time does the work.

An item a job cannot process is set aside by the job itself (its own row marked failed, say) and
recorded with `record_failure`, so that it never blocks the items after it; staff see the open
failures (`GET /api/v1/admin/jobs/failures`) and retry or resolve them. A domain makes its items
retryable by registering how to put one back in its queue (`register_requeue`).

On SIGTERM (`Runner.stop`) the runner starts no round, tells each job to stop claiming
(`Job.on_stop`), lets rounds in flight finish for up to the shutdown bound, cancels what is left
(its claims lapse with their leases) and gives up its leases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.errors import Conflict
from models.scope import StaffScope
from server.clock import now

log = logging.getLogger("gonghui.jobs")

# The item type of a whole round that failed (raised, or ran past its timeout).
ROUND = "round"
ERROR_CHARS = 2000


@dataclass(frozen=True)
class Job:
    """One named unit of background work.

    run: one round; a truthy answer means there may be more work now (run again at once).
    every: seconds between rounds when the last one found nothing to do.
    timeout: the longest one round may take before it is cancelled and recorded as failed.
    lease: seconds a runner holds the job (exclusive jobs, SQLite) before another may take it;
        renewed while a round runs.
    exclusive: run in one runner at a time on every back end, not only on SQLite.
    on_stop: called at shutdown, so that a round in flight stops claiming and finishes early.
    """

    name: str
    run: Callable[[], Awaitable[object]]
    every: float
    timeout: float = 300.0
    lease: float = 60.0
    exclusive: bool = False
    on_stop: Callable[[], None] | None = None


class JobLease(Model):
    """Which runner holds an exclusive job, until when."""

    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=48, unique=True)
    holder = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "job_leases"


class JobFailure(Model):
    """An item a background job set aside with its error, or a round that failed, for staff."""

    id = fields.BigIntField(primary_key=True)
    job = fields.CharField(max_length=48)
    item_type = fields.CharField(max_length=48)
    item_id = fields.CharField(max_length=64)
    # The union the item belongs to, if any: union admins see their subtree, superadmins all.
    org_id = fields.BigIntField(null=True, db_index=True)
    error = fields.TextField()
    attempts = fields.IntField(default=1)
    first_seen_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)
    resolved_by = fields.CharField(max_length=64, default="")
    # retried (put back in its queue by staff), resolved (closed by staff), recovered (the next
    # round of a failed round succeeded)
    resolution = fields.CharField(max_length=16, default="")

    @property
    def retryable(self) -> bool:
        """Whether staff can put the item back in its queue (its domain registered how)."""
        return self.item_type in _requeues

    class Meta:
        table = "job_failures"
        unique_together = (("job", "item_type", "item_id"),)
        indexes = (("resolved_at", "last_seen_at"),)


# --- leases ---------------------------------------------------------------------------------


async def take_lease(name: str, holder: str, seconds: float) -> datetime | None:
    """Hold (or renew) the lease `name` for `seconds`; its expiry, or None while another holds it.
    Read first, so that a runner waiting for the lease does not take SQLite's write lock."""
    moment = now()
    until = moment + timedelta(seconds=seconds)
    current = await JobLease.get_or_none(name=name)
    if current is not None and current.holder != holder and current.expires_at >= moment:
        return None
    taken = await JobLease.filter(Q(name=name) & (Q(holder=holder) | Q(expires_at__lt=moment))).update(
        holder=holder, expires_at=until
    )
    if taken:
        return until
    if current is None:
        try:
            await JobLease.create(name=name, holder=holder, expires_at=until)
            return until
        except IntegrityError:  # another runner created it first
            return None
    return None


async def release_lease(name: str, holder: str) -> None:
    await JobLease.filter(name=name, holder=holder).update(expires_at=now())


# --- failures -------------------------------------------------------------------------------


async def record_failure(job: str, item_type: str, item_id: object, error: str, org_id: int | None = None) -> None:
    """Record that `job` set an item aside with `error`. One row per (job, item type, item id):
    a failure seen again counts an attempt and is open again if staff had closed it. Call it
    outside the item's transaction, so that the record outlives that transaction's rollback."""
    moment = now()
    key = {"job": job, "item_type": item_type, "item_id": str(item_id)[:64]}
    values = {
        "error": error[:ERROR_CHARS],
        "org_id": org_id,
        "last_seen_at": moment,
        "resolved_at": None,
        "resolved_by": "",
        "resolution": "",
    }
    if await JobFailure.filter(**key).update(attempts=F("attempts") + 1, **values):
        return
    try:
        await JobFailure.create(**key, **values, first_seen_at=moment)
    except IntegrityError:  # recorded by another runner meanwhile
        await JobFailure.filter(**key).update(attempts=F("attempts") + 1, **values)


Requeue = Callable[[str], Awaitable[bool]]
_requeues: dict[str, Requeue] = {}


def register_requeue(item_type: str, requeue: Requeue) -> None:
    """How staff's "retry" puts an item of this type back in its job's queue: `requeue(item_id)`
    answers False when the item is not set aside (any more). Domains call this at import."""
    _requeues[item_type] = requeue


async def _close(failure: JobFailure, actor: Actor, resolution: str, requeue: Requeue | None) -> JobFailure:
    async with in_transaction():
        # Conditional, so that two staff members (or a retry racing a resolve) close it once.
        closed = await JobFailure.filter(id=failure.id, resolved_at=None).update(
            resolved_at=now(), resolved_by=actor.name[:64], resolution=resolution
        )
        if not closed:
            raise Conflict("job.failure_closed", "该失败记录已处理", {"id": failure.id})
        if requeue is not None and not await requeue(failure.item_id):
            raise Conflict("job.item_not_failed", "该项已不在失败状态，无法重试", {"item_type": failure.item_type})
        await record(
            actor,
            f"job_failure.{'retry' if requeue else 'resolve'}",
            object_type="job_failure",
            object_id=failure.id,
            org_id=failure.org_id,
            before={"job": failure.job, "item_type": failure.item_type, "item_id": failure.item_id},
            after={"resolution": resolution},
        )
    await failure.refresh_from_db()
    return failure


async def retry_failure(scope: StaffScope, failure_id: int, actor: Actor) -> JobFailure:
    """Put the failed item back in its job's queue and close the record; if the item fails
    again, the job records it again and the record opens with one more attempt."""
    failure = await scope.get(JobFailure.all(), id=failure_id)
    requeue = _requeues.get(failure.item_type)
    if requeue is None:
        raise Conflict(
            "job.not_retryable", "此类失败不能重试：请排除原因后标记为已处理", {"item_type": failure.item_type}
        )
    return await _close(failure, actor, "retried", requeue)


async def resolve_failure(scope: StaffScope, failure_id: int, actor: Actor) -> JobFailure:
    """Close the record without retrying: staff dealt with the item otherwise."""
    return await _close(await scope.get(JobFailure.all(), id=failure_id), actor, "resolved", None)


# --- the runner -----------------------------------------------------------------------------


class Runner:
    """Runs registered jobs, each in a loop of its own, until `stop()`.

    row_locks: the database has row locks (PostgreSQL): jobs that are not exclusive run in
    every runner. Without (SQLite) each job runs under its lease in one runner at a time.
    """

    def __init__(self, name: str, *, row_locks: bool, shutdown_seconds: float) -> None:
        self.name = name
        self.row_locks = row_locks
        self.shutdown_seconds = shutdown_seconds
        self.jobs: dict[str, Job] = {}
        self._stopping = asyncio.Event()
        self._leases: dict[str, datetime] = {}

    def register(self, job: Job) -> None:
        if job.name in self.jobs:
            raise ValueError(f"job {job.name!r} is registered twice")
        self.jobs[job.name] = job

    def stop(self) -> None:
        """Start no more rounds; tell the jobs to stop claiming. Safe to call twice."""
        if self._stopping.is_set():
            return
        log.info("runner stopping", extra={"runner": self.name})
        self._stopping.set()
        for job in self.jobs.values():
            if job.on_stop is not None:
                job.on_stop()

    async def run(self, only: Iterable[str] | None = None) -> bool:
        """Run the jobs (those named in `only`, or all) until `stop()`, then drain. False when
        rounds still running at the shutdown bound had to be cancelled."""
        chosen = [self.jobs[name] for name in only] if only else list(self.jobs.values())
        log.info("runner started", extra={"runner": self.name, "jobs": [job.name for job in chosen]})
        loops = [asyncio.create_task(self._loop(job), name=f"job:{job.name}") for job in chosen]
        await self._stopping.wait()
        _, late = await asyncio.wait(loops, timeout=self.shutdown_seconds)
        for loop in late:
            loop.cancel()
        if late:
            log.warning(
                "rounds cancelled at the shutdown bound; their claims lapse with their leases",
                extra={"runner": self.name, "jobs": [loop.get_name() for loop in late]},
            )
        await asyncio.gather(*loops, return_exceptions=True)
        for name in list(self._leases):
            with contextlib.suppress(Exception):
                await release_lease(name, self.name)
        log.info("runner stopped", extra={"runner": self.name})
        return not late

    async def _loop(self, job: Job) -> None:
        round_failed = False
        while not self._stopping.is_set():
            more = False
            try:
                if await self._may_run(job):
                    more, round_failed = await self._round(job, round_failed)
            except Exception:  # the lease itself failed: the database is away
                log.exception("job lease failed", extra={"runner": self.name, "job": job.name})
            if not more:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), job.every)

    async def _round(self, job: Job, round_failed: bool) -> tuple[bool, bool]:
        """One round under the job's timeout, its lease renewed meanwhile; (more work, failed)."""
        keeper = asyncio.create_task(self._keep_lease(job)) if self._exclusive(job) else None
        try:
            more = bool(await asyncio.wait_for(job.run(), job.timeout))
        except TimeoutError:
            log.error("job round timed out", extra={"runner": self.name, "job": job.name, "timeout": job.timeout})
            await self._record_round(job, f"round timed out after {job.timeout:g} s (runner {self.name})")
            return False, True
        except Exception as exc:
            log.exception("job round failed", extra={"runner": self.name, "job": job.name})
            await self._record_round(job, f"{type(exc).__name__}: {exc} (runner {self.name})")
            return False, True
        finally:
            if keeper is not None:
                keeper.cancel()
        if round_failed:
            await JobFailure.filter(job=job.name, item_type=ROUND, item_id="", resolved_at=None).update(
                resolved_at=now(), resolved_by=self.name[:64], resolution="recovered"
            )
        return more, False

    async def _record_round(self, job: Job, error: str) -> None:
        try:
            await record_failure(job.name, ROUND, "", error)
        except Exception:  # most likely the same outage that failed the round; the log has it
            log.exception("could not record the failed round", extra={"runner": self.name, "job": job.name})

    def _exclusive(self, job: Job) -> bool:
        return job.exclusive or not self.row_locks

    async def _may_run(self, job: Job) -> bool:
        if not self._exclusive(job):
            return True
        held = self._leases.get(job.name)
        # Renew only once a third of the lease has passed: a write per round would contend for
        # SQLite's one write lock with the server for nothing.
        if held is not None and held - now() > timedelta(seconds=job.lease * 2 / 3):
            return True
        until = await take_lease(job.name, self.name, job.lease)
        if until is None:
            self._leases.pop(job.name, None)
            return False
        self._leases[job.name] = until
        return True

    async def _keep_lease(self, job: Job) -> None:
        """Renew the job's lease while a long round runs, so that no other runner starts it."""
        while True:
            await asyncio.sleep(job.lease / 3)
            try:
                until = await take_lease(job.name, self.name, job.lease)
            except Exception:
                log.exception("job lease renewal failed", extra={"runner": self.name, "job": job.name})
                continue
            if until is None:
                log.error("job lease lost during a round", extra={"runner": self.name, "job": job.name})
                self._leases.pop(job.name, None)
                return
            self._leases[job.name] = until
