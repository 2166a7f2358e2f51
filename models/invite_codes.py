"""One-time codes handed from person to person (an enterprise contact's invitation, an expert's
binding code): short, typed by hand, and stored only as a hash, so a database reader cannot use
a code that has not been redeemed yet."""

from __future__ import annotations

import hashlib
import re
import secrets

from models.profiles.identity import ascii_form

# No 0/O or 1/I: a code is read aloud or copied from a chat message.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 8
_SHAPE = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")
_SEPARATORS = re.compile(r"[\s\-]")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_code(raw: str) -> str | None:
    """The code as issued (full-width or lower-case input, spaces and hyphens forgiven), or None
    when it cannot be one."""
    code = _SEPARATORS.sub("", ascii_form(raw)).upper()
    return code if _SHAPE.match(code) else None


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
