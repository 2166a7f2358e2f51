"""Rest stations and the visits workers check in to."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.accounts import User
from models.orgs import Org
from models.scoping import Scoping


class Station(Model):
    id = fields.BigIntField(primary_key=True)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "models.Org", related_name="stations", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=64)
    address = fields.CharField(max_length=200)
    # GCJ-02 degrees, as wx.getLocation({type: 'gcj02'}) gives them; a double on both back ends.
    lat = fields.FloatField()
    lng = fields.FloatField()
    hours: dict[str, object] = fields.JSONField(default=dict)  # type: ignore[assignment]  # see hours.py
    amenities: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]  # catalogue codes
    contact_phone = fields.CharField(max_length=20, default="")
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    org_id: int

    class Meta:
        table = "stations"
        # The nearby search narrows by a latitude band on this index before computing distances.
        indexes = (("lat", "lng"), ("org_id", "active"))


class CheckIn(Model):
    """One visit: a worker scanned the station's code.

    `org_id` is the station's union at the time, so the visit (and its rating) stays with the
    union that served it."""

    SCOPING = Scoping(org="org_id", owner="user_id")
    id = fields.BigIntField(primary_key=True)
    station: fields.ForeignKeyRelation[Station] = fields.ForeignKeyField(
        "models.Station", related_name="check_ins", on_delete=fields.RESTRICT
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="station_check_ins", on_delete=fields.RESTRICT
    )
    org_id = fields.BigIntField()
    checked_in_at = fields.DatetimeField()

    station_id: int
    user_id: int

    class Meta:
        table = "station_check_ins"
        indexes = (("user_id", "station_id", "checked_in_at"), ("org_id", "checked_in_at"))
