"""The notification dispatcher: two background jobs (`python -m server jobs`, see server/jobs.py).

`notifications` claims due deliveries as its slots free up (at most DISPATCHER_CONCURRENCY held),
sends each through the WeChat gateway and records the outcome as the send ends, so that every
delivery ends delivered, skipped (why) or failed (why).
`broadcasts` fans queued broadcasts out into notifications, a batch per round.

Claiming (see docs/RELIABILITY.md):
- PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` inside the claiming transaction, which marks
  the rows `sending` with this dispatcher's name and a lease; any number of dispatchers on any
  number of machines take disjoint claims.
- SQLite has no row locks: the job runner runs each job in one runner at a time (its job lease).
A delivery whose lease ran out while `sending` (its dispatcher died mid-send) is claimed again:
at worst a duplicate of the sends the dead dispatcher had in flight, never a loss. On PostgreSQL
(not through PgBouncer) a dispatcher that died is also seen at once, without waiting for its
leases: its database sessions, named after it, are gone (`dead_claimants`). On SIGTERM the
dispatcher stops claiming, finishes what it is sending and releases what it had not started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from tortoise.expressions import F
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.errors import NotFound
from models.kernel.jobs import record_failure
from models.kernel.machine import Step, advance, transition
from models.notifications.broadcasts import BROADCAST_GONE, BROADCAST_JOB, BROADCAST_MACHINE, audience
from models.notifications.delivery import Outcome, classify, settle
from models.notifications.tables import (
    OPEN_BROADCAST,
    Broadcast,
    BroadcastStatus,
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    OfficialAccountFollower,
    SubscriptionBalance,
)
from models.orgs import Org
from models.prepared import Prepared
from server.clock import now
from server.settings import Settings
from server.shared_state import SharedState
from server.wechat.gateway import WeChatCallFailed, WeChatGateway
from server.wechat.templates import TemplateBook, parse_templates

log = logging.getLogger("gonghui.dispatcher")

M = TypeVar("M", bound=Model)

BROADCAST_BATCH = 500
# The longest a pipeline round runs before it drains and the runner starts the next one.
ROUND_SECONDS = 30.0
# How often a dispatcher looks for claims whose dispatcher died (their lease ran out while sending).
LAPSED_LOOK_SECONDS = 1.0
# A retry this dispatcher scheduled is looked for this long after it falls due (clock slack).
RETRY_WAKE_SLACK_SECONDS = 0.005


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    errcode: int | None = None
    error: str = ""
    msgid: str = ""


@dataclass
class Plan:
    """One claimed delivery on its way: what to send, and how it ended."""

    delivery: NotificationDelivery
    data: dict[str, Any] = field(default_factory=dict)
    openid: str | None = None
    needs_consent: bool = False
    result: Result | None = None
    released: bool = False


async def _adjust_balances(template_id: str, per_user: dict[int, int], sign: int) -> None:
    """Change the consent balances of several users at once, one UPDATE per distinct amount."""
    by_amount: dict[int, list[int]] = {}
    for user_id, amount in per_user.items():
        by_amount.setdefault(amount, []).append(user_id)
    for amount, user_ids in by_amount.items():
        await _ADD_TO_BALANCES(user_ids, template_id, sign * amount)


def _locking(query: QuerySet[M], row_locks: bool, skip_locked: bool = False) -> QuerySet[M]:
    return query.select_for_update(skip_locked=skip_locked) if row_locks else query


# The dispatcher's statements, each written once (models/prepared.py): a claim and an outcome
# otherwise cost more CPU to build than the send they are for. The claims read whole rows, not
# values_list: Tortoise 1.1.9 drops FOR UPDATE from values queries.
def _claimable(
    query: QuerySet[NotificationDelivery], field: str, limit: int, row_locks: bool
) -> QuerySet[NotificationDelivery]:
    """The first `limit` of `query` by `field`, then id, skipping those another claim has locked."""
    return _locking(query.order_by(field, "id").limit(limit), row_locks, skip_locked=True)


def _oldest_first(status: DeliveryStatus, passed: str, **only: Any) -> Prepared[list[NotificationDelivery]]:
    """Deliveries in `status` (and `only`) whose time `passed` (`field__lt` or `field__lte`) is
    before the moment, oldest first."""
    field = passed.split("__")[0]
    return Prepared(
        lambda moment, limit, row_locks: _claimable(
            NotificationDelivery.filter(status=status, **only, **{passed: moment}), field, limit, row_locks
        )
    )


_LAPSED = _oldest_first(DeliveryStatus.SENDING, "lease_expires_at__lt")
_DUE_RETRIES = _oldest_first(DeliveryStatus.PENDING, "due_at__lte", attempts__gt=0)
_DUE_FIRST_TRIES = _oldest_first(DeliveryStatus.PENDING, "due_at__lte", attempts=0)


_ORPHANED: Prepared[list[NotificationDelivery]] = Prepared(
    lambda names, limit, row_locks: _claimable(
        NotificationDelivery.filter(status=DeliveryStatus.SENDING, claimed_by__in=names),
        "lease_expires_at",
        limit,
        row_locks,
    )
)
SESSION_PREFIX = "gonghui-dispatcher:"
# PostgreSQL keeps the first 63 bytes of an application_name; a longer name is never judged by
# its sessions (it could not be told from another), only by its leases.
_LONGEST_SESSION_NAME = 63
# Clocks of the dispatchers and of PostgreSQL may differ by this much.
_CLOCK_SKEW_SECONDS = 5
_DEAD_CLAIMANTS = """
SELECT DISTINCT claimed_by FROM notification_deliveries
WHERE status = $1::text AND claimed_by <> $2::text
  AND octet_length($3::text || claimed_by) <= $4::int
  AND lease_expires_at > pg_postmaster_start_time() + make_interval(secs => $5::float8)
  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = $3::text || claimed_by)
