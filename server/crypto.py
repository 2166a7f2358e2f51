"""Protection of identity data at rest.

`IdCipher` encrypts with AES-256-GCM (authenticated) under the first key of `ID_ENCRYPTION_KEYS`
and stores the key id beside each value, so old values still decrypt after a new key is put in
front. `blind_index` is a keyed HMAC of the normalised value: equal numbers give equal indexes,
which lets the database enforce "one person, one membership" without holding the number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

NONCE_BYTES = 12


class KeyRingError(ValueError):
    pass


@dataclass(frozen=True)
class Sealed:
    key_id: str
    ciphertext: str  # base64 of nonce + ciphertext + tag


def parse_key_ring(spec: str) -> list[tuple[str, bytes]]:
    ring = []
    for part in filter(None, (item.strip() for item in spec.split(","))):
        key_id, _, encoded = part.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise KeyRingError(f"key {key_id!r} is not base64") from None
        if not key_id or len(key) != 32:
            raise KeyRingError(f"key {key_id!r} must be key_id:base64 of 32 bytes")
        ring.append((key_id, key))
    if not ring:
        raise KeyRingError("no encryption key configured")
    return ring


class IdCipher:
    def __init__(self, key_ring: str, blind_index_key: str) -> None:
        ring = parse_key_ring(key_ring)
        self._current_id = ring[0][0]
        self._keys = {key_id: AESGCM(key) for key_id, key in ring}
        self._blind_key = blind_index_key.encode()

    @property
    def current_key_id(self) -> str:
        """The key new values are sealed with: the first of the ring."""
        return self._current_id

    def seal(self, plaintext: str, context: str) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._current_id].encrypt(nonce, plaintext.encode(), context.encode())
        return Sealed(self._current_id, base64.b64encode(nonce + sealed).decode())

    def open(self, sealed: Sealed, context: str) -> str:
        cipher = self._keys.get(sealed.key_id)
        if cipher is None:
            raise KeyRingError(f"key {sealed.key_id!r} is no longer configured")
        raw = base64.b64decode(sealed.ciphertext)
        return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()

    def blind_index(self, value: str) -> str:
        return hmac.new(self._blind_key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


def decode_signing_seed(encoded: str) -> bytes:
    try:
        seed = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise KeyRingError("the signing key is not base64") from None
    if len(seed) != 32:
        raise KeyRingError("the signing key must be base64 of 32 bytes")
    return seed


class CardSigner:
    """Signs member-card payloads with Ed25519; anyone with the public key can check them offline."""

    def __init__(self, seed_base64: str) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(decode_signing_seed(seed_base64))
        self.public_key_base64 = base64.b64encode(
            self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        ).decode()

    def sign(self, claims: dict[str, object]) -> str:
        body = _b64url(json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{_b64url(self._private.sign(body.encode()))}"

    def verify(self, payload: str) -> dict[str, object] | None:
        """The claims of a genuine payload; None for anything forged or malformed."""
        body, _, signature = payload.partition(".")
        try:
            self._private.public_key().verify(_unb64url(signature), body.encode())
            claims = json.loads(_unb64url(body))
        except (InvalidSignature, ValueError):
            return None
        return claims if isinstance(claims, dict) else None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
