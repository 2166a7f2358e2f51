from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_notification_delivery')]

    initial = False

    operations = [
        ops.AddField(
            model_name='NotificationDelivery',
            name='consent_spent',
            field=fields.BooleanField(default=False),
        ),
    ]
