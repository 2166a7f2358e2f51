"""Who acts for which enterprise."""

from __future__ import annotations

from models.enterprises.tables import EnterpriseContact
from models.scope import ContactScope


async def contact_scope(user_id: int) -> ContactScope:
    """What a worker sees as a contact: the records of the enterprises they act for."""
    enterprise_ids = await EnterpriseContact.filter(user_id=user_id).values_list("enterprise_id", flat=True)
    return ContactScope(frozenset(enterprise_ids))
