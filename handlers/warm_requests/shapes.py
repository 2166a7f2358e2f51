"""What a request looks like over the API, to its worker and to caseworkers alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from models.kernel.history import CaseEvent
from models.orgs import org_names
from models.warm_requests.catalogue import labelled, request_type
from models.warm_requests.queries import conversation, timeline
from models.warm_requests.sla import SlaView, sla_views
from models.warm_requests.tables import STATUS_LABELS, RequestStatus, WarmMessage, WarmRequest
from server.http import LocalTime, Shape


class OrgRef(Shape):
    id: int
    name: str


class SlaOut(Shape):
    first_response_due_at: LocalTime | None
    resolution_due_at: LocalTime | None
    state: str = Field(description="on_track | at_risk | breached | paused | met")


class FieldOut(Shape):
    name: str
    label: str
    value: Any


class MessageOut(Shape):
    id: int
    author: str = Field(description="worker | union")
    author_name: str
    content: str
    asks_for_information: bool
    created_at: LocalTime


class TimelineItem(Shape):
    at: LocalTime
    action: str
    actor: str = Field(description="worker | union | system")
    note: str
    from_status: str
    to_status: str


class RequestOut(Shape):
    id: int
    type: str
    type_label: str
    status: RequestStatus
    status_label: str
    description: str
    org: OrgRef
    sla: SlaOut
    created_at: LocalTime
    resolved_at: LocalTime | None


class RequestDetail(RequestOut):
    fields: list[FieldOut]
    resolution: str
    messages: list[MessageOut]
    timeline: list[TimelineItem]


class RequestPage(Shape):
    items: list[RequestOut]
    total: int


def _actor(kind: str) -> str:
    return {"user": "worker", "staff": "union"}.get(kind, "system")


async def requests_out(requests: list[WarmRequest], at: datetime) -> list[RequestOut]:
    if not requests:
        return []
    names = await org_names({r.org_id for r in requests})
    views = await sla_views([r.id for r in requests], at)
    return [_out(r, names[r.org_id], views[r.id]) for r in requests]


def _out(request: WarmRequest, org_name: str, view: SlaView) -> RequestOut:
    return RequestOut(
        id=request.id,
        type=request.request_type,
        type_label=request_type(request.request_type).label,
        status=request.status,
        status_label=STATUS_LABELS[request.status],
        description=request.description,
        org=OrgRef(id=request.org_id, name=org_name),
        sla=SlaOut(
            first_response_due_at=view.first_response_due_at,
            resolution_due_at=view.resolution_due_at,
            state=view.state,
        ),
        created_at=request.created_at,
        resolved_at=request.resolved_at,
    )


def _message(message: WarmMessage) -> MessageOut:
    return MessageOut(
        id=message.id,
        author=_actor(message.author_kind),
        author_name=message.author_name,
        content=message.content,
        asks_for_information=message.asks_for_information,
        created_at=message.created_at,
    )


def _event(event: CaseEvent) -> TimelineItem:
    return TimelineItem(
        at=event.created_at,
        action=event.action,
        actor=_actor(event.actor_kind),
        note=event.note,
        from_status=event.from_status,
        to_status=event.to_status,
    )


async def request_detail(request: WarmRequest, at: datetime) -> RequestDetail:
    (summary,) = await requests_out([request], at)
    kind = request_type(request.request_type)
    return RequestDetail(
        **summary.model_dump(),
        fields=[FieldOut(**item) for item in labelled(kind, request.values)],
        resolution=request.resolution,
        messages=[_message(m) for m in await conversation(request.id)],
        timeline=[_event(e) for e in await timeline(request.id)],
    )
