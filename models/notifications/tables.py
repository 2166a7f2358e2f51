"""The notification tables: inbox entries, their deliveries per channel, consent balances,
official-account followers and broadcasts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.accounts import User


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
        # The claim's first tries in their order (due_at, then id) read straight from the index:
        # a broadcast lands thousands of deliveries due at the same instant, and with (status,
        # due_at) alone every claim sorted all of them to take the first few. `attempts` first
        # so that the retries, claimed before first tries (server/dispatcher.py), are a range of
        # their own rather than scattered through the backlog.
        indexes = (("status", "attempts", "due_at", "id"),)


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
    BroadcastStatus.EXPANDING: "正在排入发送",
    BroadcastStatus.SENT: "已全部排入发送",
    BroadcastStatus.FAILED: "排入发送中断",
}


OPEN_BROADCAST = frozenset({BroadcastStatus.QUEUED, BroadcastStatus.EXPANDING})


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


class StaffAlert(Model):
    """Something a union must look at: an offer declined or timed out, a deadline breached.

    Addressed to a union (every caseworker of it sees it on the desk) and, when one person holds
    the case, to that staff account as well. Read once by anyone of the union."""

    id = fields.BigIntField(primary_key=True)
    org_id = fields.BigIntField(db_index=True)
    staff_id = fields.BigIntField(null=True, db_index=True)
    kind = fields.CharField(max_length=48)  # dotted event code, e.g. service_order.offer_expired
    case_type = fields.CharField(max_length=32)
    case_id = fields.BigIntField()
    title = fields.CharField(max_length=100)
    body = fields.CharField(max_length=500)
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True)
    read_by_id = fields.BigIntField(null=True)

    class Meta:
        table = "staff_alerts"
        indexes = (("org_id", "read_at"),)
