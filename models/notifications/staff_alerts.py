"""What the union is told: alerts on the caseworkers' desk.

Staff have no WeChat inbox, so a case event that needs a person (an expert declined, an offer ran
out, a deadline breached) becomes an alert for the union responsible, and for the staff member
holding the case when there is one. Called from a domain's effects, inside its transaction, so
the alert exists exactly when the step does."""

from __future__ import annotations

from datetime import datetime

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.errors import NotFound
from models.notifications.tables import StaffAlert
from models.scope import StaffScope


async def alert_union(
    org_id: int,
    kind: str,
    case_type: str,
    case_id: int,
    title: str,
    body: str,
    at: datetime,
    staff_id: int | None = None,
) -> StaffAlert:
    return await StaffAlert.create(
        org_id=org_id,
        staff_id=staff_id,
        kind=kind,
        case_type=case_type,
        case_id=case_id,
        title=title[:100],
        body=body[:500],
        created_at=at,
    )


def unread_alerts(scope: StaffScope) -> QuerySet[StaffAlert]:
    """The unread alerts of the unions in a caseworker's subtree, newest first."""
    return scope.restrict(StaffAlert.filter(read_at__isnull=True)).order_by("-created_at", "-id")


async def mark_alert_read(scope: StaffScope, alert_id: int, actor: Actor, at: datetime) -> StaffAlert:
    """Read once for the whole union; audited, since it takes the alert off every colleague's desk."""
    alert = await scope.restrict(StaffAlert.all()).get_or_none(id=alert_id)
    if alert is None:
        raise NotFound("alert.not_found", "提醒不存在或不在您的管辖范围内", {"alert_id": alert_id})
    if alert.read_at is None:
        async with in_transaction():
            alert.read_at, alert.read_by_id = at, actor.id
            await alert.save(update_fields=["read_at", "read_by_id"])
            await record(
                actor,
                "alert.read",
                object_type=alert.case_type,
                object_id=alert.case_id,
                org_id=alert.org_id,
                after={"alert_id": alert.id, "kind": alert.kind},
            )
    return alert
