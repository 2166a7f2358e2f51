"""Union admins shape the tree below them: add unions, rename them, open or close them to new
members. Every change is audited."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.errors import Forbidden, Invalid
from models.orgs import Org, OrgType, create_org
from models.profiles.identity import ascii_form, is_ascii_digits
from models.scope import StaffScope

# What a union added under a parent most likely is: the next level down the administrative
# ladder, and below a street, a park, a platform or an industry union, an enterprise's union.
# The add form offers it first; the admin still chooses.
LIKELY_CHILD_TYPE = {
    OrgType.PROVINCE: OrgType.CITY,
    OrgType.CITY: OrgType.DISTRICT,
    OrgType.DISTRICT: OrgType.TOWN,
}


def likely_child_type(parent: Org) -> OrgType:
    return LIKELY_CHILD_TYPE.get(parent.org_type, OrgType.ENTERPRISE)


def _check_name(name: str) -> str:
    name = name.strip()
    if not 2 <= len(name) <= 100:
        raise Invalid("org.name", "组织名称须为 2 至 100 个字", {"field": "name"})
    return name


async def add_child(
    scope: StaffScope,
    parent_id: int,
    name: str,
    org_type: OrgType,
    region_code: str,
    accepts_members: bool,
    actor: Actor,
) -> Org:
    parent = await scope.get(Org.all(), id=parent_id)
    if org_type == OrgType.PROVINCE:
        raise Invalid("org.type", "下级组织不能是省总工会", {"field": "org_type"})
    region_code = ascii_form(region_code).strip() or parent.region_code
    if not is_ascii_digits(region_code) or not 6 <= len(region_code) <= 12:
        raise Invalid("org.region_code", "行政区划代码应为 6 至 12 位数字", {"field": "region_code"})
    name = _check_name(name)
    async with in_transaction():
        org = await create_org(
            name=name, org_type=org_type, region_code=region_code, parent=parent, accepts_members=accepts_members
        )
        after = {"name": org.name, "org_type": org_type.value, "parent_id": parent.id}
        await record(actor, "org.create", object_type="org", object_id=org.id, org_id=org.id, after=after)
    return org


async def update(scope: StaffScope, org_id: int, name: str, accepts_members: bool, actor: Actor) -> Org:
    org = await scope.get(Org.all(), id=org_id)
    if org.id == scope.org_id and not scope.sees_everything and org.name != name.strip():
        raise Forbidden("org.own_name", "本级组织的名称请由上级工会修改")
    before = {"name": org.name, "accepts_members": org.accepts_members}
    org.name = _check_name(name)
    org.accepts_members = accepts_members
    async with in_transaction():
        await org.save(update_fields=["name", "accepts_members"])
        await record(
            actor,
            "org.update",
            object_type="org",
            object_id=org.id,
            org_id=org.id,
            before=before,
            after={"name": org.name, "accepts_members": org.accepts_members},
        )
    return org
