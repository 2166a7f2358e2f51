"""What union admins record: an expert's long-term role at an enterprise, and the trainings given
under it. Both are audited in the same transaction; the enterprise and the expert must be in the
admin's subtree (outside it they do not exist for them), except the expert who did the order the
engagement follows, who may come from another union's roster."""

from __future__ import annotations

from datetime import date

from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.engagements.tables import Engagement, Training
from models.enterprises.tables import Enterprise
from models.errors import Invalid
from models.experts.tables import Expert
from models.scope import StaffScope
from models.service_orders.tables import ServiceOrder

ROLE_MAX = 64
TOPIC_MAX = 200
MAX_ATTENDEES = 100_000


def _text(value: str, field: str, limit: int, label: str) -> str:
    text = value.strip()
    if not text:
        raise Invalid(f"engagement.{field}_required", f"请填写{label}", {"field": field})
    if len(text) > limit:
        raise Invalid(f"engagement.{field}_too_long", f"{label}不能超过 {limit} 个字", {"field": field})
    return text


async def create_engagement(
    scope: StaffScope,
    *,
    enterprise_id: int,
    expert_id: int,
    role: str,
    starts_on: date,
    ends_on: date | None,
    order_id: int | None,
    actor: Actor,
) -> Engagement:
    """The engagement belongs to the enterprise's union, whose caseworkers follow it."""
    role = _text(role, "role", ROLE_MAX, "聘任角色")
    if ends_on is not None and ends_on < starts_on:
        raise Invalid("engagement.period", "结束日期不能早于开始日期", {"field": "ends_on"})
    enterprise = await scope.get(Enterprise.all(), id=enterprise_id)
    order = await scope.get(ServiceOrder.all(), id=order_id) if order_id is not None else None
    if order is not None and order.enterprise_id != enterprise.id:
        raise Invalid("engagement.order_mismatch", "该服务订单不是这家企业的", {"field": "order_id"})
    if order is not None and order.expert_id == expert_id:
        # The expert who did the order may be on another union's roster, serving this one.
        expert = await Expert.get(id=expert_id)
    else:
        expert = await scope.get(Expert.all(), id=expert_id)
    if not expert.active:
        raise Invalid("engagement.expert_inactive", "该专家已不在名册中", {"field": "expert_id"})
    async with in_transaction():
        engagement = await Engagement.create(
            enterprise_id=enterprise.id,
            expert_id=expert.id,
            org_id=enterprise.org_id,
            role=role,
            starts_on=starts_on,
            ends_on=ends_on,
            order_id=order_id,
            created_by_id=actor.id,
        )
        await record(
            actor,
            "engagement.create",
            object_type="engagement",
            object_id=engagement.id,
            org_id=engagement.org_id,
            after={
                "enterprise_id": enterprise.id,
                "expert_id": expert.id,
                "role": role,
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat() if ends_on else None,
                "order_id": order_id,
            },
        )
    return engagement


async def add_training(
    scope: StaffScope, engagement_id: int, *, topic: str, held_on: date, attendees: int, actor: Actor
) -> Training:
    """A training under an engagement, held within its period."""
    engagement = await scope.get(Engagement.all(), id=engagement_id)
    topic = _text(topic, "topic", TOPIC_MAX, "培训主题")
    if not 0 <= attendees <= MAX_ATTENDEES:
        raise Invalid("engagement.attendees", f"参加人数须在 0 到 {MAX_ATTENDEES} 之间", {"field": "attendees"})
    if held_on < engagement.starts_on or (engagement.ends_on is not None and held_on > engagement.ends_on):
        raise Invalid("engagement.training_outside_period", "培训日期不在聘任期内", {"field": "held_on"})
    async with in_transaction():
        training = await Training.create(
            engagement_id=engagement.id, topic=topic, held_on=held_on, attendees=attendees, created_by_id=actor.id
        )
        await record(
            actor,
            "engagement.training_add",
            object_type="engagement",
            object_id=engagement.id,
            org_id=engagement.org_id,
            after={"training_id": training.id, "topic": topic, "held_on": held_on.isoformat(), "attendees": attendees},
        )
    return training
