from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0014_staff_alerts")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ServedPlatform",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("org_id", fields.BigIntField(db_index=True)),
                ("platform", fields.CharField(max_length=32)),
            ],
            options={
                "table": "union_served_platforms",
                "app": "models",
                "unique_together": (("org_id", "platform"),),
                "indexes": [Index(fields=["platform", "org_id"])],
                "pk_attr": "id",
                "table_description": "A platform whose workers a union answers for (an industry union for 美团 riders, say).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ServiceArea",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("org_id", fields.BigIntField(unique=True)),
                ("lat", fields.FloatField()),
                ("lng", fields.FloatField()),
                ("radius_m", fields.IntField()),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "union_service_areas",
                "app": "models",
                "indexes": [Index(fields=["lat", "lng"])],
                "pk_attr": "id",
                "table_description": "The circle a union serves: a GCJ-02 centre and a radius in metres, one per union.",
            },
            bases=["Model"],
        ),
    ]
