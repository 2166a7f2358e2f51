"""The outbox: a domain records what happened to a worker in the transaction of the change;
the job runner delivers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.accounts import User
from models.notifications.tables import Channel, Notification, NotificationDelivery, OfficialAccountFollower
from server.clock import now


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


async def official_account_openid(unionid: str | None) -> str | None:
    if not unionid:
        return None
    follower = await OfficialAccountFollower.get_or_none(unionid=unionid, following=True)
    return follower.oa_openid if follower else None
