from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0003_notifications")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Enrolment",
            index=Index(fields=["user_id", "status"]),
        ),
        ops.AddIndex(
            model_name="Membership",
            index=Index(fields=["user_id", "status"]),
        ),
        ops.AddIndex(
            model_name="Membership",
            index=Index(fields=["status", "joined_at"]),
        ),
    ]
