"""Bring identity values stored before the ASCII rule (models/identity.py) to their ASCII form.

Earlier versions accepted full-width and other scripts' digits in ID numbers, phones and region
codes, and hashed `４40300…` apart from `440300…`, so one person could hold two memberships.
Migration 0006 runs this once; it is safe to run again. A value that NFKC turns into valid ASCII
is rewritten, with its blind index, mask and ciphertext, in every table that keys a person by
it. A value that cannot be repaired, or whose ASCII form already belongs to another record (the
same person twice), is left as it is and written to the audit log as `identity.needs_review`,
for a union to resolve by hand.

It speaks SQL through the client it is given, naming only the columns it knows, because a
migration runs before the models are bound to a database and against tables that later
migrations may widen.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models.profiles.identity import ascii_form, is_ascii_digits, mask_id_number
from models.profiles.tables import ID_CONTEXT
from server.clock import now
from server.crypto import IdCipher, Sealed

BATCH = 1000
# Tables that hold a ciphertext of the ID number, and the column that keys the person in each.
SEALED = (("worker_profiles", "id_blind_index"), ("enrolments", "person_key"))
PHONES = ("worker_profiles", "enrolments", "memberships")


@dataclass
class IdentityRepair:
    people_rekeyed: int = 0
    fixed: Counter[str] = field(default_factory=Counter)  # column -> values made ASCII
    needs_review: list[str] = field(default_factory=list)  # "table:id" of rows left for staff


# Where a row names its union, so that its review entry reaches that union's admins.
ORG_COLUMN = {"enrolments": "org_id", "memberships": "org_id", "orgs": "id"}


class Sql:
    """Queries written with `?` placeholders, sent in the client's own dialect."""

    def __init__(self, client: BaseDBAsyncClient) -> None:
        self.client = client
        self.numbered = client.capabilities.dialect != "sqlite"

    def _text(self, query: str) -> str:
        if not self.numbered:
            return query
        parts = query.split("?")
        return parts[0] + "".join(f"${number}{part}" for number, part in enumerate(parts[1:], 1))

    async def rows(self, query: str, *values: Any) -> list[dict[str, Any]]:
        return await self.client.execute_query_dict(self._text(query), list(values))

    async def run(self, query: str, *values: Any) -> None:
        await self.client.execute_query(self._text(query), list(values))


async def repair_stored_identities(client: BaseDBAsyncClient, cipher: IdCipher) -> IdentityRepair:
    sql, report = Sql(client), IdentityRepair()
    for old_key, number in (await _collect_rekeys(sql, cipher, report)).items():
        await _rekey_person(sql, cipher, old_key, number, report)
    for table in PHONES:
        await _fix_digits(sql, table, "phone", report)
    await _fix_digits(sql, "orgs", "region_code", report)
    # Member numbers were built from region codes: `<region><year><sequence>`.
    await _fix_digits(sql, "memberships", "member_no", report, unique=True)
    await _fix_digits(sql, "member_number_sequences", "prefix", report, unique=True)
    return report


async def _collect_rekeys(sql: Sql, cipher: IdCipher, report: IdentityRepair) -> dict[str, str]:
    """old blind index -> the ASCII number, from every row that holds a ciphertext."""
    rekeys: dict[str, str] = {}
    for table, key_column in SEALED:
        async for rows in batches(sql, table, f"{key_column} AS person, id_key_id, id_ciphertext"):
            for row in rows:
                number = cipher.open(Sealed(row["id_key_id"], row["id_ciphertext"]), ID_CONTEXT)
                if number.isascii():
                    continue
                fixed = ascii_form(number).strip().upper()
                if fixed.isascii():
                    rekeys[row["person"]] = fixed
                else:
                    await _needs_review(sql, report, table, row["id"], "ID number has digits of another script")
    return rekeys


