from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0007_kernel_timers")]

    initial = False

    operations = [
        ops.CreateModel(
            name="JobFailure",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("job", fields.CharField(max_length=48)),
                ("item_type", fields.CharField(max_length=48)),
                ("item_id", fields.CharField(max_length=64)),
                ("org_id", fields.BigIntField(null=True, db_index=True)),
                ("error", fields.TextField(unique=False)),
                ("attempts", fields.IntField(default=1)),
                ("first_seen_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_seen_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("resolved_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("resolved_by", fields.CharField(default="", max_length=64)),
                ("resolution", fields.CharField(default="", max_length=16)),
            ],
            options={
                "table": "job_failures",
                "app": "models",
                "unique_together": (("job", "item_type", "item_id"),),
                "indexes": [Index(fields=["resolved_at", "last_seen_at"])],
                "pk_attr": "id",
                "table_description": "An item a background job set aside with its error, or a round that failed, for staff.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="JobLease",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=48)),
                ("holder", fields.CharField(max_length=64)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "job_leases",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Which runner holds an exclusive job, until when.",
            },
            bases=["Model"],
        ),
        ops.DeleteModel(name="DispatcherLease"),
    ]
