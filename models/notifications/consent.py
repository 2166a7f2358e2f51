"""Subscribe-message consent: one send per "accept" the mini-program reports."""

from __future__ import annotations

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.notifications.tables import SubscriptionBalance

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
