"""Re-seal stored ID numbers under the current key of `ID_ENCRYPTION_KEYS`, while the service runs.

Every ciphertext carries the id of its key (`id_key_id`), so the work left is always "the rows
under another key": a run walks each sealed table in primary-key order, in batches, one short
transaction per batch, and a run stopped halfway is resumed by running it again; once none is
left a run changes nothing. Each row is written only if it still holds the ciphertext that was
read (compare and set), so a profile the worker saves meanwhile, which the server seals under the
current key itself, is never overwritten with an older number. Blind indexes and masks do not
depend on the key and are not touched.

The procedure (docs/OPERATIONS.md): put the new key first in the ring of every server and job
runner, keep the old one behind it, restart them; run this; when it reports nothing left, the old
key may leave the ring.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.audit import Actor, record
from models.enrolment.tables import Enrolment
from models.profiles.tables import ID_CONTEXT, WorkerProfile
from server.crypto import IdCipher, KeyRingError, Sealed

# Every table holding a ciphertext of an ID number (as models/profiles/identity_repair.py SEALED).
SEALED_MODELS: tuple[type[Model], ...] = (WorkerProfile, Enrolment)
DEFAULT_BATCH = 500


@dataclass
class RotationReport:
    key_id: str
    resealed: Counter[str] = field(default_factory=Counter)  # table -> rows re-sealed by this run
    changed_meanwhile: int = 0  # rows rewritten by the service between our read and our write
    unreadable: list[str] = field(default_factory=list)  # "table:id" whose key is not in the ring
    remaining: dict[str, int] = field(default_factory=dict)  # table -> rows still under another key

    @property
    def done(self) -> bool:
        return not any(self.remaining.values())


async def rotate_id_key(
    cipher: IdCipher,
    actor: Actor,
    *,
    batch_size: int = DEFAULT_BATCH,
    pause_seconds: float = 0.0,
    progress: Callable[[str, int], None] | None = None,
) -> RotationReport:
    """One pass over every sealed table; `progress(table, rows)` after each batch, and a pause
    between batches to leave the database room for the service."""
    report = RotationReport(cipher.current_key_id)
    for model in SEALED_MODELS:
        table = model._meta.db_table
        last = 0
        while True:
            rows = (
                await model.filter(id__gt=last)
                .exclude(id_key_id=cipher.current_key_id)
                .order_by("id")
                .limit(batch_size)
                .values("id", "id_key_id", "id_ciphertext")
            )
            if not rows:
                break
            last = rows[-1]["id"]
            resealed = await _reseal_batch(model, rows, cipher, report)
            report.resealed[table] += resealed
            if progress:
                progress(table, resealed)
            if pause_seconds:
                await asyncio.sleep(pause_seconds)
        report.remaining[table] = await model.exclude(id_key_id=cipher.current_key_id).count()
    if report.resealed.total():
        await record(
            actor,
            "identity.key_rotated",
            object_type="id_encryption_key",
            object_id=report.key_id,
            after={"resealed": dict(report.resealed), "remaining": report.remaining},
        )
    return report


async def _reseal_batch(model: type[Model], rows: list[dict], cipher: IdCipher, report: RotationReport) -> int:
    resealed = 0
    async with in_transaction():
        for row in rows:
            old = Sealed(row["id_key_id"], row["id_ciphertext"])
            try:
                number = cipher.open(old, ID_CONTEXT)
            except (KeyRingError, InvalidTag):
                report.unreadable.append(f"{model._meta.db_table}:{row['id']}")
                continue
            new = cipher.seal(number, ID_CONTEXT)
            written = await model.filter(id=row["id"], id_key_id=old.key_id, id_ciphertext=old.ciphertext).update(
                id_key_id=new.key_id, id_ciphertext=new.ciphertext
            )
            if written:
                resealed += 1
            else:
                report.changed_meanwhile += 1
    return resealed
