"""How WeChat's answers decide a delivery's outcome, and staff's resend."""

from __future__ import annotations

from enum import StrEnum

from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.errors import Conflict
from models.kernel.jobs import register_requeue
from models.notifications.outcomes import explain
from models.notifications.tables import DeliveryStatus, NotificationDelivery
from models.scope import StaffScope
from server.clock import now


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    SKIP = "skip"
    FAIL = "fail"


RETRYABLE_ERRCODES = {None, -1, 45009, 45011, 40001, 40014, 42001}  # None: no answer, 5xx, timeout


SKIP_ERRCODES = {43101}  # refused by the user, or no subscription left: not ours to retry


def classify(errcode: int | None) -> Outcome:
    if errcode == 0:
        return Outcome.DELIVERED
    if errcode in SKIP_ERRCODES:
        return Outcome.SKIP
    if errcode in RETRYABLE_ERRCODES:
        return Outcome.RETRY
    return Outcome.FAIL


def settle(outcome: Outcome, attempts: int, max_attempts: int) -> Outcome:
    """The outcome to record: a transient error on the last allowed attempt ends the series."""
    return Outcome.FAIL if outcome == Outcome.RETRY and attempts >= max_attempts else outcome


async def resend(scope: StaffScope, delivery_id: int, actor: Actor) -> NotificationDelivery:
    """A caseworker sends a failed or skipped delivery again, as a new attempt series; not one
    whose cause a resend cannot overcome (no consent, refused, a bad recipient)."""
    delivery = await scope.get(NotificationDelivery.all(), id=delivery_id)
    explained = explain(delivery.last_errcode, delivery.last_error)
    if explained is not None and not explained.resend_helps:
        raise Conflict(
            "notification.resend_useless",
            f"重发也无法送达：{explained.text}",
            {"status": delivery.status.value, "errcode": delivery.last_errcode},
        )
    before = {"status": delivery.status.value, "error": delivery.last_error}
    async with in_transaction():
        if not await requeue_delivery(str(delivery.id)):
            raise Conflict(
                "notification.not_resendable", "只有发送失败或未发送的消息可以重发", {"status": delivery.status.value}
            )
        await record(
            actor,
            "notification.resend",
            object_type="notification_delivery",
            object_id=delivery.id,
            org_id=delivery.org_id,
            before=before,
            after={"status": "pending"},
        )
    await delivery.refresh_from_db()
    return delivery


async def requeue_delivery(delivery_id: str) -> bool:
    """Queue a failed or skipped delivery again, as a new attempt series; False if it is neither.
    Conditional, so that two resends (or a resend racing the dispatcher) queue it once."""
    return bool(
        await NotificationDelivery.filter(
            id=int(delivery_id), status__in=[DeliveryStatus.FAILED, DeliveryStatus.SKIPPED]
        ).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            due_at=now(),
            finished_at=None,
            last_error="",
            last_errcode=None,
            consent_spent=False,
        )
    )


# Staff's "retry" on a background job's failure (models/kernel/jobs.py) puts the delivery back.
register_requeue("notification_delivery", requeue_delivery)
