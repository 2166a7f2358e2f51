"""Factories for the kernel's tests: work for the background jobs, written straight to the
database as a domain's outbox would have it."""

from __future__ import annotations

from models.accounts import User
from models.notifications import Channel, Notification, NotificationDelivery, SubscriptionBalance
from server.clock import now
from tests.factories import unique

TEMPLATE = "sbx-review-result"


async def queued_messages(count: int, org_id: int | None = None) -> dict[str, int]:
    """`count` workers, each with one consent and one due subscribe message; openid -> delivery id."""
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
                notification_id=notification_id, channel=Channel.SUBSCRIBE, due_at=moment, org_id=org_id
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
