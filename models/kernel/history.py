"""One shape for "what happened to this case, when, by whom, why", for every case type.

Written only by `models.kernel.machine` (each transition, assignment and other step of a case),
read as the worker's timeline and the caseworker's history.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


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


async def history_of(case_type: str, case_id: int) -> list[CaseEvent]:
    """Oldest first."""
    return await CaseEvent.filter(case_type=case_type, case_id=case_id).order_by("id")
