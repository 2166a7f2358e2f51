"""Warm-service requests, their conversation, and the unions' SLA policies."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.kernel.calendar import CalendarKind
from models.scoping import Scoping


class RequestStatus(StrEnum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_WORKER = "waiting_worker"
    RESOLVED = "resolved"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


STATUS_LABELS = {
    RequestStatus.SUBMITTED: "待受理",
    RequestStatus.ASSIGNED: "已分派",
    RequestStatus.IN_PROGRESS: "办理中",
    RequestStatus.WAITING_WORKER: "待补充",
    RequestStatus.RESOLVED: "已办结",
    RequestStatus.CLOSED: "已评价",
    RequestStatus.WITHDRAWN: "已撤回",
}
OPEN = frozenset(
    {RequestStatus.SUBMITTED, RequestStatus.ASSIGNED, RequestStatus.IN_PROGRESS, RequestStatus.WAITING_WORKER}
)


class WarmRequest(Model):
    SCOPING = Scoping(owner="user_id")

    id = fields.BigIntField(primary_key=True)
    user_id = fields.BigIntField(db_index=True)
    org_id = fields.BigIntField(db_index=True)  # the union whose queue it is in
    request_type = fields.CharField(max_length=16)
    description = fields.CharField(max_length=2000)
    values: dict[str, Any] = fields.JSONField(default=dict)  # type: ignore[assignment]
    lat = fields.FloatField(null=True)
    lng = fields.FloatField(null=True)
    status = fields.CharEnumField(RequestStatus, max_length=16, default=RequestStatus.SUBMITTED, db_index=True)
    assignee_id = fields.BigIntField(null=True, db_index=True)  # the staff member holding it
    resolution = fields.CharField(max_length=2000, default="")
    created_at = fields.DatetimeField(db_index=True)
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "warm_requests"
        indexes = (("org_id", "status"),)


class WarmMessage(Model):
    """One message of the conversation about a request, from the worker or from the union."""

    SCOPING = Scoping(org="org_id")

    id = fields.BigIntField(primary_key=True)
    request_id = fields.BigIntField(db_index=True)
    org_id = fields.BigIntField()
    author_kind = fields.CharField(max_length=8)  # user, staff
    author_name = fields.CharField(max_length=64, default="")
    content = fields.CharField(max_length=2000)
    asks_for_information = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "warm_messages"


class SlaPolicy(Model):
    """The targets of a union for one request type: the nearest policy up the tree applies."""

    id = fields.BigIntField(primary_key=True)
    org_id = fields.BigIntField()
    request_type = fields.CharField(max_length=16)
    calendar = fields.CharEnumField(CalendarKind, max_length=8)
    first_response_minutes = fields.IntField()
    resolution_minutes = fields.IntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sla_policies"
        unique_together = (("org_id", "request_type"),)
