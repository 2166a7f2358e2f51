"""Factories for the kernel's tests: instants and calendar overrides, and work for the
background jobs written straight to the database as a domain's outbox would have it."""

from __future__ import annotations

from datetime import date, datetime

from models.accounts import User
from models.kernel.calendar import CalendarOverride, remove_override, set_override
from models.notifications.tables import Channel, Notification, NotificationDelivery, SubscriptionBalance
from models.scope import StaffScope
from server.clock import SHANGHAI, now
from tests.factories.common import TEST_ACTOR, unique

# What a superadmin's request carries: the whole tree (the org id is not consulted).
EVERYWHERE = StaffScope(org_id=0, sees_everything=True)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


async def override_day(day: date, working: bool, org_id: int | None, note: str = "测试调整") -> CalendarOverride:
    return await set_override(EVERYWHERE, day=day, working=working, note=note, org_id=org_id, actor=TEST_ACTOR)


async def clear_day(day: date, org_id: int | None) -> None:
    await remove_override(EVERYWHERE, day=day, org_id=org_id, actor=TEST_ACTOR)


TEMPLATE = "sbx-review-result"


async def queued_messages(count: int, org_id: int | None = None, due_at: datetime | None = None) -> dict[str, int]:
    """`count` workers, each with one consent and one subscribe message due now (or at `due_at`);
    openid -> delivery id."""
    prefix = unique("jobs-")
    openids = [f"{prefix}-{n}" for n in range(count)]
    await User.bulk_create([User(openid=openid) for openid in openids])
    users = dict(await User.filter(openid__in=openids).values_list("openid", "id"))
    await SubscriptionBalance.bulk_create(
        [SubscriptionBalance(user_id=user_id, template_id=TEMPLATE, balance=1) for user_id in users.values()]
    )
    moment = now()
    await Notification.bulk_create(
        [
            Notification(
                user_id=user_id,
                event="enrolment.approved",
                object_type="enrolment",
                object_id=openid,
                org_id=org_id,
                title="入会申请已通过",
                body="欢迎加入",
                values={"status": "已通过", "org": "测试工会", "note": "测试", "time": moment.isoformat()},
            )
            for openid, user_id in users.items()
        ]
    )
    notifications = dict(await Notification.filter(object_id__in=openids).values_list("id", "object_id"))
    await NotificationDelivery.bulk_create(
        [
            NotificationDelivery(
                notification_id=notification_id, channel=Channel.SUBSCRIBE, due_at=due_at or moment, org_id=org_id
            )
            for notification_id in notifications
        ]
    )
    deliveries = await NotificationDelivery.filter(notification_id__in=list(notifications)).values_list(
        "id", "notification_id"
    )
    return {notifications[notification_id]: delivery_id for delivery_id, notification_id in deliveries}


async def poisoned_delivery(user_id: int, org_id: int | None) -> NotificationDelivery:
    """A due delivery whose stored values are not a mapping, as a row written by an older version
    or by hand might be: no round can prepare it."""
    notification = await Notification.create(
        user_id=user_id,
        event="enrolment.approved",
        object_type="enrolment",
        object_id="0",
        org_id=org_id,
        title="坏消息",
        body="其取值不是对象",
        values=["not", "a", "mapping"],
    )
    return await NotificationDelivery.create(
        notification_id=notification.id, channel=Channel.SUBSCRIBE, due_at=now(), org_id=org_id
    )
