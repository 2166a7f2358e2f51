"""What WeChat tells us back: template results, consent withdrawn, follows."""

from __future__ import annotations

from models.accounts import User
from models.notifications.tables import (
    Channel,
    DeliveryStatus,
    NotificationDelivery,
    OfficialAccountFollower,
    SubscriptionBalance,
)
from server.clock import now


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