"""


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def session_name(dispatcher_name: str) -> str:
    """The application_name of a dispatcher's database sessions (`python -m server jobs`)."""
    return SESSION_PREFIX + dispatcher_name


async def dead_claimants(own_name: str, lease_seconds: float) -> list[str]:
    """Dispatchers holding claims whose database sessions are all gone, on PostgreSQL: killed, or
    cut off from the database, rather than slow (a slow one keeps its sessions, and renews its
    leases). Only claims renewed since PostgreSQL last started count: after a restart every
    dispatcher has lost its sessions and reconnects in its own time, so until then its leases are
    what tells."""
    rows = await NotificationDelivery._meta.db.execute_query_dict(
        _DEAD_CLAIMANTS,
        [
            DeliveryStatus.SENDING.value,
            own_name,
            SESSION_PREFIX,
            _LONGEST_SESSION_NAME,
            float(lease_seconds + _CLOCK_SKEW_SECONDS),
        ],
    )
    return [row["claimed_by"] for row in rows]


async def due_in_claim_order(moment: datetime, limit: int, row_locks: bool) -> list[int]:
    """Up to `limit` pending deliveries due at `moment`, in the order a claim takes them: retries
    before first tries, each oldest due first. A retry is due after its backoff, so by due time
    alone it would wait behind the whole backlog of a broadcast or a burst that was due before it,
    and each further failure of the same message behind the backlog again; its message is the
    older one. Two statements, each reading its own range of the claim index."""
    ids = [delivery.id for delivery in await _DUE_RETRIES(moment, limit, row_locks)]
    if len(ids) < limit:
        ids += [delivery.id for delivery in await _DUE_FIRST_TRIES(moment, limit - len(ids), row_locks)]
    return ids


