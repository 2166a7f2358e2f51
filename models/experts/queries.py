"""Finding experts."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from models.experts.tables import Expert
from models.orgs import in_subtree
from models.scope import StaffScope


async def expert_of_user(user_id: int) -> Expert | None:
    """The roster entry a WeChat account is bound to, if it is an active expert's."""
    return await Expert.get_or_none(user_id=user_id, active=True)


async def roster(
    scope: StaffScope,
    *,
    q: str = "",
    industry: str | None = None,
    skill: str | None = None,
    org_id: int | None = None,
    active: bool | None = None,
) -> QuerySet[Expert]:
    """The experts of the staff member's subtree (or of the part under `org_id`, which the caller
    has checked is in scope), by name, industry and skill.

    Industries and skills are JSON lists, which SQLite and PostgreSQL search differently; the
    roster of a subtree is a few hundred rows, so those two filters read (id, list) pairs and
    narrow in Python, and the caller pages the ids that remain."""
    query = scope.restrict(Expert.all())
    if org_id is not None:
        query = in_subtree(query, org_id)
    if q.strip():
        query = query.filter(name__icontains=q.strip())
    if active is not None:
        query = query.filter(active=active)
    if industry or skill:
        rows = await query.values("id", "industries", "skills")
        query = Expert.filter(
            id__in=[
                row["id"]
                for row in rows
                if (not industry or industry in row["industries"]) and (not skill or skill in row["skills"])
            ]
        )
    return query
