"""The worker's inbox."""

from __future__ import annotations

from models.errors import NotFound
from models.notifications.tables import Notification
from server.clock import now


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
