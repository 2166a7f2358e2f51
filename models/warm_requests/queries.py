"""Reading requests: the worker's own, and the caseworker's queue with its SLA state."""

from __future__ import annotations

from datetime import datetime

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from models.accounts import StaffAccount
from models.kernel.history import CaseEvent, history_of
from models.orgs import in_subtree
from models.prepared import Prepared, PreparedPage, counted_page
from models.scope import StaffScope, WorkerScope
from models.warm_requests.machine import MACHINE
from models.warm_requests.sla import filter_by_sla
from models.warm_requests.tables import OPEN, RequestStatus, WarmMessage, WarmRequest

_OWN: Prepared[list[WarmRequest]] = Prepared(
    lambda user_id, request_id: WorkerScope(user_id).restrict(WarmRequest.filter(id=request_id))
)


async def own_request(user_id: int, request_id: int) -> WarmRequest:
    """The worker's own request; another's is one that does not exist, as `Scope.get` answers."""
    found = await _OWN(user_id, request_id)
    if not found:
        raise WorkerScope.not_found({"id": request_id})
    return found[0]


_OWN_PAGE: PreparedPage[WarmRequest] = PreparedPage(
    lambda user_id: WorkerScope(user_id).restrict(WarmRequest.all()), "-id"
)


async def own_page(user_id: int, *, offset: int, limit: int) -> tuple[list[WarmRequest], int]:
    """The worker's own requests, newest first, and how many there are."""
    return await _OWN_PAGE(user_id, offset=offset, limit=limit)


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
    query = _queue(*_queue_values(scope, staff, status, request_type, assignee, open_only))
    return filter_by_sla(query, sla_state, at) if sla_state is not None else query


def _queue_values(
    scope: StaffScope,
    staff: StaffAccount,
    status: RequestStatus | None,
    request_type: str | None,
    assignee: str | None,
    open_only: bool,
) -> tuple[int | None, RequestStatus | None, str | None, int | None, bool, bool]:
    """`_queue`'s values for a caseworker's filters: what a prepared query can take."""
    return (
        scope.subtree_root,
        status,
        request_type,
        staff.id if assignee == "me" else None,
        assignee == "none",
        open_only,
    )


def _queue(
    subtree_root: int | None,
    status: RequestStatus | None,
    request_type: str | None,
    assigned_to: int | None,
    unassigned: bool,
    open_only: bool,
) -> QuerySet[WarmRequest]:
    query = StaffScope.below(subtree_root).restrict(WarmRequest.all())
    if status is not None:
        query = query.filter(status=status)
    if open_only:
        query = query.filter(status__in=list(OPEN))
    if request_type is not None:
        query = query.filter(request_type=request_type)
    if assigned_to is not None:
        query = query.filter(assignee_id=assigned_to)
    elif unassigned:
        query = query.filter(assignee_id=None)
    return query


_QUEUE_PAGE: PreparedPage[WarmRequest] = PreparedPage(_queue, "created_at", "id")


async def queue_page(
    scope: StaffScope,
    staff: StaffAccount,
    *,
    at: datetime,
    offset: int,
    limit: int,
    status: RequestStatus | None = None,
    assignee: str | None = None,
    sla_state: str | None = None,
    request_type: str | None = None,
) -> tuple[list[WarmRequest], int]:
    """A page of `queue`, oldest first, and its total; without an SLA filter (decided at `at`)
    both queries are prepared."""
    if sla_state is None:
        values = _queue_values(scope, staff, status, request_type, assignee, open_only=False)
        return await _QUEUE_PAGE(*values, offset=offset, limit=limit)
    query = queue(scope, staff, at=at, status=status, assignee=assignee, sla_state=sla_state, request_type=request_type)
    return await counted_page(query, "created_at", "id", offset=offset, limit=limit)


_CONVERSATION: Prepared[list[WarmMessage]] = Prepared(
    lambda request_id: WarmMessage.filter(request_id=request_id).order_by("id")
)


async def conversation(request_id: int) -> list[WarmMessage]:
    return await _CONVERSATION(request_id)


async def timeline(request_id: int) -> list[CaseEvent]:
    return await history_of(MACHINE.case_type, request_id)


async def figures(org_id: int, at: datetime) -> dict[str, object]:
    """Requests in the union's subtree by status, and how many are breached at `at`."""
    in_tree = in_subtree(WarmRequest.all(), org_id)
    rows = await in_tree.annotate(count=Count("id")).group_by("status").values("status", "count")
    by_status = {status.value: 0 for status in RequestStatus}
    by_status.update({str(row["status"]): row["count"] for row in rows})
    return {"by_status": by_status, "breached": await filter_by_sla(in_tree, "breached", at).count()}
