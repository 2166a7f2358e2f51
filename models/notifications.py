"""Notifications: the transactional outbox, the in-app inbox and the delivery log.

Domain code calls `notify` inside the transaction of the state change it reports: the inbox
entry and one pending delivery per channel are written with that change, or not at all. The
dispatcher (`server/dispatcher.py`) later claims pending deliveries and sends them through the
WeChat gateway; every delivery ends delivered, skipped (why) or failed (why).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.expressions import F
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.accounts import User
from models.audit import Actor, record
from models.errors import Conflict, Invalid, NotFound
from models.kernel.jobs import register_requeue
from models.kernel.machine import NEW, StateMachine, Step, begin, move, transition
from models.scope import StaffScope
from server.clock import now


class Channel(StrEnum):
    SUBSCRIBE = "subscribe"  # the mini-program's one-time subscribe message
    TEMPLATE = "template"  # the official account's template message


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    SKIPPED = "skipped"
    FAILED = "failed"


DELIVERY_STATUS_LABELS = {
    DeliveryStatus.PENDING: "待发送",
    DeliveryStatus.SENDING: "发送中",
    DeliveryStatus.DELIVERED: "已送达",
    DeliveryStatus.SKIPPED: "未发送",
    DeliveryStatus.FAILED: "发送失败",
}


class Notification(Model):
    """One thing that happened to a worker: their inbox entry, whatever WeChat does with it."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.CASCADE
    )
    event = fields.CharField(max_length=48, db_index=True)
    object_type = fields.CharField(max_length=32)
    object_id = fields.CharField(max_length=64)
    org_id = fields.BigIntField(null=True, db_index=True)
    title = fields.CharField(max_length=64)
    body = fields.TextField()
    values: dict[str, Any] = fields.JSONField(default=dict)  # type: ignore[assignment]
    page = fields.CharField(max_length=256, default="")
    broadcast_id = fields.BigIntField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    read_at = fields.DatetimeField(null=True)

    user_id: int

    class Meta:
        table = "notifications"
        indexes = (("user_id", "read_at"),)


