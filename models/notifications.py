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
from tortoise.models import Model

from models.accounts import User
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


async def notify(user_id: int, event: Event, channels: tuple[Channel, ...] = (Channel.SUBSCRIBE,)) -> Notification:
    """Record `event` for the user: inbox entry and pending deliveries. Call inside the
    transaction of the change it reports."""
    notification = await Notification.create(
        user_id=user_id,
        event=event.kind,
        object_type=event.object_type,
        object_id=str(event.object_id),
        org_id=event.org_id,
        title=event.title,
        body=event.body,
        values=event.values,
        page=event.page,
    )
    due = now()
    await NotificationDelivery.bulk_create(
        [
            NotificationDelivery(notification_id=notification.id, channel=channel, due_at=due, org_id=event.org_id)
            for channel in channels
        ]
    )
    return notification
