"""Reading memberships: a person's active one, member lists and subtree figures."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.catalogue import OCCUPATIONS, PLATFORMS, label_of
from models.membership.tables import Membership, MembershipStatus, OrgMemberTally
from models.orgs import OrgClosure, in_subtree
from models.prepared import PreparedGet
from models.profiles.identity import ascii_form, is_ascii_digits
from models.scope import StaffScope


async def subtree_figures(org_id: int) -> dict[str, object]:
    rows = await OrgMemberTally.filter(org_id=org_id).values("dimension", "value", "members", "gig_members")
    total = next((row for row in rows if row["dimension"] == "all"), {"members": 0, "gig_members": 0})

    def breakdown(dimension: str, choices: dict[str, str]) -> list[dict[str, object]]:
        picked = [row for row in rows if row["dimension"] == dimension and row["members"] > 0]
        picked.sort(key=lambda row: (-row["members"], row["value"]))
        return [
            {
                "code": row["value"],
                "label": label_of(choices, row["value"]),
                "members": row["members"],
                "gig_members": row["gig_members"],
            }
            for row in picked
        ]

    return {
        "org_count": await OrgClosure.filter(ancestor_id=org_id).count(),
        "member_count": total["members"],
        "gig_member_count": total["gig_members"],
        "by_occupation": breakdown("occupation", OCCUPATIONS),
        "by_platform": breakdown("platform", PLATFORMS),
    }


async def active_membership(user_id: int, *, with_org: bool = False) -> Membership | None:
    """With `with_org`, its union read in the same statement (`membership.org`)."""
    if with_org:
        return await _ACTIVE_WITH_ORG.get_or_none(user_id)
    return await Membership.get_or_none(user_id=user_id, status=MembershipStatus.ACTIVE)


# Read on every GET /api/v1/me: the SQL written once (models/prepared.py).
_ACTIVE_WITH_ORG = PreparedGet(Membership, "user_id", "org", status=MembershipStatus.ACTIVE)


async def active_member_total(
    org_id: int, is_gig_worker: bool | None, occupation: str | None, platform: str | None
) -> int | None:
    """How many active members a subtree list holds, read from the tallies instead of counted
    (a count over a city's 860,000 members costs a quarter of a second). None when the filter
    is one the tallies do not keep (occupation and platform together)."""
    if occupation and platform:
        return None
    dimension, value = ("occupation", occupation) if occupation else ("platform", platform) if platform else ("all", "")
    tally = await OrgMemberTally.get_or_none(org_id=org_id, dimension=dimension, value=value)
    if tally is None:
        return 0
    if is_gig_worker is None:
        return tally.members
    return tally.gig_members if is_gig_worker else tally.members - tally.gig_members


@dataclass(frozen=True)
class MemberFilter:
    status: MembershipStatus | None = MembershipStatus.ACTIVE
    org_id: int | None = None
    is_gig_worker: bool | None = None
    occupation: str | None = None
    platform: str | None = None
    q: str | None = None  # a member number, or what `search` is made of
    search: Q | None = None  # a name, phone or ID number (tail), models/profiles/search.py


async def member_list(scope: StaffScope, chosen: MemberFilter) -> tuple[QuerySet[Membership], int]:
    """The members a staff member may list under the filter (unordered), and how many there are:
    from the tallies when they keep that figure, counted otherwise."""
    query = scope.restrict(Membership.all())
    if chosen.org_id is not None:
        await scope.require(chosen.org_id)
        query = in_subtree(query, chosen.org_id)
    filters = {
        "status": chosen.status,
        "is_gig_worker": chosen.is_gig_worker,
        "occupation": chosen.occupation,
        "platform": chosen.platform,
    }
    query = query.filter(**{key: value for key, value in filters.items() if value is not None})
    text = ascii_form(chosen.q or "").strip()
    if text:
        by_number = Q(member_no=text) if is_ascii_digits(text) else None
        found = [condition for condition in (by_number, chosen.search) if condition is not None]
        query = query.filter(Q(*found, join_type=Q.OR)) if found else query.filter(real_name__icontains=text)
    total = None
    if chosen.status == MembershipStatus.ACTIVE and not text:
        total = await active_member_total(
            chosen.org_id if chosen.org_id is not None else scope.org_id,
            chosen.is_gig_worker,
            chosen.occupation,
            chosen.platform,
        )
    return query, total if total is not None else await query.count()