_TAKE: Prepared[int] = Prepared(
    lambda ids, name, lease_until: NotificationDelivery.filter(id__in=ids).update(
        status=DeliveryStatus.SENDING, claimed_by=name, lease_expires_at=lease_until, attempts=F("attempts") + 1
    )
)
_CLAIMED: Prepared[list[NotificationDelivery]] = Prepared(
    lambda ids, name: NotificationDelivery.filter(
        id__in=ids, claimed_by=name, status=DeliveryStatus.SENDING
    ).select_related("notification__user")
)
_BALANCES: Prepared[list[SubscriptionBalance]] = Prepared(
    lambda user_ids, template_id, row_locks: _locking(
        SubscriptionBalance.filter(user_id__in=user_ids, template_id=template_id, balance__gt=0), row_locks
    )
)
_ADD_TO_BALANCES: Prepared[int] = Prepared(
    lambda user_ids, template_id, amount: SubscriptionBalance.filter(
        user_id__in=user_ids, template_id=template_id
    ).update(balance=F("balance") + amount)
)
_SPEND: Prepared[int] = Prepared(lambda ids: NotificationDelivery.filter(id__in=ids).update(consent_spent=True))


class _Settlement(NamedTuple):
    """An outcome as `_SETTLE` writes it, in its order: every column, those the outcome leaves
    alone at their value, so that every outcome is one prepared statement."""

    delivery_id: int
    name: str
    status: DeliveryStatus
    template_id: str
    consent_spent: bool
    errcode: int | None
    error: str
    msgid: str
    finished_at: datetime | None
    due_at: datetime


