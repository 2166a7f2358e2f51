"""Broadcasts: a notice to the members of a subtree, fanned out by the broadcasts job; its
states are a table of the case kernel.
"""

from __future__ import annotations

from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.audit import Actor
from models.errors import Invalid, NotFound
from models.kernel.jobs import register_requeue
from models.kernel.machine import NEW, StateMachine, Step, begin, move, transition
from models.membership.tables import Membership, MembershipStatus
from models.notifications.tables import (
    BROADCAST_STATUS_LABELS,
    OPEN_BROADCAST,
    Broadcast,
    BroadcastStatus,
    DeliveryStatus,
    NotificationDelivery,
)
from models.orgs import in_subtree
from models.scope import StaffScope

BROADCAST_MACHINE = StateMachine(
    "broadcast",
    moves={
        "create": move(NEW, BroadcastStatus.QUEUED, "staff"),
        "expand": move(BroadcastStatus.QUEUED, BroadcastStatus.EXPANDING, "system"),
        "finish": move(OPEN_BROADCAST, BroadcastStatus.SENT, "system"),
        "fail": move(OPEN_BROADCAST, BroadcastStatus.FAILED, "system"),
        "requeue": move(BroadcastStatus.FAILED, BroadcastStatus.QUEUED, "system"),
    },
    labels=BROADCAST_STATUS_LABELS,
    conflict_code="broadcast.invalid_transition",
    conflict_message="通知当前状态为“{status}”，不能执行此操作",
)


# The broadcasts job, and staff's retry of what it set aside, act as the system.
BROADCAST_JOB = Actor("system", None, "broadcasts")


def audience(org_id: int, gig_only: bool) -> QuerySet[Membership]:
    """The memberships a broadcast reaches: the subtree's active members (gig workers only when
    asked); the fan-out walks it by id, the preview counts it."""
    members = in_subtree(Membership.filter(status=MembershipStatus.ACTIVE), org_id)
    return members.filter(is_gig_worker=True) if gig_only else members


async def audience_size(scope: StaffScope, org_id: int, gig_only: bool) -> int:
    """How many workers a broadcast to `org_id` would reach now (the preview's figure)."""
    await scope.require(org_id)
    return await audience(org_id, gig_only).count()


BROADCAST_GONE = NotFound("broadcast.not_found", "通知不存在或已不在可操作的状态")


async def create_broadcast(
    scope: StaffScope, org_id: int, title: str, body: str, gig_only: bool, actor: Actor
) -> Broadcast:
    """Queue a notice to the subtree's members; the broadcasts job fans it out in batches."""
    await scope.require(org_id)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise Invalid("broadcast.empty", "请填写通知标题和内容")

    async def describe(broadcast: Broadcast, step: Step) -> None:
        step.data.update(title=title, gig_only=gig_only)

    async with in_transaction():
        broadcast = await Broadcast.create(
            org_id=org_id, title=title, body=body, gig_only=gig_only, created_by_id=actor.id or 0
        )
        await begin(BROADCAST_MACHINE, broadcast, "create", actor, effects=describe)
    return broadcast


async def requeue_broadcast(broadcast_id: str) -> bool:
    """Queue a failed broadcast again; its fan-out resumes from its cursor."""

    async def clear(broadcast: Broadcast, step: Step) -> None:
        broadcast.error = None

    failed = Broadcast.filter(id=int(broadcast_id), status=BroadcastStatus.FAILED)
    try:
        await transition(BROADCAST_MACHINE, failed, "requeue", BROADCAST_JOB, not_found=BROADCAST_GONE, effects=clear)
    except NotFound:
        return False
    return True


async def broadcast_progress(broadcast: Broadcast) -> dict[str, int]:
    rows = (
        await NotificationDelivery.filter(notification__broadcast_id=broadcast.id)
        .annotate(count=Count("id"))
        .group_by("status")
        .values_list("status", "count")
    )
    counts = {status.value: 0 for status in DeliveryStatus}
    counts.update({str(status): count for status, count in rows})
    return counts


# Staff's "retry" on a background job's failure (models/kernel/jobs.py) queues the broadcast again.
register_requeue("broadcast", requeue_broadcast)
