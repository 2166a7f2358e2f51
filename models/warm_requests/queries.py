"""Reading requests: the worker's own, and the caseworker's queue with its SLA state."""

from __future__ import annotations

from datetime import datetime

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from models.accounts import StaffAccount
from models.kernel.history import CaseEvent, history_of
from models.orgs import in_subtree
from models.scope import StaffScope, WorkerScope
from models.warm_requests.machine import MACHINE
from models.warm_requests.sla import filter_by_sla
from models.warm_requests.tables import OPEN, RequestStatus, WarmMessage, WarmRequest


def own_requests(user_id: int) -> QuerySet[WarmRequest]:
    return WorkerScope(user_id).restrict(WarmRequest.all())


def queue(
    scope: StaffScope,
    staff: StaffAccount,
    *,
    at: datetime,
    status: RequestStatus | None = None,
    assignee: str | None = None,
    sla_state: str | None = None,
    request_type: str | None = None,
    open_only: bool = False,
) -> QuerySet[WarmRequest]:
    """The caseworker's queue in their subtree; `assignee` is `me` or `none`; `open_only` leaves
    out what is resolved, closed or withdrawn."""
    query = scope.restrict(WarmRequest.all())
    if status is not None:
        query = query.filter(status=status)
    if open_only:
        query = query.filter(status__in=list(OPEN))
    if request_type is not None:
        query = query.filter(request_type=request_type)
    if assignee == "me":
        query = query.filter(assignee_id=staff.id)
    elif assignee == "none":
        query = query.filter(assignee_id=None)
    if sla_state is not None:
        query = filter_by_sla(query, sla_state, at)
    return query


async def conversation(request_id: int) -> list[WarmMessage]:
    return await WarmMessage.filter(request_id=request_id).order_by("id")


async def timeline(request_id: int) -> list[CaseEvent]:
    return await history_of(MACHINE.case_type, request_id)


async def figures(org_id: int, at: datetime) -> dict[str, object]:
    """Requests in the union's subtree by status, and how many are breached at `at`."""
    in_tree = in_subtree(WarmRequest.all(), org_id)
    rows = await in_tree.annotate(count=Count("id")).group_by("status").values("status", "count")
    by_status = {status.value: 0 for status in RequestStatus}
    by_status.update({str(row["status"]): row["count"] for row in rows})
    return {"by_status": by_status, "breached": await filter_by_sla(in_tree, "breached", at).count()}
