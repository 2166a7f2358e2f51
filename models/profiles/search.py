"""Finding a person in a caseworker's list by what was typed into its search box: a name, a phone
(whole, or its last digits), an ID number (whole, or its last 4 to 6 characters), full-width
digits too.

Nothing is decrypted to search: phones are stored as they are; a whole ID number is found by its
blind index (`person_key`); its last four are the visible end of the mask; five or six go through
a keyed index of the last six (`id_tail_key`), five by trying the ten possible sixth-from-last
digits. The tail index is keyed like the blind index, so the table alone does not give away the
birth day and sequence digits it covers.
"""

from __future__ import annotations

import re

from tortoise.expressions import Q

from models.profiles.identity import ID_TAIL_LENGTH, ascii_form, id_tail, is_ascii_digits, searched_tail
from server.crypto import IdCipher

_WHOLE_ID = re.compile(r"^[0-9]{17}[0-9X]$")


def _tail_match(tail: str, cipher: IdCipher) -> Q:
    if len(tail) == 4:
        return Q(id_masked__endswith=tail)
    if len(tail) == ID_TAIL_LENGTH:
        return Q(id_tail_key=cipher.blind_index(id_tail(tail)))
    return Q(id_tail_key__in=[cipher.blind_index(id_tail(f"{digit}{tail}")) for digit in "0123456789"])


def person_match(raw: str, cipher: IdCipher) -> Q:
    """A condition on a table with `real_name`, `phone`, `id_masked`, `id_tail_key` and
    `person_key` (applications, memberships) for what was typed."""
    text = ascii_form(raw).strip().upper()
    if _WHOLE_ID.match(text):
        return Q(person_key=cipher.blind_index(text))
    tail = searched_tail(text)
    if tail is not None:
        by_id = _tail_match(tail, cipher)
        return by_id | Q(phone__endswith=tail) if is_ascii_digits(tail) else by_id
    if is_ascii_digits(text) and 7 <= len(text) <= 11:
        return Q(phone__endswith=text)
    return Q(real_name__icontains=raw.strip())