class NotificationDelivery(Model):
    """One attempt-tracked send of a notification through one channel."""

    id = fields.BigIntField(primary_key=True)
    notification: fields.ForeignKeyRelation[Notification] = fields.ForeignKeyField(
        "models.Notification", related_name="deliveries", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(Channel, max_length=16)
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    due_at = fields.DatetimeField(db_index=True)
    claimed_by = fields.CharField(max_length=64, default="")
    lease_expires_at = fields.DatetimeField(null=True)
    template_id = fields.CharField(max_length=128, default="")
    last_errcode = fields.IntField(null=True)
    last_error = fields.CharField(max_length=255, default="")
    msgid = fields.CharField(max_length=64, default="", db_index=True)
    # Set while this delivery holds one of the worker's consents, so that a delivery reclaimed
    # from a dispatcher that died mid-send does not spend a second one.
    consent_spent = fields.BooleanField(default=False)
    org_id = fields.BigIntField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    notification_id: int

    class Meta:
        table = "notification_deliveries"
        indexes = (("status", "due_at"),)


@dataclass(frozen=True)
class Event:
    """What happened, in the words a worker reads; `values` feed the WeChat template fields."""

    kind: str
    title: str
    body: str
    object_type: str
    object_id: object
    org_id: int | None
    page: str
    values: dict[str, Any]
    push: bool = True  # False: inbox only (what the worker did themselves needs no WeChat message)


async def notify(user_id: int, event: Event) -> Notification:
    """Record `event` for the user: the inbox entry, and a pending delivery for each channel that
    reaches them (the mini-program always; the official account when they follow it). Call
    inside the transaction of the change it reports."""
    channels = []
    if event.push:
        channels.append(Channel.SUBSCRIBE)
        if await official_account_openid((await User.get(id=user_id)).unionid):
            channels.append(Channel.TEMPLATE)
    notification = await Notification.create(
        user_id=user_id,
        event=event.kind,
        object_type=event.object_type,
        object_id=str(event.object_id),
        org_id=event.org_id,
        title=event.title,
        body=event.body,
        values={"time": now().isoformat(), **event.values},
        page=event.page,
    )
    due = now()
    for channel in channels:
        await NotificationDelivery.create(
            notification_id=notification.id, channel=channel, due_at=due, org_id=event.org_id
        )
    return notification


class SubscriptionBalance(Model):
    """How many subscribe messages of one template a worker has allowed (one per "accept")."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="subscription_balances", on_delete=fields.CASCADE
    )
    template_id = fields.CharField(max_length=128)
    balance = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    user_id: int

    class Meta:
        table = "subscription_balances"
        unique_together = (("user_id", "template_id"),)


class OfficialAccountFollower(Model):
    """A follower of the union's official account, linked to mini-program users by unionid."""

    id = fields.BigIntField(primary_key=True)
    oa_openid = fields.CharField(max_length=64, unique=True)
    unionid = fields.CharField(max_length=64, null=True, db_index=True)
    following = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "official_account_followers"


class BroadcastStatus(StrEnum):
    QUEUED = "queued"
    EXPANDING = "expanding"
    SENT = "sent"
    # Fan-out stopped on an error that retrying will not cure; kept with the error for staff.
    FAILED = "failed"


BROADCAST_STATUS_LABELS = {
    BroadcastStatus.QUEUED: "排队中",
    BroadcastStatus.EXPANDING: "正在生成",
    BroadcastStatus.SENT: "已全部生成",
    BroadcastStatus.FAILED: "生成失败",
}
OPEN_BROADCAST = frozenset({BroadcastStatus.QUEUED, BroadcastStatus.EXPANDING})
BROADCAST_MACHINE = StateMachine(
    "broadcast",
    moves={
        "create": move(NEW, BroadcastStatus.QUEUED, "staff"),
        "expand": move(BroadcastStatus.QUEUED, BroadcastStatus.EXPANDING, "system"),
        "finish": move(OPEN_BROADCAST, BroadcastStatus.SENT, "system"),
        "fail": move(OPEN_BROADCAST, BroadcastStatus.FAILED, "system"),
        "requeue": move(BroadcastStatus.FAILED, BroadcastStatus.QUEUED, "system"),
    },
    labels=BROADCAST_STATUS_LABELS,
    conflict_code="broadcast.invalid_transition",
    conflict_message="通知当前状态为“{status}”，不能执行此操作",
)
# The broadcasts job, and staff's retry of what it set aside, act as the system.
BROADCAST_JOB = Actor("system", None, "broadcasts")
BROADCAST_GONE = NotFound("broadcast.not_found", "通知不存在或已不在可操作的状态")


class Broadcast(Model):
    """A notice to every (gig-worker) member of a subtree, fanned out by the dispatcher in
    batches from a stored cursor, so that a crash resumes where it stopped."""

    id = fields.BigIntField(primary_key=True)
    org_id = fields.BigIntField(db_index=True)
    title = fields.CharField(max_length=40)
    body = fields.TextField()
    gig_only = fields.BooleanField(default=False)
    status = fields.CharEnumField(BroadcastStatus, max_length=16, default=BroadcastStatus.QUEUED)
    cursor = fields.BigIntField(default=0)
    recipients = fields.IntField(default=0)
    created_by_id = fields.BigIntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    expanded_at = fields.DatetimeField(null=True)
    error = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "broadcasts"


# --- consent --------------------------------------------------------------------------------


CONSENT_RESULTS = {"accept", "reject", "ban", "filter"}


async def record_consent(user_id: int, results: dict[str, str]) -> dict[str, int]:
    """What `wx.requestSubscribeMessage` returned: each accept allows one more send."""
    for template_id, result in results.items():
        if result != "accept":
            continue
        async with in_transaction():
            row, _ = await SubscriptionBalance.get_or_create(user_id=user_id, template_id=template_id)
            await SubscriptionBalance.filter(id=row.id).update(balance=F("balance") + 1)
    rows = await SubscriptionBalance.filter(user_id=user_id, template_id__in=list(results))
    return {row.template_id: row.balance for row in rows}


async def official_account_openid(unionid: str | None) -> str | None:
    if not unionid:
        return None
    follower = await OfficialAccountFollower.get_or_none(unionid=unionid, following=True)
    return follower.oa_openid if follower else None


# --- the inbox ------------------------------------------------------------------------------


async def mark_read(user_id: int, notification_id: int) -> Notification:
    notification = await Notification.get_or_none(id=notification_id, user_id=user_id)
    if notification is None:
        raise NotFound("inbox.not_found", "消息不存在", {"id": notification_id})
    if notification.read_at is None:
        notification.read_at = now()
        await notification.save(update_fields=["read_at"])
    return notification


async def mark_all_read(user_id: int) -> int:
    return await Notification.filter(user_id=user_id, read_at=None).update(read_at=now())


# --- outcomes -------------------------------------------------------------------------------


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    SKIP = "skip"
    FAIL = "fail"


RETRYABLE_ERRCODES = {None, -1, 45009, 45011, 40001, 40014, 42001}  # None: no answer, 5xx, timeout
SKIP_ERRCODES = {43101}  # refused by the user, or no subscription left: not ours to retry


def classify(errcode: int | None) -> Outcome:
    if errcode == 0:
        return Outcome.DELIVERED
    if errcode in SKIP_ERRCODES:
        return Outcome.SKIP
    if errcode in RETRYABLE_ERRCODES:
        return Outcome.RETRY
    return Outcome.FAIL


async def resend(scope: StaffScope, delivery_id: int, actor: Actor) -> NotificationDelivery:
    """A caseworker sends a failed or skipped delivery again, as a new attempt series."""
    delivery = await scope.get(NotificationDelivery.all(), id=delivery_id)
    before = {"status": delivery.status.value, "error": delivery.last_error}
    async with in_transaction():
        if not await requeue_delivery(str(delivery.id)):
            raise Conflict(
                "notification.not_resendable", "只有发送失败或未发送的消息可以重发", {"status": delivery.status.value}
            )
        await record(
            actor,
            "notification.resend",
            object_type="notification_delivery",
            object_id=delivery.id,
            org_id=delivery.org_id,
            before=before,
            after={"status": "pending"},
        )
    await delivery.refresh_from_db()
    return delivery


async def requeue_delivery(delivery_id: str) -> bool:
    """Queue a failed or skipped delivery again, as a new attempt series; False if it is neither.
    Conditional, so that two resends (or a resend racing the dispatcher) queue it once."""
    return bool(
        await NotificationDelivery.filter(
            id=int(delivery_id), status__in=[DeliveryStatus.FAILED, DeliveryStatus.SKIPPED]
        ).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            due_at=now(),
            finished_at=None,
            last_error="",
            last_errcode=None,
            consent_spent=False,
        )
    )


