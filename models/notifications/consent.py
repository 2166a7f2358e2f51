"""Subscribe-message consent: one send per "accept" the mini-program reports."""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from models.notifications.tables import SubscriptionBalance
from models.prepared import Prepared

CONSENT_RESULTS = {"accept", "reject", "ban", "filter"}


_ADD_ONE: Prepared[int] = Prepared(
    lambda user_id, template_id: SubscriptionBalance.filter(user_id=user_id, template_id=template_id).update(
        balance=F("balance") + 1
    )
)


async def record_consent(user_id: int, results: dict[str, str]) -> None:
    """What `wx.requestSubscribeMessage` returned: each accept allows one more send. One atomic
    UPDATE each; the first accept of a template creates its row."""
    for template_id, result in results.items():
        if result != "accept" or await _ADD_ONE(user_id, template_id):
            continue
        try:
            await SubscriptionBalance.create(user_id=user_id, template_id=template_id, balance=1)
        except IntegrityError:  # the same report, retried, created it meanwhile
            await _ADD_ONE(user_id, template_id)


_BALANCES: Prepared[list[tuple[str, int]]] = Prepared(
    lambda user_id, template_ids: SubscriptionBalance.filter(user_id=user_id, template_id__in=template_ids).values_list(
        "template_id", "balance"
    )
)


async def balances(user_id: int, template_ids: Iterable[str]) -> dict[str, int]:
    """Sends left per template (a template never consented to has no row)."""
    wanted = sorted(template_ids)
    return dict(await _BALANCES(user_id, wanted)) if wanted else {}
