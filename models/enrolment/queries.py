"""Reading applications: the worker's own, the caseworker's review queue and its figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.accounts import User
from models.catalogue import OCCUPATIONS, PLATFORMS, label_of
from models.enrolment.tables import REVIEWABLE, Enrolment, EnrolmentStatus
from models.errors import NotFound
from models.kernel.history import CaseEvent
from models.orgs import in_subtree
from models.prepared import PreparedPage, counted_page
from models.scope import StaffScope, WorkerScope
from server.clock import now

REVIEW_DUE = timedelta(days=3)


class EnrolmentQueue(StrEnum):
    """The review queues. Pending: waiting for a caseworker (submitted, or resubmitted after a
    return). Overdue: pending and waiting longer than `REVIEW_DUE` since the (last) submission,
    which a resubmission restarts."""

    PENDING = "pending"
    OVERDUE = "overdue"


QUEUE_LABELS = {EnrolmentQueue.PENDING: "待审核", EnrolmentQueue.OVERDUE: "超过 3 天未审核"}


def in_queue(query: QuerySet[Enrolment], queue: EnrolmentQueue, at: datetime | None) -> QuerySet[Enrolment]:
    """The one rule for what is pending or overdue at the instant `at` (which only overdue needs):
    the desk's counts and the lists they open both come through here."""
    query = query.filter(status__in=list(REVIEWABLE))
    if queue is EnrolmentQueue.OVERDUE:
        if at is None:
            raise ValueError("overdue is decided at an instant")
        query = query.filter(submitted_at__lt=at - REVIEW_DUE)
    return query


_OWN_PAGE: PreparedPage[Enrolment] = PreparedPage(lambda user_id: WorkerScope(user_id).restrict(Enrolment.all()), "-id")


async def own_page(user: User, *, offset: int, limit: int) -> tuple[list[Enrolment], int]:
    """The worker's own applications, newest first, and how many there are."""
    return await _OWN_PAGE(user.id, offset=offset, limit=limit)


async def own_enrolment(user: User, enrolment_id: int) -> Enrolment:
    found = await own_query(user, enrolment_id).first()
    if found is None:
        raise not_found(enrolment_id)
    return found


def own_query(user: User, enrolment_id: int) -> QuerySet[Enrolment]:
    return WorkerScope(user.id).restrict(Enrolment.filter(id=enrolment_id))


def not_found(enrolment_id: int) -> NotFound:
    return NotFound("enrolment.not_found", "入会申请不存在", {"id": enrolment_id})


def reviewable_enrolments(
    scope: StaffScope,
    *,
    status: EnrolmentStatus | None = None,
    org_id: int | None = None,
    is_gig_worker: bool | None = None,
    occupation: str | None = None,
    platform: str | None = None,
    submitted_from: datetime | None = None,
    submitted_to: datetime | None = None,
    match: Q | None = None,
    queue: EnrolmentQueue | None = None,
    at: datetime | None = None,
) -> QuerySet[Enrolment]:
    """The caseworker's applications by filter; `queue` (pending or overdue at the instant `at`)
    narrows further, so a status filter beside it can only select within the queue; `match` is
    what the search box found (models/profiles/search.py)."""
    query = scope.restrict(Enrolment.all())
    if queue is not None:
        query = in_queue(query, queue, at)
    if org_id is not None:
        query = in_subtree(query, org_id)
    filters = {
        "status": status,
        "is_gig_worker": is_gig_worker,
        "occupation": occupation,
        "platform": platform,
        "submitted_at__gte": submitted_from,
        "submitted_at__lt": submitted_to,
    }
    query = query.filter(**{key: value for key, value in filters.items() if value is not None})
    return query.filter(match) if match is not None else query


def _reviewable(
    subtree_root: int | None,
    status: EnrolmentStatus | None,
    org_id: int | None,
    is_gig_worker: bool | None,
    occupation: str | None,
    platform: str | None,
    submitted_from: datetime | None,
    submitted_to: datetime | None,
    queue: EnrolmentQueue | None,
    match: Q | None = None,
    at: datetime | None = None,
) -> QuerySet[Enrolment]:
    """`reviewable_enrolments` from values a prepared query can take (the scope as its root)."""
    return reviewable_enrolments(
        StaffScope.below(subtree_root),
        status=status,
        org_id=org_id,
        is_gig_worker=is_gig_worker,
        occupation=occupation,
        platform=platform,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        match=match,
        queue=queue,
        at=at,
    )


REVIEW_SORTS = ("submitted_at", "-submitted_at", "real_name", "-real_name")
_REVIEWABLE_PAGES = {sort: PreparedPage(_reviewable, sort, "-id") for sort in REVIEW_SORTS}


async def reviewable_page(
    scope: StaffScope,
    *,
    sort: str,
    offset: int,
    limit: int,
    status: EnrolmentStatus | None = None,
    org_id: int | None = None,
    is_gig_worker: bool | None = None,
    occupation: str | None = None,
    platform: str | None = None,
    submitted_from: datetime | None = None,
    submitted_to: datetime | None = None,
    match: Q | None = None,
    queue: EnrolmentQueue | None = None,
    at: datetime | None = None,
) -> tuple[list[Enrolment], int]:
    """A page of `reviewable_enrolments` by `sort` (one of `REVIEW_SORTS`, then newest id) and
    the total. Without a search or the overdue queue (an instant of its own) both queries are
    prepared."""
    values = (
        scope.subtree_root, status, org_id, is_gig_worker, occupation, platform, submitted_from, submitted_to, queue
    )  # fmt: skip
    if match is None and queue is not EnrolmentQueue.OVERDUE:
        return await _REVIEWABLE_PAGES[sort](*values, offset=offset, limit=limit)
    query = _reviewable(*values, match=match, at=at)
    return await counted_page(query, sort, "-id", offset=offset, limit=limit)


@dataclass(frozen=True)
class SubmittedNote:
    at: datetime
    resubmission: bool
    note: str


def submission_notes(enrolment: Enrolment, history: list[CaseEvent]) -> list[SubmittedNote]:
    """What the applicant wrote with each submission, oldest first: the application's own note
    for the first (applications from before notes were kept per step have the latest one
    there), then each resubmission's step."""
    steps = [event for event in history if event.action in {"submit", "resubmit"}]
    if not steps:
        return [SubmittedNote(enrolment.submitted_at, False, enrolment.note)]
    return [
        SubmittedNote(event.created_at, event.action == "resubmit", enrolment.note if n == 0 else event.note)
        for n, event in enumerate(steps)
    ]


def occupation_label(enrolment: Enrolment) -> str:
    return label_of(OCCUPATIONS, enrolment.occupation, enrolment.occupation_other)


def platform_label(enrolment: Enrolment) -> str:
    return label_of(PLATFORMS, enrolment.platform, enrolment.platform_other)


async def weekly_submissions(scope: StaffScope, weeks: int = 8) -> list[tuple[str, int]]:
    """Applications per week, oldest first, labelled by the week's Monday."""
    today = now().date()
    monday = today - timedelta(days=today.weekday())
    found = []
    for back in range(weeks - 1, -1, -1):
        start = datetime.combine(monday - timedelta(weeks=back), time.min, tzinfo=now().tzinfo)
        count = await scope.restrict(
            Enrolment.filter(submitted_at__gte=start, submitted_at__lt=start + timedelta(weeks=1))
        ).count()
        found.append((start.strftime("%m-%d"), count))
    return found