_SETTLE: Prepared[int] = Prepared(
    lambda delivery_id, name, status, template_id, consent_spent, errcode, error, msgid, finished_at, due_at: (
        NotificationDelivery.filter(id=delivery_id, claimed_by=name, status=DeliveryStatus.SENDING).update(
            status=status,
            template_id=template_id,
            consent_spent=consent_spent,
            last_errcode=errcode,
            last_error=error,
            msgid=msgid,
            finished_at=finished_at,
            due_at=due_at,
            claimed_by="",
            lease_expires_at=None,
        )
    )
)
_RELEASE: Prepared[int] = Prepared(
    lambda ids, name: NotificationDelivery.filter(id__in=ids, claimed_by=name, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING, claimed_by="", lease_expires_at=None, attempts=F("attempts") - 1
    )
)
_RECORDED_AS = {
    Outcome.DELIVERED: DeliveryStatus.DELIVERED,
    Outcome.SKIP: DeliveryStatus.SKIPPED,
    Outcome.FAIL: DeliveryStatus.FAILED,
    Outcome.RETRY: DeliveryStatus.PENDING,
}


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        miniprogram: WeChatGateway,
        official: WeChatGateway,
        state: SharedState,
        templates: TemplateBook,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.miniprogram = miniprogram
        self.official = official
        self.state = state
        self.templates = templates
        self.name = name or default_name()
        self._row_locks = not settings.uses_sqlite
        # Through PgBouncer a server session is any client's, so sessions tell nothing there.
        self._sessions_tell_liveness = not settings.uses_sqlite and not settings.pgbouncer
        self._stopping = asyncio.Event()
        self._lapsed_looked_at = -LAPSED_LOOK_SECONDS

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        await self.miniprogram.close()
        await self.official.close()

    async def deliver(self) -> bool:
        """One round of the `notifications` job: a pipeline of at most DISPATCHER_CONCURRENCY
        deliveries held at once. Deliveries are claimed as slots free up, sent at once, and each
        outcome written as soon as its send ends (outcomes ending together share one transaction);
        only then is its slot free again. So a dispatcher never holds more than its concurrency
        (what a SIGKILL can make another dispatcher send again), and one slow send holds up only
        its own slot. True when it had work (there may be more)."""
        if self._stopping.is_set():
            return False
        held: dict[int, Plan] = {}
        ended: list[Plan] = []
        wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        # A round ends now and then, so that the runner's round timeout bounds a healthy one.
        closes_at = loop.time() + min(ROUND_SECONDS, self.settings.job_round_timeout_seconds / 3)
        next_claim = 0.0
        # When the earliest retry this round scheduled falls due: claimed then, not at the next poll.
        retry_due = float("inf")
        worked = False
        sends: set[asyncio.Task[None]] = set()

        async def run(plan: Plan) -> None:
            try:
                await self._rate_gate()
                if self._stopping.is_set():
                    plan.released = True
                else:
                    plan.result = await self._send(plan)
            finally:
                ended.append(plan)
                wake.set()

        keeper = asyncio.create_task(self._keep_lease(held))
        self._lapsed_looked_at = -LAPSED_LOOK_SECONDS  # a new round looks for lapsed claims at once
        try:
            while True:
                wake.clear()
                finished = ended.copy()
                ended.clear()
                free = self.settings.dispatcher_concurrency - len(held)
                open_for_claims = not self._stopping.is_set() and loop.time() < closes_at
                # Claim when a quarter of the slots are free, not at each one: a claim costs ten
                # round trips whether it takes one delivery or eight.
                enough = free >= max(1, self.settings.dispatcher_concurrency // 4) or (free > 0 and not held)
                claiming = open_for_claims and enough and loop.time() >= next_claim
                if finished:
                    retry_in = await self._record(finished)
                    if retry_in is not None:
                        retry_due = min(retry_due, loop.time() + retry_in + RETRY_WAKE_SLACK_SECONDS)
                        next_claim = min(next_claim, retry_due)
                if claiming and loop.time() >= retry_due:
                    retry_due = float("inf")  # this claim looks for it
                claimed = await self._claim(min(free, self.settings.dispatcher_batch_size)) if claiming else []
                for plan in finished:
                    held.pop(plan.delivery.id, None)
                if claiming and not claimed:
                    # Nothing due: look again after the poll interval, when a send ends, or when a
                    # retry of ours falls due, whichever comes first.
                    next_claim = min(loop.time() + self.settings.dispatcher_poll_seconds, retry_due)
                for plan in claimed:
                    worked = True
                    held[plan.delivery.id] = plan
                    if plan.result is None:
                        task = asyncio.create_task(run(plan))
                        sends.add(task)
                        task.add_done_callback(sends.discard)
                    else:  # settled while preparing (no consent, no template): only recorded
                        ended.append(plan)
                if finished or claiming:
                    continue
                # With nothing held the round ends and the runner waits a poll interval, unless a
                # retry of ours falls due sooner.
                if not held and (
                    not open_for_claims or retry_due - loop.time() >= self.settings.dispatcher_poll_seconds
                ):
                    return worked
                if not ended:
                    waiting = next_claim - loop.time() if open_for_claims and enough else None
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), max(waiting, 0.001) if waiting is not None else None)
        except (asyncio.CancelledError, Exception):
            # Cancelled at the shutdown bound or the round timeout, or the database failed: give
            # back at once what this dispatcher holds rather than leave it until the leases lapse
            # (if the database is away, they lapse). A send in flight may have reached WeChat, so
            # it keeps its attempt: at worst one duplicate each, as after a kill.
            for task in sends:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.shield(self._give_back(list(held)))
            raise
        finally:
            keeper.cancel()

    # --- claiming -----------------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[Plan]:
        """Mark up to `limit` due deliveries as ours for a lease, load what sending them needs and
        spend their consents, in one transaction. Lapsed claims, due retries and due first tries
        are separate queries rather than one with OR, so that each can walk its index; lapsed
        claims are rare and looked for at most every LAPSED_LOOK_SECONDS."""
        moment = now()
        loop_time = asyncio.get_running_loop().time()
        async with in_transaction():
            ids: list[int] = []
            if loop_time - self._lapsed_looked_at >= LAPSED_LOOK_SECONDS:
                ids += [delivery.id for delivery in await _LAPSED(moment, limit, self._row_locks)]
                dead = await self._dead_claimants() if len(ids) < limit else []
                if dead:
                    taken = set(ids)
                    orphans = await _ORPHANED(dead, limit - len(ids), self._row_locks)
                    ids += [delivery.id for delivery in orphans if delivery.id not in taken]
                    log.warning("claims of dead dispatchers taken over", extra={"dead": dead, "taken": len(orphans)})
                if len(ids) < limit:  # else there may be more than fitted: look again at the next claim
                    self._lapsed_looked_at = loop_time
            if len(ids) < limit:
                ids += await due_in_claim_order(moment, limit - len(ids), self._row_locks)
            if not ids:
                return []
            lease_until = moment + timedelta(seconds=self.settings.dispatcher_lease_seconds)
            await _TAKE(ids, self.name, lease_until)
            planned = await self._plan(await _CLAIMED(ids, self.name))
            await self._spend_consents([plan for plan in planned if plan.needs_consent])
        return planned

    async def _give_back(self, ids: list[int]) -> None:
        if ids:
            await NotificationDelivery.filter(id__in=ids, claimed_by=self.name, status=DeliveryStatus.SENDING).update(
                status=DeliveryStatus.PENDING, claimed_by="", lease_expires_at=None, due_at=now()
            )

    # --- sending ------------------------------------------------------------------------------

    async def _dead_claimants(self) -> list[str]:
        if not self._sessions_tell_liveness:
            return []
        return await dead_claimants(self.name, self.settings.dispatcher_lease_seconds)

    async def _keep_lease(self, held: dict[int, Plan]) -> None:
        """Renew the lease of what is held while it is being sent, so that a send held up by a
        slow WeChat is not taken over (and sent a second time) by another dispatcher."""
        lease = self.settings.dispatcher_lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            if not held:
                continue
            try:
                await NotificationDelivery.filter(
                    id__in=list(held), claimed_by=self.name, status=DeliveryStatus.SENDING
                ).update(lease_expires_at=now() + timedelta(seconds=lease))
            except Exception:  # the database is away: try again; if it stays away the leases lapse
                log.exception("lease renewal failed", extra={"dispatcher": self.name})

    async def _plan(self, deliveries: list[NotificationDelivery]) -> list[Plan]:
        unionids = {
            d.notification.user.unionid
            for d in deliveries
            if d.channel == Channel.TEMPLATE and d.notification.user.unionid
        }
        followers = (
            dict(
                await OfficialAccountFollower.filter(unionid__in=list(unionids), following=True).values_list(
                    "unionid", "oa_openid"
                )
            )
            if unionids
            else {}
        )
        plans = []
        for delivery in deliveries:
            plan = Plan(delivery)
            plans.append(plan)
            try:
                self._fill_plan(plan, followers)
            except ValueError as exc:  # a value WeChat's field rules cannot take: retrying will not help
                plan.result = Result(Outcome.FAIL, None, f"bad_value: {exc}"[:255])
            except Exception as exc:
                # A delivery that cannot even be prepared is set aside, failed with its error, so
                # that it does not stop its batch every round; staff see it in the delivery log
                # and among the jobs' failures.
                log.exception("delivery set aside", extra={"delivery_id": delivery.id})
                error = f"internal: {type(exc).__name__}: {exc}"
                plan.result = Result(Outcome.FAIL, None, error[:255])
                await record_failure("notifications", "notification_delivery", delivery.id, error, delivery.org_id)
        return plans

    def _fill_plan(self, plan: Plan, followers: dict[str, str]) -> None:
        delivery = plan.delivery
        notification = delivery.notification
        templates = self.templates.for_event(notification.event)
        spec = (
            (templates.subscribe if delivery.channel == Channel.SUBSCRIBE else templates.official)
            if templates
            else None
        )
        if spec is None:
            plan.result = Result(Outcome.SKIP, None, "no_template: 该事件未配置模板")
            return
        delivery.template_id = spec.template_id
        if delivery.channel == Channel.SUBSCRIBE:
            plan.data = self.templates.subscribe_data(spec, notification.values)
            plan.needs_consent = not delivery.consent_spent
        else:
            plan.data = self.templates.official_data(spec, notification.values)
            plan.openid = followers.get(notification.user.unionid or "")
            if plan.openid is None:
                plan.result = Result(Outcome.SKIP, None, "not_following: 用户未关注公众号")

    async def _spend_consents(self, plans: list[Plan]) -> None:
        """One consent per subscribe delivery, taken in the claim's transaction; none left: skipped.
        The delivery records that it holds one, so a reclaim does not spend another."""
        by_template: dict[str, list[Plan]] = {}
        for plan in plans:
            by_template.setdefault(plan.delivery.template_id, []).append(plan)
        for template_id, group in by_template.items():
            user_ids = list({plan.delivery.notification.user_id for plan in group})
            left = {row.user_id: row.balance for row in await _BALANCES(user_ids, template_id, self._row_locks)}
            taken: dict[int, int] = {}
            for plan in group:
                user_id = plan.delivery.notification.user_id
                if left.get(user_id, 0) > taken.get(user_id, 0):
                    taken[user_id] = taken.get(user_id, 0) + 1
                    plan.delivery.consent_spent = True
                else:
                    plan.result = Result(Outcome.SKIP, None, "no_consent: 用户未授权该订阅消息或次数已用完")
            await _adjust_balances(template_id, taken, -1)
            spent = [plan.delivery.id for plan in group if plan.delivery.consent_spent]
            if spent:
                await _SPEND(spent)

    async def _send(self, plan: Plan) -> Result:
        delivery, notification = plan.delivery, plan.delivery.notification
        try:
            await self._rate_gate()
            if delivery.channel == Channel.SUBSCRIBE:
                answer = await self.miniprogram.send_subscribe_message(
                    notification.user.openid,
                    delivery.template_id,
                    plan.data,
                    notification.page,
                    self.settings.miniprogram_state,
                )
            else:
                assert plan.openid is not None
                answer = await self.official.send_template_message(
                    plan.openid,
                    delivery.template_id,
                    plan.data,
                    self.settings.wechat_miniprogram_appid,
                    notification.page,
                )
        except WeChatCallFailed as exc:
            return Result(classify(exc.errcode), exc.errcode, exc.errmsg[:255])
        except Exception as exc:
            log.exception("delivery crashed", extra={"delivery_id": delivery.id})
            return Result(Outcome.RETRY, None, f"internal: {type(exc).__name__}")
        return Result(Outcome.DELIVERED, 0, "", str(answer.get("msgid", "")))

    async def _rate_gate(self) -> None:
        """At most WECHAT_SENDS_PER_SECOND sends per second across every dispatcher."""
        cap = self.settings.wechat_sends_per_second
        if cap <= 0:
            return
        while True:
            second = int(time.time())
            if await self.state.incr(f"wechat-sends:{second}", ttl_seconds=2) <= cap:
                return
            await asyncio.sleep(max(0.001, second + 1 - time.time()))

    def _backoff(self, attempts: int) -> float:
        ceiling = min(
            self.settings.dispatcher_backoff_cap_seconds,
            self.settings.dispatcher_backoff_base_seconds * 2 ** max(0, attempts - 1),
        )
        return random.uniform(ceiling / 2, ceiling)

    def _settlement(self, plan: Plan, moment: datetime, gives_back: bool) -> _Settlement:
        delivery, result = plan.delivery, plan.result
        assert result is not None
        outcome = settle(result.outcome, delivery.attempts, self.settings.dispatcher_max_attempts)
        error = (
            result.error if outcome == result.outcome else f"gave up after {delivery.attempts} attempts: {result.error}"
        )
        retrying = outcome == Outcome.RETRY
        return _Settlement(
            delivery_id=delivery.id,
            name=self.name,
            status=_RECORDED_AS[outcome],
            template_id=delivery.template_id,
            consent_spent=delivery.consent_spent and not gives_back,
            errcode=result.errcode,
            error=error[:255],
            msgid=result.msgid if outcome == Outcome.DELIVERED else delivery.msgid,
            finished_at=None if retrying else moment,
            due_at=moment + timedelta(seconds=self._backoff(delivery.attempts)) if retrying else delivery.due_at,
        )

    async def _record(self, plans: list[Plan]) -> float | None:
        """Write the outcomes that ended together and give back the consents of sends that did not
        go out; only for deliveries still ours (a lapsed lease may have passed them to another
        dispatcher). The outcomes that give nothing back go in one round trip (executemany); one
        that gives a consent back is written alone, as its row count says whether it was ours.
        Seconds until the earliest retry scheduled here falls due; None when none was."""
        moment = now()
        released = [plan.delivery.id for plan in plans if plan.released]
        counts: dict[str, int] = {}
        plain: list[_Settlement] = []
        refunding: list[tuple[Plan, _Settlement]] = []
        for plan in plans:
            if plan.released or plan.result is None:
                continue
            gives_back = plan.delivery.consent_spent and plan.result.outcome in (Outcome.RETRY, Outcome.FAIL)
            settlement = self._settlement(plan, moment, gives_back)
            if gives_back:
                refunding.append((plan, settlement))
            else:
                plain.append(settlement)
            counts[settlement.status.value] = counts.get(settlement.status.value, 0) + 1
        # Consents go back with the outcome that gives them back; one commit for the rest.
        async with in_transaction() if refunding or released else contextlib.nullcontext():
            await _SETTLE.many(plain)
            refunds: dict[str, dict[int, int]] = {}
            for plan, settlement in refunding:
                if await _SETTLE(*settlement):
                    per_user = refunds.setdefault(plan.delivery.template_id, {})
                    user_id = plan.delivery.notification.user_id
                    per_user[user_id] = per_user.get(user_id, 0) + 1
            for template_id, per_user in refunds.items():
                await _adjust_balances(template_id, per_user, +1)
            if released:
                await _RELEASE(released, self.name)
        for plan, _ in refunding:
            plan.delivery.consent_spent = False
        log.debug("outcomes", extra={"dispatcher": self.name, "outcomes": counts, "released": len(released)})
        retries = [s.due_at for s in plain + [s for _, s in refunding] if s.status == DeliveryStatus.PENDING]
        return (min(retries) - moment).total_seconds() if retries else None

    # --- broadcasts ---------------------------------------------------------------------------

    async def expand_broadcasts(self) -> bool:
        """One round of the `broadcasts` job: fan one batch of each open broadcast out into
        notifications, from its stored cursor.
        A broadcast that fails is set aside with its error, so that it cannot hold up the others
        or the deliveries claimed after it."""
        worked = False
        open_statuses = list(OPEN_BROADCAST)
        for broadcast_id, org_id in await Broadcast.filter(status__in=open_statuses).values_list("id", "org_id"):
            try:
                async with in_transaction():
                    query = Broadcast.filter(id=broadcast_id, status__in=open_statuses)
                    if self._row_locks:
                        query = query.select_for_update(skip_locked=True)
                    broadcast = await query.first()
                    if broadcast is None:
                        continue
                    await self._expand_batch(broadcast)
            except Exception as exc:
                log.exception("broadcast set aside", extra={"broadcast_id": broadcast_id})
                error = f"{type(exc).__name__}: {exc}"
                await self._set_aside(broadcast_id, error)
                await record_failure("broadcasts", "broadcast", broadcast_id, error, org_id)
            worked = True
        return worked

    async def _set_aside(self, broadcast_id: int, error: str) -> None:
        async def keep_error(broadcast: Broadcast, step: Step) -> None:
            broadcast.error = error[:255]

        with contextlib.suppress(NotFound):  # finished or set aside meanwhile by another runner
            await transition(
                BROADCAST_MACHINE,
                Broadcast.filter(id=broadcast_id, status__in=list(OPEN_BROADCAST)),
                "fail",
                BROADCAST_JOB,
                not_found=BROADCAST_GONE,
                note=error[:500],
                effects=keep_error,
            )

    async def _expand_batch(self, broadcast: Broadcast) -> None:
        members = audience(broadcast.org_id, broadcast.gig_only).filter(id__gt=broadcast.cursor)
        batch = await members.order_by("id").limit(BROADCAST_BATCH).values("id", "user_id", "user__unionid")
        org = await Org.get(id=broadcast.org_id)
        already = set(
            await Notification.filter(
                broadcast_id=broadcast.id, user_id__in=[row["user_id"] for row in batch]
            ).values_list("user_id", flat=True)
        )
        fresh = list({row["user_id"]: row for row in batch if row["user_id"] not in already}.values())
        if fresh:
            await Notification.bulk_create(
                [
                    Notification(
                        user_id=row["user_id"],
                        event="broadcast.notice",
                        object_type="broadcast",
                        object_id=str(broadcast.id),
                        org_id=broadcast.org_id,
                        title=broadcast.title,
                        body=broadcast.body,
                        page=f"pages/inbox/index?broadcast={broadcast.id}",
                        broadcast_id=broadcast.id,
                        values={
                            "title": broadcast.title,
                            "org": org.name,
                            "note": broadcast.body,
                            "time": broadcast.created_at.isoformat(),
                        },
                    )
                    for row in fresh
                ]
            )
            user_ids = [row["user_id"] for row in fresh]
            created = await Notification.filter(broadcast_id=broadcast.id, user_id__in=user_ids).values_list(
                "id", "user_id"
            )
            unionids = {row["user__unionid"] for row in fresh if row["user__unionid"]}
            following = set(
                await OfficialAccountFollower.filter(unionid__in=list(unionids), following=True).values_list(
                    "unionid", flat=True
                )
            )
            followers = {row["user_id"] for row in fresh if row["user__unionid"] in following}
            due = now()
            deliveries = []
            for notification_id, user_id in created:
                deliveries.append(
                    NotificationDelivery(
                        notification_id=notification_id, channel=Channel.SUBSCRIBE, due_at=due, org_id=broadcast.org_id
                    )
                )
                if user_id in followers:
                    deliveries.append(
                        NotificationDelivery(
                            notification_id=notification_id,
                            channel=Channel.TEMPLATE,
                            due_at=due,
                            org_id=broadcast.org_id,
                        )
                    )
            await NotificationDelivery.bulk_create(deliveries)
            broadcast.recipients += len(fresh)
        if batch:
            broadcast.cursor = batch[-1]["id"]
        if len(batch) < BROADCAST_BATCH:
            broadcast.expanded_at = now()
            await advance(BROADCAST_MACHINE, broadcast, "finish", BROADCAST_JOB)
        elif broadcast.status == BroadcastStatus.QUEUED:
            await advance(BROADCAST_MACHINE, broadcast, "expand", BROADCAST_JOB)
        else:  # one more batch of a broadcast already expanding: progress, not a step of its history
            await broadcast.save()


def build_dispatcher(settings: Settings, state: SharedState, name: str | None = None) -> Dispatcher:
    def gateway(appid: str, secret: str) -> WeChatGateway:
        return WeChatGateway(
            appid=appid,
            secret=secret,
            api_base_url=settings.wechat_api_base_url,
            state=state,
            timeout=settings.wechat_timeout_seconds,
            connections=settings.dispatcher_concurrency,
        )

    return Dispatcher(
        settings,
        gateway(settings.wechat_miniprogram_appid, settings.wechat_miniprogram_secret),
        gateway(settings.wechat_official_appid, settings.wechat_official_secret),
        state,
        TemplateBook(parse_templates(settings.notification_templates)),
        name,
    )
