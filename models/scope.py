"""The one choke point for what a person may see.

Each model declares how it is scoped (`SCOPING = Scoping(org=..., owner=..., enterprise=...)`;
by default its `org_id`), and each kind of person has a scope that reads the declaration:
`StaffScope` (their subtree of the union tree), `WorkerScope` (their own records),
`ContactScope` (their enterprises' records); experts see the cases assigned to them
(`models.kernel.assignment.ExpertScope`). `restrict` narrows a queryset, `get` fetches one
object or raises `NotFound` (a record outside the scope is not theirs to see, so it does not
exist for them). Handlers never filter by org or owner themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.accounts import StaffAccount, StaffRole
from models.errors import NotFound
from models.orgs import Org, in_subtree, is_within
from models.scoping import scoping_of

M = TypeVar("M", bound=Model)


class Scope:
    """What one person may see: `restrict` narrows a queryset, `get` finds one record in it."""

    def restrict(self, queryset: QuerySet[M]) -> QuerySet[M]:
        raise NotImplementedError

    async def get(self, queryset: QuerySet[M], **lookup: object) -> M:
        found = await self.restrict(queryset).get_or_none(**lookup)
        if found is None:
            raise self.not_found(lookup)
        return found

    @staticmethod
    def not_found(lookup: dict[str, object]) -> NotFound:
        """What a record outside the scope is to its viewer: one that does not exist."""
        return NotFound(
            "record.not_found", "记录不存在或不在您的管辖范围内", {"lookup": {k: str(v) for k, v in lookup.items()}}
        )


@dataclass(frozen=True)
class WorkerScope(Scope):
    user_id: int

    def restrict(self, queryset: QuerySet[M]) -> QuerySet[M]:
        owner = scoping_of(queryset.model).owner
        if owner is None:
            raise TypeError(f"{queryset.model.__name__} declares no owner: workers cannot see it")
        return queryset.filter(**{owner: self.user_id})


@dataclass(frozen=True)
class ContactScope(Scope):
    enterprise_ids: frozenset[int]

    def restrict(self, queryset: QuerySet[M]) -> QuerySet[M]:
        enterprise = scoping_of(queryset.model).enterprise
        if enterprise is None:
            raise TypeError(f"{queryset.model.__name__} declares no enterprise: contacts cannot see it")
        return queryset.filter(**{f"{enterprise}__in": list(self.enterprise_ids)})


@dataclass(frozen=True)
class StaffScope(Scope):
    org_id: int
    sees_everything: bool

    @classmethod
    def of(cls, staff: StaffAccount) -> StaffScope:
        return cls(org_id=staff.org_id, sees_everything=staff.role == StaffRole.SUPERADMIN)

    @property
    def subtree_root(self) -> int | None:
        """The one value a prepared query needs of the scope: the root of the subtree it sees,
        None when it sees everything (a shape of its own: no subtree filter)."""
        return None if self.sees_everything else self.org_id

    @classmethod
    def below(cls, subtree_root: int | None) -> StaffScope:
        """The scope back from `subtree_root`."""
        return cls(org_id=subtree_root or 0, sees_everything=subtree_root is None)

    def restrict(self, queryset: QuerySet[M]) -> QuerySet[M]:
        if self.sees_everything:
            return queryset
        return in_subtree(queryset, self.org_id, scoping_of(queryset.model).org)

    async def contains(self, org_id: int) -> bool:
        if self.sees_everything:
            return await Org.exists(id=org_id)
        return await is_within(self.org_id, org_id)

    async def require(self, org_id: int) -> None:
        if not await self.contains(org_id):
            raise NotFound("org.not_found", "该工会组织不存在或不在您的管辖范围内", {"org_id": org_id})
