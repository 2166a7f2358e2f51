"""Saved filters: a caseworker keeps a list's filter under a name and opens it again from the
list or the desk. A filter is the list's address and its query string, nothing else: opening one
runs the list as it stands, through the caseworker's scope, so a saved filter never shows more
than the list would. Each caseworker sees, saves and deletes only their own; saving and deleting
are audited."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.accounts import StaffAccount
from models.audit import Actor, record
from models.errors import Invalid, NotFound

NAME_MAX = 40
QUERY_MAX = 1000
PER_CASEWORKER = 50


class SavedFilter(Model):
    """A list filter kept by one caseworker under a name of their choosing."""

    id = fields.BigIntField(primary_key=True)
    staff: fields.ForeignKeyRelation[StaffAccount] = fields.ForeignKeyField(
        "models.StaffAccount", related_name="saved_filters", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=NAME_MAX)
    path = fields.CharField(max_length=64)  # the list page, say /admin/enrolments
    query = fields.CharField(max_length=QUERY_MAX, default="")  # its query string, urlencoded
    created_at = fields.DatetimeField(auto_now_add=True)

    staff_id: int

    class Meta:
        table = "saved_filters"
        unique_together = (("staff_id", "name"),)

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


def saved_by(staff: StaffAccount, path: str | None = None) -> QuerySet[SavedFilter]:
    """The caseworker's own filters, of one list or of all, by name."""
    query = SavedFilter.filter(staff_id=staff.id)
    return (query.filter(path=path) if path else query).order_by("name", "id")


async def save(staff: StaffAccount, name: str, path: str, query: str, actor: Actor) -> SavedFilter:
    """Keep `path?query` under `name`; the same name again replaces what it held."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid("saved_filter.name", f"请填写筛选条件的名称（不超过 {NAME_MAX} 个字）", {"field": "name"})
    if len(query) > QUERY_MAX:
        raise Invalid("saved_filter.too_long", "筛选条件过长，无法保存", {"field": "query"})
    async with in_transaction():
        found = await SavedFilter.filter(staff_id=staff.id, name=name).select_for_update().first()
        before = {"path": found.path, "query": found.query} if found else None
        if found is None:
            if await SavedFilter.filter(staff_id=staff.id).count() >= PER_CASEWORKER:
                raise Invalid("saved_filter.too_many", f"最多保存 {PER_CASEWORKER} 个筛选条件，请先删除不用的")
            found = await SavedFilter.create(staff_id=staff.id, name=name, path=path, query=query)
        else:
            await found.update_from_dict({"path": path, "query": query}).save()
        await record(
            actor,
            "saved_filter.save",
            object_type="saved_filter",
            object_id=found.id,
            org_id=staff.org_id,
            before=before,
            after={"name": name, "path": path, "query": query},
        )
    return found


async def delete(staff: StaffAccount, filter_id: int, actor: Actor) -> SavedFilter:
    """Delete one of the caseworker's own filters; anyone else's is not found."""
    async with in_transaction():
        found = await SavedFilter.filter(id=filter_id, staff_id=staff.id).select_for_update().first()
        if found is None:
            raise NotFound("saved_filter.not_found", "筛选条件不存在", {"id": filter_id})
        await found.delete()
        await record(
            actor,
            "saved_filter.delete",
            object_type="saved_filter",
            object_id=filter_id,
            org_id=staff.org_id,
            before={"name": found.name, "path": found.path, "query": found.query},
        )
    return found
