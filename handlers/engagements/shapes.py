"""An engagement with its trainings, as union staff and the enterprise's contacts see it."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from models.engagements.queries import EngagementView
from server.http import LocalTime, Shape


class TrainingOut(Shape):
    id: int
    topic: str
    held_on: date
    attendees: int
    created_at: LocalTime


class EngagementOut(Shape):
    id: int
    enterprise_id: int
    enterprise_name: str
    expert_id: int
    expert_name: str
    expert_titles: list[str]
    org_id: int = Field(description="企业所属工会")
    role: str = Field(description="聘任角色，如 首席质量官")
    starts_on: date
    ends_on: date | None = Field(description="不填为长期")
    order_id: int | None = Field(description="由哪个服务订单而来")
    created_at: LocalTime
    trainings: list[TrainingOut]


class EngagementPage(Shape):
    items: list[EngagementOut]
    total: int


def engagement_out(view: EngagementView) -> EngagementOut:
    e = view.engagement
    return EngagementOut(
        id=e.id,
        enterprise_id=e.enterprise_id,
        enterprise_name=view.enterprise_name,
        expert_id=e.expert_id,
        expert_name=view.expert_name,
        expert_titles=view.expert_titles,
        org_id=e.org_id,
        role=e.role,
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        order_id=e.order_id,
        created_at=e.created_at,
        trainings=[TrainingOut.model_validate(t) for t in view.trainings],
    )
