"""One history table for every case type (models/kernel/history.py); enrolment history moves into it."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0006_identity_ascii")]

    initial = False

    operations = [
        ops.CreateModel(
            name="CaseEvent",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("case_type", fields.CharField(max_length=32)),
                ("case_id", fields.BigIntField()),
                ("action", fields.CharField(max_length=32)),
                ("from_status", fields.CharField(default="", max_length=24)),
                ("to_status", fields.CharField(default="", max_length=24)),
                ("actor_kind", fields.CharField(max_length=8)),
                ("actor_id", fields.BigIntField(null=True)),
                ("actor_name", fields.CharField(default="", max_length=64)),
                ("note", fields.CharField(default="", max_length=500)),
                ("data", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "case_events",
                "app": "models",
                "indexes": [Index(fields=["case_type", "case_id", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.RunSQL(
            "INSERT INTO case_events (case_type, case_id, action, from_status, to_status, actor_kind, actor_name,"
            " note, created_at) SELECT 'enrolment', enrolment_id, action, from_status, to_status, actor_kind,"
            " actor_name, reason, created_at FROM enrolment_events ORDER BY id"
        ),
        ops.DeleteModel(name="EnrolmentEvent"),
    ]
