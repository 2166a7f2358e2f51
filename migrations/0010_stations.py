"""Rest stations (工会驿站) and workers' check-ins at them (models/stations/)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0009_case_kernel")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Station",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "org",
                    fields.ForeignKeyField(
                        "models.Org",
                        source_field="org_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="stations",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("name", fields.CharField(max_length=64)),
                ("address", fields.CharField(max_length=200)),
                ("lat", fields.FloatField()),
                ("lng", fields.FloatField()),
                ("hours", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("amenities", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("contact_phone", fields.CharField(default="", max_length=20)),
                ("active", fields.BooleanField(default=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "stations",
                "app": "models",
                "indexes": [Index(fields=["lat", "lng"]), Index(fields=["org_id", "active"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CheckIn",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "station",
                    fields.ForeignKeyField(
                        "models.Station",
                        source_field="station_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="check_ins",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="station_check_ins",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("org_id", fields.BigIntField()),
                ("checked_in_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "station_check_ins",
                "app": "models",
                "indexes": [
                    Index(fields=["user_id", "station_id", "checked_in_at"]),
                    Index(fields=["org_id", "checked_in_at"]),
                ],
                "pk_attr": "id",
                "table_description": "One visit: a worker scanned the station's code.",
            },
            bases=["Model"],
        ),
    ]
