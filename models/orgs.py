"""The union tree.

Unions form a tree from the province down to grassroots unions. "This node's whole subtree" is
the question asked on every caseworker request and by every figure, so the tree keeps a closure
table (one row per ancestor/descendant pair, the node itself included): a subtree is one indexed
lookup at any depth, on SQLite and PostgreSQL alike, with no recursive query and no
collation-dependent path prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from tortoise import fields
from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.prepared import Prepared
from models.scoping import Scoping


class OrgType(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    TOWN = "town"
    ENTERPRISE = "enterprise"
    PARK = "park"
    PLATFORM = "platform"
    INDUSTRY = "industry"


ORG_TYPE_LABELS: dict[OrgType, str] = {
    OrgType.PROVINCE: "省总工会",
    OrgType.CITY: "市总工会",
    OrgType.DISTRICT: "区县总工会",
    OrgType.TOWN: "镇街工会",
    OrgType.ENTERPRISE: "企业工会",
    OrgType.PARK: "园区工会",
    OrgType.PLATFORM: "平台企业工会",
    OrgType.INDUSTRY: "行业工会",
}


class Org(Model):
    SCOPING = Scoping(org="id")

    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=100)
    org_type = fields.CharEnumField(OrgType, max_length=16)
    region_code = fields.CharField(max_length=12, db_index=True)
    parent: fields.ForeignKeyNullableRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    depth = fields.SmallIntField(default=0)
    accepts_members = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    parent_id: int | None

    class Meta:
        table = "orgs"


class OrgClosure(Model):
    id = fields.BigIntField(primary_key=True)
    ancestor: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name=False, on_delete=fields.CASCADE
    )
    descendant: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name=False, on_delete=fields.CASCADE, db_index=True
    )
    distance = fields.SmallIntField()

    ancestor_id: int
    descendant_id: int

    class Meta:
        table = "org_closure"
        unique_together = (("ancestor", "descendant"),)


async def create_org(
    *,
    name: str,
    org_type: OrgType,
    region_code: str,
    parent: Org | None = None,
    accepts_members: bool = False,
) -> Org:
    async with in_transaction():
        org = await Org.create(
            name=name,
            org_type=org_type,
            region_code=region_code,
            parent=parent,
            depth=0 if parent is None else parent.depth + 1,
            accepts_members=accepts_members,
        )
        links = [OrgClosure(ancestor_id=org.id, descendant_id=org.id, distance=0)]
        if parent is not None:
            async for above in OrgClosure.filter(descendant_id=parent.id):
                links.append(
                    OrgClosure(
                        ancestor_id=above.ancestor_id,
                        descendant_id=org.id,
                        distance=above.distance + 1,
                    )
                )
        await OrgClosure.bulk_create(links)
    return org


def subtree_ids(root_id: int) -> Subquery:
    """The ids of `root_id` and everything below it, as a subquery for `__in` filters."""
    return Subquery(OrgClosure.filter(ancestor_id=root_id).values("descendant_id"))


def in_subtree(queryset: QuerySet, root_id: int, org_field: str = "org_id") -> QuerySet:
    return queryset.filter(**{f"{org_field}__in": subtree_ids(root_id)})


async def is_within(root_id: int, org_id: int) -> bool:
    return await OrgClosure.exists(ancestor_id=root_id, descendant_id=org_id)


_ANCESTORS: Prepared[list[Org]] = Prepared(
    lambda org_id: Org.filter(id__in=Subquery(OrgClosure.filter(descendant_id=org_id).values("ancestor_id"))).order_by(
        "depth"
    )
)
_CHILD_COUNTS: Prepared[list[tuple[int, int]]] = Prepared(
    lambda org_ids: (
        Org.filter(parent_id__in=org_ids)
        .annotate(count=Count("id"))
        .group_by("parent_id")
        .values_list("parent_id", "count")
    )
)
_NAMES: Prepared[list[tuple[int, str]]] = Prepared(lambda org_ids: Org.filter(id__in=org_ids).values_list("id", "name"))


async def ancestors(org_id: int) -> list[Org]:
    """From the root down to the org itself."""
    return await _ANCESTORS(org_id)


async def child_counts(org_ids: list[int]) -> dict[int, int]:
    if not org_ids:
        return {}
    return dict(await _CHILD_COUNTS(org_ids))


async def org_names(org_ids: Iterable[int | None]) -> dict[int, str]:
    """Each org's name by id (None, for a case without an org, is skipped)."""
    wanted = sorted({org_id for org_id in org_ids if org_id is not None})
    return dict(await _NAMES(wanted)) if wanted else {}


async def browse(
    *,
    parent_id: int | None,
    q: str | None,
    accepts_members: bool | None,
    offset: int,
    limit: int,
) -> tuple[list[Org], int]:
    """The tree one level at a time (roots when no parent), or, with a filter and no parent, the
    whole tree: the mini-program's "which union can I join" is `accepts_members` alone."""
    query = Org.all()
    if q:
        query = query.filter(name__icontains=q)
        if parent_id is not None:
            query = in_subtree(query, parent_id, "id")
    elif parent_id is not None:
        query = query.filter(parent_id=parent_id)
    elif accepts_members is None:
        query = query.filter(parent_id=None)
    if accepts_members is not None:
        query = query.filter(accepts_members=accepts_members)
    total = await query.count()
    orgs = await query.order_by("depth", "id").offset(offset).limit(limit)
    return orgs, total
