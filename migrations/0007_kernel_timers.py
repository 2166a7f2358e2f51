from tortoise import migrations
from tortoise.migrations import operations as ops
from models.kernel.calendar import CalendarKind
from models.kernel.timers import TimerStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0006_identity_ascii")]

    initial = False

    operations = [
        ops.CreateModel(
            name="CalendarOverride",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("day", fields.DateField()),
                ("working", fields.BooleanField()),
                ("note", fields.CharField(default="", max_length=200)),
                (
                    "org",
                    fields.ForeignKeyField(
                        "models.Org",
                        source_field="org_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("org_key", fields.BigIntField()),
                ("entered_by_id", fields.BigIntField(null=True)),
                ("entered_by_name", fields.CharField(default="", max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "calendar_overrides",
                "app": "models",
                "unique_together": (("day", "org_key"),),
                "pk_attr": "id",
                "table_description": "A day an admin declares working or not, over the library: nationwide or for a union subtree.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SlaTimer",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("case_type", fields.CharField(max_length=32)),
                ("case_id", fields.BigIntField()),
                ("kind", fields.CharField(max_length=32)),
                (
                    "calendar",
                    fields.CharEnumField(
                        description="WORKDAYS: workdays\nALWAYS: 24x7", enum_type=CalendarKind, max_length=8
                    ),
                ),
                (
                    "org",
                    fields.ForeignKeyField(
                        "models.Org",
                        source_field="org_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("target_minutes", fields.IntField()),
                ("risk_percent", fields.SmallIntField(default=80)),
                ("on_breach", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                (
                    "status",
                    fields.CharEnumField(
                        description="RUNNING: running\nPAUSED: paused\nMET: met\nSTOPPED: stopped",
                        enum_type=TimerStatus,
                        max_length=8,
                    ),
                ),
                ("started_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("worked_seconds", fields.BigIntField(default=0)),
                ("segment_started_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("paused_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("risk_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("due_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("next_check_at", fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ("at_risk_alerted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("breach_alerted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("estimated", fields.BooleanField(default=False)),
                ("error", fields.TextField(null=True, unique=False)),
                ("error_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "sla_timers",
                "app": "models",
                "indexes": [Index(fields=["case_type", "case_id"])],
                "pk_attr": "id",
                "table_description": "A deadline of a case, counted in working time on the calendar of its org, or 24x7.",
            },
            bases=["Model"],
        ),
    ]