# --- broadcasts -----------------------------------------------------------------------------


async def create_broadcast(
    scope: StaffScope, org_id: int, title: str, body: str, gig_only: bool, actor: Actor
) -> Broadcast:
    """Queue a notice to the subtree's members; the broadcasts job fans it out in batches."""
    await scope.require(org_id)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise Invalid("broadcast.empty", "请填写通知标题和内容")

    async def describe(broadcast: Broadcast, step: Step) -> None:
        step.data.update(title=title, gig_only=gig_only)

    async with in_transaction():
        broadcast = await Broadcast.create(
            org_id=org_id, title=title, body=body, gig_only=gig_only, created_by_id=actor.id or 0
        )
        await begin(BROADCAST_MACHINE, broadcast, "create", actor, effects=describe)
    return broadcast


async def requeue_broadcast(broadcast_id: str) -> bool:
    """Queue a failed broadcast again; its fan-out resumes from its cursor."""

    async def clear(broadcast: Broadcast, step: Step) -> None:
        broadcast.error = None

    failed = Broadcast.filter(id=int(broadcast_id), status=BroadcastStatus.FAILED)
    try:
        await transition(BROADCAST_MACHINE, failed, "requeue", BROADCAST_JOB, not_found=BROADCAST_GONE, effects=clear)
    except NotFound:
        return False
    return True


# Staff's "retry" on a background job's failure (models/kernel/jobs.py) puts these items back.
register_requeue("notification_delivery", requeue_delivery)
register_requeue("broadcast", requeue_broadcast)


async def broadcast_progress(broadcast: Broadcast) -> dict[str, int]:
    rows = (
        await NotificationDelivery.filter(notification__broadcast_id=broadcast.id)
        .annotate(count=Count("id"))
        .group_by("status")
        .values_list("status", "count")
    )
    counts = {status.value: 0 for status in DeliveryStatus}
    counts.update({str(status): count for status, count in rows})
    return counts


# --- what WeChat tells us back --------------------------------------------------------------


async def record_template_result(msgid: str, status: str) -> int:
    """TEMPLATESENDJOBFINISH: WeChat's final word on a template message we sent."""
    if status == "success":
        return await NotificationDelivery.filter(msgid=msgid, channel=Channel.TEMPLATE).update(last_error="")
    return await NotificationDelivery.filter(msgid=msgid, channel=Channel.TEMPLATE).update(
        status=DeliveryStatus.FAILED, last_error=f"wechat: {status}"[:255], finished_at=now()
    )


async def record_consent_withdrawn(openid: str, template_ids: list[str]) -> None:
    """subscribe_msg_change_event with reject: the user switched these templates off."""
    user = await User.get_or_none(openid=openid)
    if user is not None:
        await SubscriptionBalance.filter(user_id=user.id, template_id__in=template_ids).update(balance=0)


async def record_follow(oa_openid: str, unionid: str | None, following: bool) -> None:
    follower = await OfficialAccountFollower.get_or_none(oa_openid=oa_openid)
    if follower is None:
        await OfficialAccountFollower.create(oa_openid=oa_openid, unionid=unionid, following=following)
        return
    follower.following = following
    follower.unionid = unionid or follower.unionid
    await follower.save(update_fields=["following", "unionid", "updated_at"])
