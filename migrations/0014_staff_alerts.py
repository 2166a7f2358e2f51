from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0013_service_orders")]

    initial = False

    operations = [
        ops.CreateModel(
            name="StaffAlert",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("org_id", fields.BigIntField(db_index=True)),
                ("staff_id", fields.BigIntField(null=True, db_index=True)),
                ("kind", fields.CharField(max_length=48)),
                ("case_type", fields.CharField(max_length=32)),
                ("case_id", fields.BigIntField()),
                ("title", fields.CharField(max_length=100)),
                ("body", fields.CharField(max_length=500)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("read_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("read_by_id", fields.BigIntField(null=True)),
            ],
            options={
                "table": "staff_alerts",
                "app": "models",
                "indexes": [Index(fields=["org_id", "read_at"])],
                "pk_attr": "id",
                "table_description": "Something a union must look at: an offer declined or timed out, a deadline breached.",
            },
            bases=["Model"],
        ),
    ]
