"""The state of the queues at an instant, for GET /metrics: deliveries waiting or failed, how late
the oldest due delivery is, broadcasts still fanning out, open job failures, and SLA timers at
risk or breached. Each figure is one indexed count, so a scrape every few seconds costs little."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tortoise.expressions import Q
from tortoise.functions import Count

from models.kernel.jobs import JobFailure
from models.kernel.timers import SlaTimer, TimerStatus
from models.notifications.tables import (
    OPEN_BROADCAST,
    Broadcast,
    BroadcastStatus,
    DeliveryStatus,
    NotificationDelivery,
)

# Delivered and skipped rows only grow; the ones an operator acts on are these.
WATCHED_DELIVERIES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED)


@dataclass
class QueueFigures:
    deliveries: dict[str, int] = field(default_factory=dict)  # status -> rows
    oldest_due_seconds: float = 0.0  # how long the oldest pending delivery has been due
    open_broadcasts: int = 0
    failed_broadcasts: int = 0
    job_failures: dict[str, int] = field(default_factory=dict)  # job -> open failures
    timers: dict[tuple[str, str], int] = field(default_factory=dict)  # (case type, at_risk|breached) -> timers


async def queue_figures(at: datetime) -> QueueFigures:
    figures = QueueFigures(deliveries={status.value: 0 for status in WATCHED_DELIVERIES})
    rows = (
        await NotificationDelivery.filter(status__in=list(WATCHED_DELIVERIES))
        .annotate(n=Count("id"))
        .group_by("status")
        .values("status", "n")
    )
    figures.deliveries.update({str(row["status"]): row["n"] for row in rows})
    oldest = (
        await NotificationDelivery.filter(status=DeliveryStatus.PENDING, due_at__lte=at)
        .order_by("due_at")
        .first()
        .values("due_at")
    )
    if oldest:
        figures.oldest_due_seconds = max(0.0, (at - oldest["due_at"]).total_seconds())
    figures.open_broadcasts = await Broadcast.filter(status__in=list(OPEN_BROADCAST)).count()
    figures.failed_broadcasts = await Broadcast.filter(status=BroadcastStatus.FAILED).count()
    rows = await JobFailure.filter(resolved_at__isnull=True).annotate(n=Count("id")).group_by("job").values("job", "n")
    figures.job_failures = {row["job"]: row["n"] for row in rows}
    # The same states the queues show (models/warm_requests/sla.py): breached wins over at risk.
    open_timers = SlaTimer.filter(status__in=[TimerStatus.RUNNING, TimerStatus.PAUSED])
    breached = Q(status=TimerStatus.RUNNING, due_at__lte=at) | Q(breach_alerted_at__isnull=False)
    at_risk = Q(status=TimerStatus.RUNNING, risk_at__lte=at, due_at__gt=at, breach_alerted_at__isnull=True)
    for state, condition in (("breached", breached), ("at_risk", at_risk)):
        rows = (
            await open_timers.filter(condition).annotate(n=Count("id")).group_by("case_type").values("case_type", "n")
        )
        figures.timers.update({(row["case_type"], state): row["n"] for row in rows})
    return figures
