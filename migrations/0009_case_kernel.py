"""The case kernel's tables: one history for every case type (enrolment history moves into it),
assignments, the round-robin cursor and ratings (models/kernel/)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.kernel.assignment import AssigneeKind, AssignmentState
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0008_kernel_jobs")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Assignment",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("case_type", fields.CharField(max_length=32)),
                ("case_id", fields.BigIntField()),
                ("org_id", fields.BigIntField(db_index=True)),
                (
                    "assignee_kind",
                    fields.CharEnumField(
                        description="STAFF: staff\nEXPERT: expert", enum_type=AssigneeKind, max_length=8
                    ),
                ),
                ("assignee_id", fields.BigIntField()),
                ("assignee_name", fields.CharField(default="", max_length=64)),
                (
                    "state",
                    fields.CharEnumField(
                        description="OFFERED: offered\nACTIVE: active\nDECLINED: declined\nEXPIRED: expired\nRELEASED: released\nREPLACED: replaced",
                        enum_type=AssignmentState,
                        max_length=10,
                    ),
                ),
                ("respond_by", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("end_note", fields.CharField(default="", max_length=200)),
            ],
            options={
                "table": "case_assignments",
                "app": "models",
                "indexes": [
                    Index(fields=["case_type", "case_id", "state"]),
                    Index(fields=["assignee_kind", "assignee_id", "state"]),
                    Index(fields=["state", "respond_by"]),
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
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
        ops.CreateModel(
            name="Rating",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("case_type", fields.CharField(max_length=32)),
                ("case_id", fields.BigIntField()),
                ("rater_user_id", fields.BigIntField()),
                ("service_kind", fields.CharField(max_length=32)),
                ("served_kind", fields.CharField(default="", max_length=16)),
                ("served_id", fields.BigIntField(null=True)),
                ("org_id", fields.BigIntField()),
                ("score", fields.SmallIntField()),
                ("comment", fields.CharField(default="", max_length=500)),
                ("tags", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("month", fields.CharField(max_length=7)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "ratings",
                "app": "models",
                "unique_together": (("case_type", "case_id", "rater_user_id"),),
                "indexes": [
                    Index(fields=["org_id", "service_kind", "month"]),
                    Index(fields=["served_kind", "served_id"]),
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="RotationCursor",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("org_id", fields.BigIntField(unique=True)),
                ("last_staff_id", fields.BigIntField(default=0)),
            ],
            options={
                "table": "rotation_cursors",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Where round-robin within a union's team stopped: the last staff member it chose.",
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
