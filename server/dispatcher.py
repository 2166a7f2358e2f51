"""The notification dispatcher: a process of its own (`python -m server dispatch`).

It claims due deliveries in batches, sends each through the WeChat gateway and records the
outcome, so that every delivery ends delivered, skipped (why) or failed (why).

Claiming (see docs/RELIABILITY.md):
- PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` inside the claiming transaction, which marks
  the rows `sending` with this dispatcher's name and a lease; any number of dispatchers on any
  number of machines take disjoint batches.
- SQLite has no row locks: one dispatcher at a time holds the `DispatcherLease` row and
  dispatches; others wait for it to lapse.
A delivery whose lease ran out while `sending` (its dispatcher died mid-send) is claimed again:
at worst a duplicate of what the dead dispatcher had in hand, never a loss. On SIGTERM the
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
from dataclasses import dataclass
from datetime import timedelta

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models.membership import Membership, MembershipStatus
from models.notifications import (
    Broadcast,
    BroadcastStatus,
    Channel,
    DeliveryStatus,
    DispatcherLease,
    Notification,
    NotificationDelivery,
    OfficialAccountFollower,
    Outcome,
    classify,
    official_account_openid,
    refund_consent,
    spend_consent,
)
from models.orgs import Org, in_subtree
from server.clock import now
from server.settings import Settings
from server.shared_state import SharedState
from server.wechat.gateway import WeChatCallFailed, WeChatGateway
from server.wechat.templates import TemplateBook, parse_templates

log = logging.getLogger("gonghui.dispatcher")

BROADCAST_BATCH = 500


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    errcode: int | None = None
    error: str = ""
    msgid: str = ""


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
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._row_locks = not settings.uses_sqlite
        self._stopping = asyncio.Event()
        self._semaphore = asyncio.Semaphore(settings.dispatcher_concurrency)

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        await self.miniprogram.close()
        await self.official.close()

    async def run(self) -> None:
        log.info("dispatcher started", extra={"dispatcher": self.name, "row_locks": self._row_locks})
        while not self._stopping.is_set():
            try:
                worked = await self.tick()
            except Exception:
                log.exception("dispatch round failed", extra={"dispatcher": self.name})
                worked = False
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.settings.dispatcher_poll_seconds)
        await self._release_lease()
        log.info("dispatcher stopped", extra={"dispatcher": self.name})

    async def tick(self) -> bool:
        """One round: expand broadcasts, claim a batch, send it. True when there was work."""
        if not self._row_locks and not await self._hold_lease():
            return False
        expanded = await self.expand_broadcasts()
        claimed = await self.claim()
        if not claimed:
            return expanded
        pending = [asyncio.create_task(self._send_one(delivery_id)) for delivery_id in claimed]
        await asyncio.gather(*pending)
        return True

    # --- claiming -----------------------------------------------------------------------------

    def _due(self) -> Q:
        moment = now()
        return Q(status=DeliveryStatus.PENDING, due_at__lte=moment) | Q(
            status=DeliveryStatus.SENDING, lease_expires_at__lt=moment
        )

    async def claim(self) -> list[int]:
        lease_until = now() + timedelta(seconds=self.settings.dispatcher_lease_seconds)
        async with in_transaction():
            query = (
                NotificationDelivery.filter(self._due())
                .order_by("due_at", "id")
                .limit(self.settings.dispatcher_batch_size)
            )
            if self._row_locks:
                query = query.select_for_update(skip_locked=True)
            # Whole rows, not values_list: Tortoise 1.1.9 drops FOR UPDATE from values queries.
            ids = [delivery.id for delivery in await query]
            if ids:
                await NotificationDelivery.filter(id__in=ids).update(
                    status=DeliveryStatus.SENDING,
                    claimed_by=self.name,
                    lease_expires_at=lease_until,
                    attempts=F("attempts") + 1,
                )
        return list(ids)

    async def _hold_lease(self) -> bool:
        moment = now()
        until = moment + timedelta(seconds=self.settings.dispatcher_lease_seconds)
        taken = await DispatcherLease.filter(
            Q(name="notifications") & (Q(holder=self.name) | Q(expires_at__lt=moment))
        ).update(holder=self.name, expires_at=until)
        if taken:
            return True
        if not await DispatcherLease.exists(name="notifications"):
            try:
                await DispatcherLease.create(name="notifications", holder=self.name, expires_at=until)
                return True
            except Exception:
                return False
        return False

    async def _release_lease(self) -> None:
        if not self._row_locks:
            await DispatcherLease.filter(name="notifications", holder=self.name).update(expires_at=now())

    # --- sending ------------------------------------------------------------------------------

    async def _send_one(self, delivery_id: int) -> None:
        async with self._semaphore:
            if self._stopping.is_set():
                await self._release(delivery_id)
                return
            # A batch waits its turn behind the semaphore and the send cap; renew the claim, and
            # give up the delivery if the lease lapsed meanwhile and another dispatcher has it.
            renewed = await NotificationDelivery.filter(
                id=delivery_id, claimed_by=self.name, status=DeliveryStatus.SENDING
            ).update(lease_expires_at=now() + timedelta(seconds=self.settings.dispatcher_lease_seconds))
            if not renewed:
                return
            delivery = await NotificationDelivery.get(id=delivery_id).prefetch_related("notification__user")
            try:
                result = await self._attempt(delivery)
            except ValueError as exc:  # a value WeChat's field rules cannot take: retrying will not help
                result = Result(Outcome.FAIL, None, f"bad_value: {exc}")
            except Exception as exc:
                log.exception("delivery crashed", extra={"delivery_id": delivery_id})
                result = Result(Outcome.RETRY, None, f"internal: {type(exc).__name__}")
            await self._record(delivery, result)

    async def _attempt(self, delivery: NotificationDelivery) -> Result:
        notification: Notification = delivery.notification
        user = notification.user
        templates = self.templates.for_event(notification.event)
        if delivery.channel == Channel.SUBSCRIBE:
            spec = templates.subscribe if templates else None
            if spec is None:
                return Result(Outcome.SKIP, None, "no_template: 该事件未配置订阅消息模板")
            delivery.template_id = spec.template_id
            data = self.templates.subscribe_data(spec, notification.values)
            if not delivery.consent_spent:
                async with in_transaction():
                    if not await spend_consent(user.id, spec.template_id):
                        return Result(Outcome.SKIP, None, "no_consent: 用户未授权该订阅消息或次数已用完")
                    await NotificationDelivery.filter(id=delivery.id).update(consent_spent=True)
                delivery.consent_spent = True
            result = await self._call(
                lambda: self.miniprogram.send_subscribe_message(
                    user.openid, spec.template_id, data, notification.page, self.settings.miniprogram_state
                )
            )
            if result.outcome in (Outcome.RETRY, Outcome.FAIL):
                await refund_consent(user.id, spec.template_id)
                delivery.consent_spent = False
            return result
        spec = templates.official if templates else None
        if spec is None:
            return Result(Outcome.SKIP, None, "no_template: 该事件未配置公众号模板消息")
        delivery.template_id = spec.template_id
        oa_openid = await official_account_openid(user.unionid)
        if oa_openid is None:
            return Result(Outcome.SKIP, None, "not_following: 用户未关注公众号")
        data = self.templates.official_data(spec, notification.values)
        return await self._call(
            lambda: self.official.send_template_message(
                oa_openid, spec.template_id, data, self.settings.wechat_miniprogram_appid, notification.page
            )
        )

    async def _call(self, send) -> Result:  # type: ignore[no-untyped-def]
        await self._rate_gate()
        try:
            answer = await send()
        except WeChatCallFailed as exc:
            return Result(classify(exc.errcode), exc.errcode, exc.errmsg[:255])
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

    async def _record(self, delivery: NotificationDelivery, result: Result) -> None:
        moment = now()
        values: dict[str, object] = {
            "template_id": delivery.template_id,
            "consent_spent": delivery.consent_spent,
            "last_errcode": result.errcode,
            "last_error": result.error[:255],
            "claimed_by": "",
            "lease_expires_at": None,
        }
        outcome = result.outcome
        if outcome == Outcome.RETRY and delivery.attempts >= self.settings.dispatcher_max_attempts:
            outcome = Outcome.FAIL
            values["last_error"] = f"gave up after {delivery.attempts} attempts: {result.error}"[:255]
        if outcome == Outcome.DELIVERED:
            values.update(status=DeliveryStatus.DELIVERED, msgid=result.msgid, finished_at=moment)
        elif outcome == Outcome.SKIP:
            values.update(status=DeliveryStatus.SKIPPED, finished_at=moment)
        elif outcome == Outcome.FAIL:
            values.update(status=DeliveryStatus.FAILED, finished_at=moment)
        else:
            values.update(
                status=DeliveryStatus.PENDING, due_at=moment + timedelta(seconds=self._backoff(delivery.attempts))
            )
        # Only while the claim is still ours: a lease that lapsed may have passed to another dispatcher.
        await NotificationDelivery.filter(id=delivery.id, claimed_by=self.name, status=DeliveryStatus.SENDING).update(
            **values
        )
        log.info(
            "delivery",
            extra={
                "delivery_id": delivery.id,
                "outcome": outcome.value,
                "errcode": result.errcode,
                "attempt": delivery.attempts,
            },
        )

    async def _release(self, delivery_id: int) -> None:
        await NotificationDelivery.filter(id=delivery_id, claimed_by=self.name, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING, claimed_by="", lease_expires_at=None, attempts=F("attempts") - 1
        )

    # --- broadcasts ---------------------------------------------------------------------------

    async def expand_broadcasts(self) -> bool:
        """Fan one batch of each open broadcast out into notifications, from its stored cursor."""
        worked = False
        for broadcast_id in await Broadcast.filter(
            status__in=[BroadcastStatus.QUEUED, BroadcastStatus.EXPANDING]
        ).values_list("id", flat=True):
            async with in_transaction():
                query = Broadcast.filter(
                    id=broadcast_id, status__in=[BroadcastStatus.QUEUED, BroadcastStatus.EXPANDING]
                )
                if self._row_locks:
                    query = query.select_for_update(skip_locked=True)
                broadcast = await query.first()
                if broadcast is None:
                    continue
                await self._expand_batch(broadcast)
                worked = True
        return worked

    async def _expand_batch(self, broadcast: Broadcast) -> None:
        members = in_subtree(
            Membership.filter(status=MembershipStatus.ACTIVE, id__gt=broadcast.cursor), broadcast.org_id
        )
        if broadcast.gig_only:
            members = members.filter(is_gig_worker=True)
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
            broadcast.status = BroadcastStatus.SENT
            broadcast.expanded_at = now()
        else:
            broadcast.status = BroadcastStatus.EXPANDING
        await broadcast.save()


def build_dispatcher(settings: Settings, state: SharedState, name: str | None = None) -> Dispatcher:
    def gateway(appid: str, secret: str) -> WeChatGateway:
        return WeChatGateway(
            appid=appid,
            secret=secret,
            api_base_url=settings.wechat_api_base_url,
            state=state,
            timeout=settings.wechat_timeout_seconds,
            threads=settings.dispatcher_concurrency,
        )

    return Dispatcher(
        settings,
        gateway(settings.wechat_miniprogram_appid, settings.wechat_miniprogram_secret),
        gateway(settings.wechat_official_appid, settings.wechat_official_secret),
        state,
        TemplateBook(parse_templates(settings.notification_templates)),
        name,
    )
