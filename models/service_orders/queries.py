"""Reading orders: a contact's, an expert's, the caseworker's queue, and the parts of a detail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from models.enterprises.queries import contact_scope
from models.kernel.assignment import AssigneeKind, Assignment, AssignmentState, ExpertScope, current
from models.kernel.history import CaseEvent, history_of
from models.kernel.timers import SlaState, live_timers
from models.orgs import in_subtree
from models.prepared import PreparedPage, counted_page
from models.scope import ContactScope, StaffScope
from models.service_orders.deadline import KIND
from models.service_orders.machine import AWAITING_DISPATCH, OPEN
from models.service_orders.tables import CASE_TYPE, OrderStatus, ReportItem, ServiceOrder, Visit


def _contact_orders(enterprise_ids: list[int], status: OrderStatus | None) -> QuerySet[ServiceOrder]:
    query = ContactScope(frozenset(enterprise_ids)).restrict(ServiceOrder.all())
    return query.filter(status=status) if status is not None else query


_CONTACT_PAGE: PreparedPage[ServiceOrder] = PreparedPage(_contact_orders, "-id")


async def contact_page(
    user_id: int, status: OrderStatus | None, *, offset: int, limit: int
) -> tuple[list[ServiceOrder], int]:
    """The orders of every enterprise the worker acts for, newest first, and how many there are;
    a worker who acts for none is answered without asking for orders."""
    scope = await contact_scope(user_id)
    if not scope.enterprise_ids:
        return [], 0
    return await _CONTACT_PAGE(sorted(scope.enterprise_ids), status, offset=offset, limit=limit)


def expert_orders(expert_id: int, status: OrderStatus | None = None) -> QuerySet[ServiceOrder]:
    """The orders offered to the expert or held by them."""
    query = ExpertScope(expert_id).restrict(ServiceOrder.all())
    return query.filter(status=status) if status is not None else query


class OrderQueue(StrEnum):
    DISPATCH = "dispatch"  # no expert holds it yet: the union must offer it
    OPEN = "open"  # not yet delivered, confirmed, closed or cancelled


QUEUE_STATUSES = {OrderQueue.DISPATCH: AWAITING_DISPATCH, OrderQueue.OPEN: OPEN}
QUEUE_LABELS = {OrderQueue.DISPATCH: "待派单（含重新匹配）", OrderQueue.OPEN: "办理中"}
# Of the deadline states, those a queue is filtered by (on track is the rest)
DEADLINE_FILTERS = (SlaState.AT_RISK, SlaState.BREACHED)


def queue(
    scope: StaffScope,
    *,
    status: OrderStatus | None = None,
    q: str = "",
    group: OrderQueue | None = None,
    deadline: SlaState | None = None,
    at: datetime | None = None,
) -> QuerySet[ServiceOrder]:
    """The caseworker's orders in their subtree, by status or queue, by the state of their
    deadline at `at` (at risk, breached), searched in title and enterprise name."""
    query = _queue(scope.subtree_root, status, group)
    if deadline is not None:
        if at is None or deadline not in DEADLINE_FILTERS:
            raise ValueError("a deadline filter is at risk or breached, at an instant")
        breached = live_timers(CASE_TYPE, SlaState.BREACHED, at, KIND).values("case_id")
        if deadline is SlaState.BREACHED:
            query = query.filter(id__in=Subquery(breached))
        else:
            at_risk = live_timers(CASE_TYPE, SlaState.AT_RISK, at, KIND).values("case_id")
            query = query.filter(id__in=Subquery(at_risk)).exclude(id__in=Subquery(breached))
    if q.strip():
        query = query.filter(Q(title__icontains=q.strip()) | Q(enterprise__name__icontains=q.strip()))
    return query


def _queue(subtree_root: int | None, status: OrderStatus | None, group: OrderQueue | None) -> QuerySet[ServiceOrder]:
    query = StaffScope.below(subtree_root).restrict(ServiceOrder.all())
    if status is not None:
        query = query.filter(status=status)
    if group is not None:
        query = query.filter(status__in=list(QUEUE_STATUSES[group]))
    return query


_QUEUE_PAGE: PreparedPage[ServiceOrder] = PreparedPage(_queue, "created_at", "id")


async def queue_page(
    scope: StaffScope, *, offset: int, limit: int, status: OrderStatus | None = None, q: str = ""
) -> tuple[list[ServiceOrder], int]:
    """A page of `queue`, oldest first, and its total; without a search both queries are prepared."""
    if not q.strip():
        return await _QUEUE_PAGE(scope.subtree_root, status, None, offset=offset, limit=limit)
    query = queue(scope, status=status, q=q)
    return await counted_page(query, "created_at", "id", offset=offset, limit=limit)


async def timeline(order_id: int) -> list[CaseEvent]:
    return await history_of(CASE_TYPE, order_id)


async def visits_of(order_id: int) -> list[Visit]:
    return await Visit.filter(order_id=order_id).order_by("visited_at", "id")


async def report_items_count(order_id: int) -> int:
    return await ReportItem.filter(order_id=order_id).count()


async def pending_offer(order_id: int) -> Assignment | None:
    """The offer waiting for an expert's answer, if any."""
    live = await current(CASE_TYPE, order_id)
    return live if live is not None and live.state == AssignmentState.OFFERED else None


async def offers_to(expert_id: int, order_ids: list[int]) -> dict[int, datetime | None]:
    """When the expert must answer each of these orders' offers (orders not offered: absent)."""
    rows = await Assignment.filter(
        case_type=CASE_TYPE,
        case_id__in=order_ids,
        assignee_kind=AssigneeKind.EXPERT,
        assignee_id=expert_id,
        state=AssignmentState.OFFERED,
    ).values_list("case_id", "respond_by")
    return dict(rows)


async def figures(org_id: int) -> dict[str, dict[str, int]]:
    """Orders in the union's subtree by status."""
    rows = (
        await in_subtree(ServiceOrder.all(), org_id)
        .annotate(count=Count("id"))
        .group_by("status")
        .values("status", "count")
    )
    by_status = {status.value: 0 for status in OrderStatus}
    by_status.update({str(row["status"]): row["count"] for row in rows})
    return {"by_status": by_status}
