"""The one choke point for what a staff member may see.

Every admin list and lookup goes through `StaffScope`: `restrict` narrows a queryset to the
staff member's subtree, `get` fetches one object or raises `NotFound` (a record outside the
subtree is not theirs to see, so it does not exist for them). Handlers never filter by org
themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.accounts import StaffAccount, StaffRole
from models.errors import NotFound
from models.orgs import Org, in_subtree, is_within

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class StaffScope:
    org_id: int
    sees_everything: bool

    @classmethod
    def of(cls, staff: StaffAccount) -> StaffScope:
        return cls(org_id=staff.org_id, sees_everything=staff.role == StaffRole.SUPERADMIN)

    def restrict(self, queryset: QuerySet[M], org_field: str = "org_id") -> QuerySet[M]:
        if self.sees_everything:
            return queryset
        return in_subtree(queryset, self.org_id, org_field)

    async def get(self, queryset: QuerySet[M], org_field: str = "org_id", **lookup: object) -> M:
        found = await self.restrict(queryset, org_field).get_or_none(**lookup)
        if found is None:
            raise self.not_found(lookup)
        return found

    @staticmethod
    def not_found(lookup: dict[str, object]) -> NotFound:
        """What a record outside the subtree is to the staff member: one that does not exist."""
        return NotFound(
            "record.not_found", "记录不存在或不在您的管辖范围内", {"lookup": {k: str(v) for k, v in lookup.items()}}
        )

    async def contains(self, org_id: int) -> bool:
        if self.sees_everything:
            return await Org.exists(id=org_id)
        return await is_within(self.org_id, org_id)

    async def require(self, org_id: int) -> None:
        if not await self.contains(org_id):
            raise NotFound("org.not_found", "该工会组织不存在或不在您的管辖范围内", {"org_id": org_id})
