"""Warm-service requests, their conversation and the SLA policies of unions (models/warm_requests/)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.kernel.calendar import CalendarKind
from models.warm_requests.tables import RequestStatus
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0011_appeals")]

    initial = False

    operations = [
        ops.CreateModel(
            name="SlaPolicy",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("org_id", fields.BigIntField()),
                ("request_type", fields.CharField(max_length=16)),
                (
                    "calendar",
                    fields.CharEnumField(
                        description="WORKDAYS: workdays\nALWAYS: 24x7", enum_type=CalendarKind, max_length=8
                    ),
                ),
                ("first_response_minutes", fields.IntField()),
                ("resolution_minutes", fields.IntField()),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "sla_policies",
                "app": "models",
                "unique_together": (("org_id", "request_type"),),
                "pk_attr": "id",
                "table_description": "The targets of a union for one request type: the nearest policy up the tree applies.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WarmMessage",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("request_id", fields.BigIntField(db_index=True)),
                ("org_id", fields.BigIntField()),
                ("author_kind", fields.CharField(max_length=8)),
                ("author_name", fields.CharField(default="", max_length=64)),
                ("content", fields.CharField(max_length=2000)),
                ("asks_for_information", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "warm_messages",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One message of the conversation about a request, from the worker or from the union.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WarmRequest",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("user_id", fields.BigIntField(db_index=True)),
                ("org_id", fields.BigIntField(db_index=True)),
                ("request_type", fields.CharField(max_length=16)),
                ("description", fields.CharField(max_length=2000)),
                ("values", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("lat", fields.FloatField(null=True)),
                ("lng", fields.FloatField(null=True)),
                (
                    "status",
                    fields.CharEnumField(
                        default=RequestStatus.SUBMITTED,
                        db_index=True,
                        description="SUBMITTED: submitted\nASSIGNED: assigned\nIN_PROGRESS: in_progress\nWAITING_WORKER: waiting_worker\nRESOLVED: resolved\nCLOSED: closed\nWITHDRAWN: withdrawn",
                        enum_type=RequestStatus,
                        max_length=16,
                    ),
                ),
                ("assignee_id", fields.BigIntField(null=True, db_index=True)),
                ("resolution", fields.CharField(default="", max_length=2000)),
                ("created_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("resolved_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "warm_requests",
                "app": "models",
                "indexes": [Index(fields=["org_id", "status"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
