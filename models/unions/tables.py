"""Whom a union serves beyond its members: the area around a centre point and the platforms it
answers for. Warm-service routing reads them (models/warm_requests/routing.py)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.scoping import Scoping


class ServiceArea(Model):
    """The circle a union serves: a GCJ-02 centre and a radius in metres, one per union."""

    SCOPING = Scoping(org="org_id")

    id = fields.BigIntField(primary_key=True)
    org_id = fields.BigIntField(unique=True)
    lat = fields.FloatField()
    lng = fields.FloatField()
    radius_m = fields.IntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "union_service_areas"
        # Routing narrows by the point's bounding box on this index before computing distances.
        indexes = (("lat", "lng"),)


class ServedPlatform(Model):
    """A platform whose workers a union answers for (an industry union for 美团 riders, say)."""

    SCOPING = Scoping(org="org_id")

    id = fields.BigIntField(primary_key=True)
    org_id = fields.BigIntField(db_index=True)
    platform = fields.CharField(max_length=32)

    class Meta:
        table = "union_served_platforms"
        unique_together = (("org_id", "platform"),)
        indexes = (("platform", "org_id"),)


class PresetReason(Model):
    """A reason a union keeps ready for its caseworkers forms (常用驳回原因 and the like): its kind,
    its text and its place in the list. A union without reasons of a kind uses its nearest
    ancestors (models/unions/reasons.py)."""

    SCOPING = Scoping(org="org_id")

    id = fields.BigIntField(primary_key=True)
    org_id = fields.BigIntField()
    kind = fields.CharField(max_length=16)
    text = fields.CharField(max_length=200)
    position = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "preset_reasons"
        indexes = (("org_id", "kind", "position"),)
