"""Who acts for which enterprise, and the lists of enterprises each kind of person sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.enterprises.tables import Enterprise, EnterpriseContact, EnterpriseStatus
from models.prepared import Prepared
from models.profiles.tables import WorkerProfile
from models.scope import ContactScope, StaffScope

_ACTING_FOR: Prepared[list[int]] = Prepared(
    lambda user_id: EnterpriseContact.filter(user_id=user_id).values_list("enterprise_id", flat=True)
)


async def contact_scope(user_id: int) -> ContactScope:
    """What a worker sees as a contact: the records of the enterprises they act for."""
    return ContactScope(frozenset(await _ACTING_FOR(user_id)))


def staff_enterprises(
    scope: StaffScope, *, status: EnterpriseStatus | None = None, q: str = ""
) -> QuerySet[Enterprise]:
    """The enterprises of the staff member's subtree, by status, by name or credit code."""
    query = scope.restrict(Enterprise.all())
    if status is not None:
        query = query.filter(status=status)
    if q.strip():
        text = q.strip()
        query = query.filter(Q(name__icontains=text) | Q(credit_code__icontains=text.upper()))
    return query


@dataclass(frozen=True)
class ContactView:
    user_id: int
    real_name: str
    phone: str
    joined_at: datetime
    invited: bool


async def contacts_of(enterprise_id: int) -> list[ContactView]:
    """An enterprise's contacts, first joined first, with the names from their profiles."""
    contacts = await EnterpriseContact.filter(enterprise_id=enterprise_id).order_by("joined_at", "id")
    profiles = {p.user_id: p for p in await WorkerProfile.filter(user_id__in=[c.user_id for c in contacts])}
    return [
        ContactView(
            user_id=c.user_id,
            real_name=profiles[c.user_id].real_name if c.user_id in profiles else "",
            phone=profiles[c.user_id].phone if c.user_id in profiles else "",
            joined_at=c.joined_at,
            invited=c.invited_by_id is not None,
        )
        for c in contacts
    ]
