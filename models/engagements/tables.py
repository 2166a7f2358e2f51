"""Long-term engagements of experts at enterprises, and their trainings."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enterprises.tables import Enterprise
from models.experts.tables import Expert
from models.orgs import Org
from models.scoping import Scoping


class Engagement(Model):
    """An expert's role at an enterprise from one date to another, recorded by a union admin."""

    SCOPING = Scoping(org="org_id", enterprise="enterprise_id")

    id = fields.BigIntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="engagements", on_delete=fields.RESTRICT
    )
    expert: fields.ForeignKeyRelation[Expert] = fields.ForeignKeyField(
        "models.Expert", related_name="engagements", on_delete=fields.RESTRICT
    )
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="engagements", on_delete=fields.RESTRICT
    )
    role = fields.CharField(max_length=64)  # e.g. 首席质量官
    starts_on = fields.DateField()
    ends_on = fields.DateField(null=True)
    order_id = fields.BigIntField(null=True)  # the service order it grew out of, if any
    created_by_id = fields.BigIntField()  # staff account
    created_at = fields.DatetimeField(auto_now_add=True)

    enterprise_id: int
    expert_id: int
    org_id: int

    class Meta:
        table = "engagements"


class Training(Model):
    """A training given under an engagement: topic, date and how many attended."""

    id = fields.BigIntField(primary_key=True)
    engagement: fields.ForeignKeyRelation[Engagement] = fields.ForeignKeyField(
        "models.Engagement", related_name="trainings", on_delete=fields.CASCADE
    )
    topic = fields.CharField(max_length=200)
    held_on = fields.DateField()
    attendees = fields.IntField(default=0)
    created_by_id = fields.BigIntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    engagement_id: int

    class Meta:
        table = "engagement_trainings"
