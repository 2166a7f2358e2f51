"""Saved filters per caseworker; the ID-tail index on profiles, applications and memberships,
filled for the rows stored before it (models/profiles/id_tails.py)."""

import logging

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


async def fill_id_tails(apps, schema_editor) -> None:
    from models.profiles.id_tails import fill_id_tail_keys
    from server.crypto import IdCipher
    from server.settings import load_settings

    settings = load_settings()
    cipher = IdCipher(settings.id_encryption_keys, settings.id_blind_index_key)
    filled = await fill_id_tail_keys(schema_editor.client, cipher)
    if filled:
        logging.getLogger("gonghui.migrations").info("ID tails filled: %s", dict(filled))



class Migration(migrations.Migration):
    dependencies = [('models', '0016_open_case_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SavedFilter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('models.StaffAccount', source_field='staff_id', db_constraint=True, to_field='id', related_name='saved_filters', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=40)),
                ('path', fields.CharField(max_length=64)),
                ('query', fields.CharField(default='', max_length=1000)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'saved_filters', 'app': 'models', 'unique_together': (('staff_id', 'name'),), 'pk_attr': 'id', 'table_description': 'A list filter kept by one caseworker under a name of their choosing.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Enrolment',
            name='id_tail_key',
            field=fields.CharField(default='', db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='Membership',
            name='id_tail_key',
            field=fields.CharField(default='', db_index=True, max_length=64),
        ),
        ops.AddField(
            model_name='WorkerProfile',
            name='id_tail_key',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.RunPython(fill_id_tails, ops.RunPython.noop),
    ]
