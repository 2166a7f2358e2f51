"""One shape for "what happened to this case, when, by whom, why", for every case type.

Written only by `models.kernel.machine` (each transition, assignment and other step of a case),
read as the worker's timeline and the caseworker's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.accounts import staff_names
from models.prepared import Prepared


class CaseEvent(Model):
    id = fields.BigIntField(primary_key=True)
    case_type = fields.CharField(max_length=32)
    case_id = fields.BigIntField()
    action = fields.CharField(max_length=32)
    from_status = fields.CharField(max_length=24, default="")
    to_status = fields.CharField(max_length=24, default="")
    actor_kind = fields.CharField(max_length=8)
    actor_id = fields.BigIntField(null=True)
    actor_name = fields.CharField(max_length=64, default="")
    note = fields.CharField(max_length=500, default="")
    data: dict[str, Any] | None = fields.JSONField(null=True)  # type: ignore[assignment]
    created_at = fields.DatetimeField()

    class Meta:
        table = "case_events"
        indexes = (("case_type", "case_id", "id"),)


_HISTORY: Prepared[list[CaseEvent]] = Prepared(
    lambda case_type, case_id: CaseEvent.filter(case_type=case_type, case_id=case_id).order_by("id")
)


async def history_of(case_type: str, case_id: int) -> list[CaseEvent]:
    """Oldest first."""
    return await _HISTORY(case_type, case_id)


@dataclass(frozen=True)
class Names:
    """Who took each step, as a caseworker knows them: staff by their display name (the history
    keeps the login name, which no colleague recognises), a worker by the name the domain lets
    staff see (`people`, by user id), else by their part in the case (`roles`, by actor kind)."""

    staff: Mapping[int, str]
    people: Mapping[int, str] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, event: CaseEvent) -> str:
        if event.actor_kind == "staff":
            return self.staff.get(event.actor_id or 0) or event.actor_name
        if event.actor_id is not None and event.actor_id in self.people:
            return self.people[event.actor_id]
        return self.roles.get(event.actor_kind, "系统")


async def names_for(
    events: list[CaseEvent], *, people: Mapping[int, str] | None = None, roles: Mapping[str, str] | None = None
) -> Names:
    """The names to show beside `events` (one query for the staff among them)."""
    staff = await staff_names(ids=(e.actor_id for e in events if e.actor_kind == "staff"))
    return Names({k: v for k, v in staff.items() if isinstance(k, int)}, people or {}, roles or {})
