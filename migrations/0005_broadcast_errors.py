from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications.tables import BroadcastStatus
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0004_list_indexes")]

    initial = False

    operations = [
        ops.AlterField(
            model_name="Broadcast",
            name="status",
            field=fields.CharEnumField(
                default=BroadcastStatus.QUEUED,
                description="QUEUED: queued\nEXPANDING: expanding\nSENT: sent\nFAILED: failed",
                enum_type=BroadcastStatus,
                max_length=16,
            ),
        ),
        ops.AddField(
            model_name="Broadcast",
            name="error",
            field=fields.CharField(null=True, max_length=255),
        ),
    ]