async def _rekey_person(sql: Sql, cipher: IdCipher, old_key: str, number: str, report: IdentityRepair) -> None:
    new_key = cipher.blind_index(number)
    taken = await sql.rows(
        "SELECT 1 AS taken FROM worker_profiles WHERE id_blind_index = ?"
        " UNION SELECT 1 FROM memberships WHERE active_key = ? UNION SELECT 1 FROM enrolments WHERE open_key = ?",
        new_key,
        new_key,
        new_key,
    )
    holders = {
        table: [row["id"] for row in await sql.rows(f"SELECT id FROM {table} WHERE {key_column} = ?", old_key)]
        for table, key_column in SEALED
    }
    if taken:
        # The twin's memberships are named too: a second membership is the harm to undo.
        holders["memberships"] = [
            row["id"] for row in await sql.rows("SELECT id FROM memberships WHERE person_key = ?", old_key)
        ]
        for table, ids in holders.items():
            for row_id in ids:
                await _needs_review(
                    sql, report, table, row_id, "the ASCII form of this ID number is already registered"
                )
        return
    masked = mask_id_number(number)
    for table, key_column in SEALED:
        for row_id in holders[table]:
            sealed = cipher.seal(number, ID_CONTEXT)
            await sql.run(
                f"UPDATE {table} SET {key_column} = ?, id_key_id = ?, id_ciphertext = ?, id_masked = ? WHERE id = ?",
                new_key,
                sealed.key_id,
                sealed.ciphertext,
                masked,
                row_id,
            )
    await sql.run("UPDATE enrolments SET open_key = ? WHERE open_key = ?", new_key, old_key)
    await sql.run("UPDATE memberships SET person_key = ?, id_masked = ? WHERE person_key = ?", new_key, masked, old_key)
    await sql.run("UPDATE memberships SET active_key = ? WHERE active_key = ?", new_key, old_key)
    await _audit(sql, "identity.normalised", "person", new_key[:16], {"id_number": masked})
    report.people_rekeyed += 1


async def _fix_digits(sql: Sql, table: str, column: str, report: IdentityRepair, *, unique: bool = False) -> None:
    async for rows in batches(sql, table, f"{column} AS value"):
        for row in rows:
            if row["value"].isascii():
                continue
            fixed = ascii_form(row["value"]).strip()
            if not is_ascii_digits(fixed):
                await _needs_review(sql, report, table, row["id"], f"{column} has digits of another script")
            elif unique and await sql.rows(f"SELECT 1 AS taken FROM {table} WHERE {column} = ?", fixed):
                await _needs_review(sql, report, table, row["id"], f"the ASCII form of this {column} is taken")
            else:
                await sql.run(f"UPDATE {table} SET {column} = ? WHERE id = ?", fixed, row["id"])
                report.fixed[column] += 1


async def batches(sql: Sql, table: str, columns: str) -> AsyncIterator[list[dict[str, Any]]]:
    last = 0
    while True:
        rows = await sql.rows(f"SELECT id, {columns} FROM {table} WHERE id > ? ORDER BY id LIMIT {BATCH}", last)
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


async def _needs_review(sql: Sql, report: IdentityRepair, table: str, row_id: int, why: str) -> None:
    """One audit entry per row, however often the repair runs, addressed to the row's union."""
    report.needs_review.append(f"{table}:{row_id}")
    seen = await sql.rows(
        "SELECT 1 AS seen FROM audit_entries WHERE action = 'identity.needs_review' AND object_type = ? AND object_id = ?",
        table,
        str(row_id),
    )
    if seen:
        return
    org_id = None
    if table in ORG_COLUMN:
        org_id = (await sql.rows(f"SELECT {ORG_COLUMN[table]} AS org_id FROM {table} WHERE id = ?", row_id))[0][
            "org_id"
        ]
    await _audit(sql, "identity.needs_review", table, str(row_id), {"why": why}, org_id)


async def _audit(
    sql: Sql, action: str, object_type: str, object_id: str, after: dict[str, str], org_id: int | None = None
) -> None:
    await sql.run(
        "INSERT INTO audit_entries (actor_kind, actor_name, action, object_type, object_id, org_id, ip, request_id,"
        " after, created_at) VALUES ('system', 'identity-repair', ?, ?, ?, ?, '', '', ?, ?)",
        action,
        object_type,
        object_id,
        org_id,
        json.dumps(after, ensure_ascii=False),
        now(),
    )
