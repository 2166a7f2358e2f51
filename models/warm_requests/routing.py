"""Which union answers a request, first found of:

1. the union the worker chose;
2. the worker's own union, if they are a member;
3. the union serving where the worker is (the deepest whose service area holds their location);
4. the union answering for the worker's platform in their city (the highest one there);
5. their city's union (the city in their profile, written with or without 市);
6. the province.

Areas and platforms are kept by union admins (models/unions/service_area.py)."""

from __future__ import annotations

from models.errors import NotFound
from models.membership.queries import active_membership
from models.orgs import Org
from models.profiles.tables import WorkerProfile
from models.unions.service_area import platform_union, union_at


def _city_union_names(city: str) -> list[str]:
    """A profile says "深圳" or "深圳市"; the union is "深圳市总工会" (or, for some, "深圳总工会")."""
    base = city.strip().removesuffix("市")
    return [f"{base}市总工会", f"{base}总工会"]


async def responsible_union(user_id: int, chosen_org_id: int | None, location: tuple[float, float] | None) -> Org:
    if chosen_org_id is not None:
        chosen = await Org.get_or_none(id=chosen_org_id)
        if chosen is None:
            raise NotFound("org.not_found", "该工会组织不存在", {"org_id": chosen_org_id})
        return chosen
    membership = await active_membership(user_id)
    if membership is not None:
        return await Org.get(id=membership.org_id)
    if location is not None and (nearby := await union_at(*location)) is not None:
        return nearby
    profile = await WorkerProfile.get_or_none(user_id=user_id)
    city_union = None
    if profile is not None and profile.city.strip():
        city_union = await Org.filter(name__in=_city_union_names(profile.city)).order_by("depth", "id").first()
    if city_union is not None:
        if profile is not None and (platform := await platform_union(city_union.id, profile.platform)) is not None:
            return platform
        return city_union
    return await Org.filter(parent_id=None).order_by("id").first()  # type: ignore[return-value]
