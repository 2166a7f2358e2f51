"""Stored ID numbers, phones and region codes to their ASCII form (models/identity_repair.py)."""

import logging

from tortoise import migrations
from tortoise.migrations import operations as ops


async def repair_identities(apps, schema_editor) -> None:
    from models.profiles.identity_repair import repair_stored_identities
    from server.crypto import IdCipher
    from server.settings import load_settings

    settings = load_settings()
    cipher = IdCipher(settings.id_encryption_keys, settings.id_blind_index_key)
    report = await repair_stored_identities(schema_editor.client, cipher)
    if report.people_rekeyed or report.fixed or report.needs_review:
        logging.getLogger("gonghui.migrations").warning("identity repair: %s", report)


class Migration(migrations.Migration):
    dependencies = [("models", "0005_broadcast_errors")]

    initial = False

    operations = [ops.RunPython(repair_identities, ops.RunPython.noop)]
