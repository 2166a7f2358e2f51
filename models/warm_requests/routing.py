"""Which union answers a request: the worker's own union if they are a member, else the union
they chose, else the city union of the city in their profile, else the province's."""

from __future__ import annotations

from models.errors import NotFound
from models.membership.queries import active_membership
from models.orgs import Org
from models.profiles.tables import WorkerProfile


async def responsible_union(user_id: int, chosen_org_id: int | None) -> Org:
    if chosen_org_id is not None:
        chosen = await Org.get_or_none(id=chosen_org_id)
        if chosen is None:
            raise NotFound("org.not_found", "该工会组织不存在", {"org_id": chosen_org_id})
        return chosen
    membership = await active_membership(user_id)
    if membership is not None:
        return await Org.get(id=membership.org_id)
    profile = await WorkerProfile.get_or_none(user_id=user_id)
    if profile is not None and profile.city:
        city_union = await Org.filter(name=f"{profile.city.strip()}总工会").order_by("depth").first()
        if city_union is not None:
            return city_union
    return await Org.filter(parent_id=None).order_by("id").first()  # type: ignore[return-value]
