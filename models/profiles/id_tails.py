"""Filling the ID-tail index (`id_tail_key`, models/profiles/search.py) of rows stored before it
existed: profiles and applications from their sealed numbers, memberships from an application or
profile of the same person (`person_key` is the blind index of the same number). Run by migration
0017; rows that already have one are left alone, so running it again changes nothing."""

from __future__ import annotations

from collections import Counter

from tortoise.backends.base.client import BaseDBAsyncClient

from models.profiles.identity import id_tail
from models.profiles.identity_repair import Sql, batches
from models.profiles.tables import ID_CONTEXT
from server.crypto import IdCipher, Sealed

SEALED = (("worker_profiles", "id_blind_index"), ("enrolments", "person_key"))


async def fill_id_tail_keys(client: BaseDBAsyncClient, cipher: IdCipher) -> Counter[str]:
    sql, filled = Sql(client), Counter[str]()
    by_person: dict[str, str] = {}
    for table, key_column in SEALED:
        async for rows in batches(sql, table, f"{key_column} AS person, id_key_id, id_ciphertext, id_tail_key"):
            for row in rows:
                tail_key = row["id_tail_key"]
                if not tail_key:
                    number = cipher.open(Sealed(row["id_key_id"], row["id_ciphertext"]), ID_CONTEXT)
                    tail_key = cipher.blind_index(id_tail(number))
                    await sql.run(f"UPDATE {table} SET id_tail_key = ? WHERE id = ?", tail_key, row["id"])
                    filled[table] += 1
                by_person[row["person"]] = tail_key
    async for rows in batches(sql, "memberships", "person_key, id_tail_key"):
        for row in rows:
            tail_key = by_person.get(row["person_key"])
            if not row["id_tail_key"] and tail_key:
                await sql.run("UPDATE memberships SET id_tail_key = ? WHERE id = ?", tail_key, row["id"])
                filled["memberships"] += 1
    return filled
