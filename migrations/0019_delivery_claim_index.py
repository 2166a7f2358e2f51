"""The claim's index reads deliveries in its own order, (status, due_at, id): server/dispatcher.py."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0018_preset_reasons')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='NotificationDelivery',
            name=None,
            fields=['status', 'due_at'],
        ),
        ops.AddIndex(
            model_name='NotificationDelivery',
            index=Index(fields=['status', 'due_at', 'id']),
        ),
    ]
