"""Workers' demands (职工诉求) and the union's replies (models/appeals/)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.appeals.tables import AppealStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0010_stations")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Appeal",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="appeals",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "org",
                    fields.ForeignKeyField(
                        "models.Org",
                        source_field="org_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="appeals",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("topic", fields.CharField(max_length=32)),
                ("content", fields.CharField(max_length=1000)),
                ("platform", fields.CharField(default="none", max_length=32)),
                ("employer", fields.CharField(default="", max_length=64)),
                ("anonymous", fields.BooleanField(default=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=AppealStatus.SUBMITTED,
                        description="SUBMITTED: submitted\nREPLIED: replied\nTAKEN_UP: taken_up",
                        enum_type=AppealStatus,
                        max_length=16,
                    ),
                ),
                ("month", fields.CharField(max_length=7)),
                ("submitted_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("replied_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("taken_up_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "appeals",
                "app": "models",
                "indexes": [
                    Index(fields=["org_id", "submitted_at"]),
                    Index(fields=["org_id", "topic", "platform", "month"]),
                    Index(fields=["user_id", "id"]),
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AppealReply",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "appeal",
                    fields.ForeignKeyField(
                        "models.Appeal",
                        source_field="appeal_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="replies",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("org_id", fields.BigIntField()),
                ("content", fields.CharField(max_length=1000)),
                ("staff_id", fields.BigIntField(null=True)),
                ("staff_name", fields.CharField(max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "appeal_replies",
                "app": "models",
                "indexes": [Index(fields=["appeal_id", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
