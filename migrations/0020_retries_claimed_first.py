"""The claim index leads with attempts: retries are claimed before first tries (server/dispatcher.py)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0019_delivery_claim_index')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='NotificationDelivery',
            name=None,
            fields=['status', 'due_at', 'id'],
        ),
        ops.AddIndex(
            model_name='NotificationDelivery',
            index=Index(fields=['status', 'attempts', 'due_at', 'id']),
        ),
    ]
