"""The caseworkers' queues: for each list page, the one function that turns its query arguments
into the filtered queryset in the page's order, and what moving through a queue needs.

The list page, its Excel export, the detail pages' neighbours (`rel=prev`/`rel=next`, and the
next case after an action), saved filters and the desk's cards all go through `Queue.build` (and
its order), so
a card's count is the row count of the list it opens by construction, and "the next case" is the
next row of the list the caseworker came from. The rules behind each filter (what is pending,
overdue, at risk) stay in their domains; what is parsed here is the pages' query strings, which
is why this sits in handlers and not in a `models/desk` domain. It has no routes, so every page
module may share it (tests/platform/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from sanic import Request
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from handlers.pages import args_of, optional_bool, optional_date, optional_int
from models.appeals.queries import staff_appeals
from models.appeals.tables import AppealStatus
from models.catalogue import APPEAL_TOPICS, PLATFORMS
from models.enrolment.queries import EnrolmentQueue, reviewable_enrolments
from models.enrolment.tables import EnrolmentStatus
from models.kernel.timers import SlaState
from models.profiles.search import person_match
from models.service_orders.queries import DEADLINE_FILTERS, OrderQueue
from models.service_orders.queries import queue as order_queue
from models.service_orders.tables import OrderStatus
from models.warm_requests.catalogue import REQUEST_TYPES
from models.warm_requests.queries import queue as warm_queue
from models.warm_requests.tables import RequestStatus

Build = Callable[[Request, Mapping[str, str], datetime], Awaitable[QuerySet[Any]]]
Order = Callable[[Mapping[str, str]], tuple[str, ...]]  # the fields a list is sorted by, id last

ENROLMENT_SORTS = {"-submitted_at": "最新提交", "submitted_at": "最早提交", "name": "姓名"}
_ENROLMENT_ORDER = {"-submitted_at": "-submitted_at", "submitted_at": "submitted_at", "name": "real_name"}
WARM_ASSIGNEES = {"me": "我的", "none": "未分派"}
WARM_SLA = {"on_track": "正常", "at_risk": "即将超时", "breached": "已超时", "paused": "暂停计时"}
OPEN_STATUS = "open"  # a warm request's status filter: every status still being worked on


def _choice(value: str, allowed: object) -> str | None:
    return value if value and value in allowed else None  # type: ignore[operator]


async def _enrolments(request: Request, chosen: Mapping[str, str], at: datetime) -> QuerySet[Any]:
    scope = request.ctx.scope
    status = _choice(chosen["status"], {s.value for s in EnrolmentStatus})
    queue = _choice(chosen["queue"], {q.value for q in EnrolmentQueue})
    org_id = optional_int(chosen["org_id"])
    if org_id is not None:
        await scope.require(org_id)
    query = reviewable_enrolments(
        scope,
        status=EnrolmentStatus(status) if status else None,
        org_id=org_id,
        is_gig_worker=optional_bool(chosen["gig"]),
        occupation=chosen["occupation"] or None,
        platform=chosen["platform"] or None,
        submitted_from=optional_date(chosen["from"]),
        submitted_to=optional_date(chosen["to"]),
        match=person_match(chosen["q"], request.app.ctx.cipher) if chosen["q"] else None,
        queue=EnrolmentQueue(queue) if queue else None,
        at=at,
    )
    return query


async def _warm_requests(request: Request, chosen: Mapping[str, str], at: datetime) -> QuerySet[Any]:
    status = _choice(chosen["status"], {s.value for s in RequestStatus})
    query = warm_queue(
        request.ctx.scope,
        request.ctx.staff,
        at=at,
        status=RequestStatus(status) if status else None,
        open_only=chosen["status"] == OPEN_STATUS,
        assignee=_choice(chosen["assignee"], WARM_ASSIGNEES),
        sla_state=_choice(chosen["sla"], WARM_SLA),
        request_type=_choice(chosen["type"], REQUEST_TYPES),
    )
    return query


async def _service_orders(request: Request, chosen: Mapping[str, str], at: datetime) -> QuerySet[Any]:
    status = _choice(chosen["status"], {s.value for s in OrderStatus})
    group = _choice(chosen["queue"], {q.value for q in OrderQueue})
    deadline = _choice(chosen["deadline"], {s.value for s in DEADLINE_FILTERS})
    query = order_queue(
        request.ctx.scope,
        status=OrderStatus(status) if status else None,
        q=chosen["q"][:100],
        group=OrderQueue(group) if group else None,
        deadline=SlaState(deadline) if deadline else None,
        at=at,
    )
    return query


async def _appeals(request: Request, chosen: Mapping[str, str], at: datetime) -> QuerySet[Any]:
    day_from, day_to = optional_date(chosen["from"]), optional_date(chosen["to"])
    status = _choice(chosen["status"], {s.value for s in AppealStatus})
    query = await staff_appeals(
        request.ctx.scope,
        topic=_choice(chosen["topic"], APPEAL_TOPICS),
        platform=_choice(chosen["platform"], PLATFORMS),
        status=AppealStatus(status) if status else None,
        day_from=day_from.date() if day_from else None,
        day_to=day_to.date() if day_to else None,
    )
    return query


@dataclass(frozen=True)
class Queue:
    path: str  # the list page
    filters: tuple[str, ...]  # the query arguments that select its rows (paging is not one)
    build: Build  # the rows, unordered
    order: Order
    case_path: str | None = None  # a case's page is case_path + id, when cases have one

    def chosen(self, args: Mapping[str, str]) -> dict[str, str]:
        return {name: (args.get(name) or "").strip() for name in self.filters}

    async def rows(self, request: Request, args: Mapping[str, str], at: datetime) -> QuerySet[Any]:
        chosen = self.chosen(args)
        return (await self.build(request, chosen, at)).order_by(*self.order(chosen))

    async def from_request(self, request: Request, at: datetime) -> tuple[dict[str, str], QuerySet[Any]]:
        chosen = args_of(request, self.filters)
        return chosen, (await self.build(request, chosen, at)).order_by(*self.order(chosen))

    async def adjacent(
        self, request: Request, args: Mapping[str, str], at: datetime, case_id: int, *, forward: bool
    ) -> int | None:
        """The case right after (or before) `case_id` in this list's order, found from the case's
        own sort values (keyset), so neither the whole queue is read nor the case need still be
        in it: after an action took it out, "after it" is where the caseworker was."""
        chosen = self.chosen(args)
        order = self.order(chosen)
        query = await self.build(request, chosen, at)
        names = [name.lstrip("-") for name in order]
        found = await query.model.filter(id=case_id).values(*names)
        if not found:
            return None
        beyond = []
        for index, name in enumerate(order):
            field, ascending = name.lstrip("-"), not name.startswith("-")
            same = {earlier: found[0][earlier] for earlier in names[:index]}
            beyond.append(Q(**same, **{f"{field}__{'gt' if ascending == forward else 'lt'}": found[0][field]}))
        walk = order if forward else tuple(name[1:] if name.startswith("-") else f"-{name}" for name in order)
        ids = await query.filter(Q(*beyond, join_type=Q.OR)).order_by(*walk).limit(1).values_list("id", flat=True)
        return ids[0] if ids else None

    def url(self, args: Mapping[str, str]) -> str:
        kept = {name: value for name, value in self.chosen(args).items() if value}
        return f"{self.path}?{urlencode(kept)}" if kept else self.path


def _oldest_first(chosen: Mapping[str, str]) -> tuple[str, ...]:
    return ("created_at", "id")


ENROLMENTS = Queue(
    "/admin/enrolments",
    ("queue", "status", "org_id", "gig", "occupation", "platform", "q", "from", "to", "sort"),
    _enrolments,
    lambda chosen: (_ENROLMENT_ORDER.get(chosen["sort"], "-submitted_at"), "-id"),
    "/admin/enrolments/",
)
WARM_REQUESTS = Queue(
    "/admin/warm-requests",
    ("status", "assignee", "sla", "type"),
    _warm_requests,
    _oldest_first,
    "/admin/warm-requests/",
)
SERVICE_ORDERS = Queue(
    "/admin/service-orders",
    ("queue", "status", "deadline", "q"),
    _service_orders,
    _oldest_first,
    "/admin/service-orders/",
)
APPEALS = Queue(
    "/admin/appeals", ("topic", "platform", "status", "from", "to"), _appeals, lambda chosen: ("-submitted_at", "-id")
)
QUEUES = {queue.path: queue for queue in (ENROLMENTS, WARM_REQUESTS, SERVICE_ORDERS, APPEALS)}


def local_back(raw: str | None) -> str | None:
    """A list address to return to, only if it is one of our admin pages on this host: anything
    with a scheme or host, or outside /admin/, is dropped (no open redirect)."""
    if not raw or any(ch in raw for ch in "\\\r\n\t") or len(raw) > 2000:
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin/") or parts.path.startswith("//"):
        return None
    return raw


def with_back(href: str, back: str | None) -> str:
    """A case's address carrying the list to return to."""
    if not back:
        return href
    return f"{href}{'&' if '?' in href else '?'}back={quote(back, safe='/')}"


