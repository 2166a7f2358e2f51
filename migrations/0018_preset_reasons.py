"""Preset reasons (常用原因) a union keeps for its caseworkers forms: models/unions/reasons.py."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0017_desk_lists')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PresetReason',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('org_id', fields.BigIntField()),
                ('kind', fields.CharField(max_length=16)),
                ('text', fields.CharField(max_length=200)),
                ('position', fields.IntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'preset_reasons', 'app': 'models', 'indexes': [Index(fields=['org_id', 'kind', 'position'])], 'pk_attr': 'id', 'table_description': 'A reason a union keeps ready for its caseworkers forms (常用驳回原因 and the like): its kind,'},
            bases=['Model'],
        ),
    ]
