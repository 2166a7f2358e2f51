"""The audit log: who did what to which object, when, from where, and what changed.

Every caseworker action writes one entry through `record`, inside the transaction of the action
itself, so an action and its audit entry exist together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    id = fields.BigIntField(primary_key=True)
    actor_kind = fields.CharField(max_length=8)
    actor_id = fields.BigIntField(null=True)
    actor_name = fields.CharField(max_length=64, default="")
    action = fields.CharField(max_length=64, db_index=True)
    object_type = fields.CharField(max_length=32, default="")
    object_id = fields.CharField(max_length=64, default="")
    org_id = fields.BigIntField(null=True, db_index=True)
    ip = fields.CharField(max_length=64, default="")
    request_id = fields.CharField(max_length=64, default="")
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_entries"


@dataclass(frozen=True)
class Actor:
    """Who is acting, and from where: built once per request by the auth layer."""

    kind: str
    id: int | None
    name: str
    ip: str = ""
    request_id: str = ""


async def record(
    actor: Actor,
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    org_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    return await AuditEntry.create(
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        org_id=org_id,
        ip=actor.ip,
        request_id=actor.request_id,
        before=before,
        after=after,
    )
