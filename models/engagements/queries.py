"""Reading engagements: the staff's list (their subtree), an enterprise's for its contacts, and
each with its trainings and the names a reader needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tortoise.queryset import QuerySet

from models.engagements.tables import Engagement, Training
from models.enterprises.tables import Enterprise
from models.experts.tables import Expert
from models.scope import ContactScope, StaffScope


@dataclass
class EngagementView:
    engagement: Engagement
    enterprise_name: str
    expert_name: str
    expert_titles: list[str]
    trainings: list[Training] = field(default_factory=list)


def staff_engagements(
    scope: StaffScope, *, enterprise_id: int | None = None, expert_id: int | None = None
) -> QuerySet[Engagement]:
    query = scope.restrict(Engagement.all())
    if enterprise_id is not None:
        query = query.filter(enterprise_id=enterprise_id)
    if expert_id is not None:
        query = query.filter(expert_id=expert_id)
    return query


async def views_of(engagements: Sequence[Engagement]) -> list[EngagementView]:
    """Each engagement with its enterprise's and expert's names and its trainings (by date), in
    three queries whatever the number."""
    ids = [e.id for e in engagements]
    enterprises = dict(await Enterprise.filter(id__in={e.enterprise_id for e in engagements}).values_list("id", "name"))
    experts = {
        row[0]: row[1:]
        for row in await Expert.filter(id__in={e.expert_id for e in engagements}).values_list("id", "name", "titles")
    }
    trainings: dict[int, list[Training]] = {}
    for training in await Training.filter(engagement_id__in=ids).order_by("held_on", "id"):
        trainings.setdefault(training.engagement_id, []).append(training)
    return [
        EngagementView(
            engagement=e,
            enterprise_name=enterprises.get(e.enterprise_id, ""),
            expert_name=experts.get(e.expert_id, ("", []))[0],
            expert_titles=list(experts.get(e.expert_id, ("", []))[1] or []),
            trainings=trainings.get(e.id, []),
        )
        for e in engagements
    ]


async def engagement_view(scope: StaffScope, engagement_id: int) -> EngagementView:
    (view,) = await views_of([await scope.get(Engagement.all(), id=engagement_id)])
    return view


async def enterprise_engagements(contacts: ContactScope, enterprise_id: int) -> list[EngagementView]:
    """An enterprise's engagements for its contacts (404 for anyone else), newest first."""
    await contacts.get(Enterprise.all(), id=enterprise_id)
    return await views_of(await Engagement.filter(enterprise_id=enterprise_id).order_by("-starts_on", "-id"))