@dataclass(frozen=True)
class Neighbours:
    back: str | None  # the list the caseworker came from, if it is a queue of this case type
    prev: str | None
    next: str | None


def _queue_of(back: str | None, case_path: str) -> tuple[Queue, dict[str, str]] | None:
    if back is None:
        return None
    parts = urlsplit(back)
    queue = QUEUES.get(parts.path)
    if queue is None or queue.case_path != case_path:
        return None
    return queue, dict(parse_qsl(parts.query))


async def neighbours(request: Request, case_path: str, case_id: int, at: datetime) -> Neighbours:
    """The cases before and after this one in the queue named by `?back=`, as links that keep it."""
    back = local_back(request.args.get("back"))
    found = _queue_of(back, case_path)
    if found is None:
        return Neighbours(back, None, None)
    queue, args = found
    before = await queue.adjacent(request, args, at, case_id, forward=False)
    after = await queue.adjacent(request, args, at, case_id, forward=True)
    return Neighbours(
        back,
        with_back(f"{case_path}{before}", back) if before else None,
        with_back(f"{case_path}{after}", back) if after else None,
    )


async def after_action(request: Request, case_path: str, case_id: int, at: datetime, notice: str) -> str:
    """Where an action on a case sends the caseworker: the next case of the queue they came
    from (the one after it, else the first still in it; `done` names the case acted on), or back
    to that list saying the queue is done; without a queue, the case itself."""
    back = local_back((request.form or {}).get("back"))
    found = _queue_of(back, case_path)
    if found is None:
        return f"{case_path}{case_id}?notice={notice}"
    queue, args = found
    following = await queue.adjacent(request, args, at, case_id, forward=True)
    if following is None:
        first = await (await queue.rows(request, args, at)).exclude(id=case_id).limit(1).values_list("id", flat=True)
        following = first[0] if first else None
    if following is None:
        return f"{back}{'&' if '?' in (back or '') else '?'}notice=queue_done"
    return with_back(f"{case_path}{following}?notice={notice}&done={case_id}", back)


def case_again(request: Request, case_path: str, case_id: int, error: str = "") -> str:
    """The case's own page again (saying what went wrong), keeping the queue the form came from."""
    href = f"{case_path}{case_id}" + (f"?error={quote(error)}" if error else "")
    return with_back(href, local_back((request.form or {}).get("back")))
