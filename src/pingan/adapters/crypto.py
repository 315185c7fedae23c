"""Field encryption for personal data: AES-256-GCM with a key id, and a keyed blind index.

A stored value is `v1.<key id>.<base64 nonce+ciphertext>`; the key id lets old values be read
after the active key is rotated, and `rotate` re-encrypts them under the new one. Looking a person
up by identity number uses an HMAC-SHA256 blind index under a separate key, so the database can
find equal values without holding any plaintext. A dump of the database therefore contains no
identity number or phone number in the clear.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pingan.domain.errors import InvalidInput

PREFIX = "v1"


class DecryptionFailed(ValueError):
    """The value was tampered with, or was written under a key this keyring lacks."""


@dataclass
class Keyring:
    """Encryption keys by id (32 bytes each), the active one, and the blind-index key."""

    keys: dict[str, bytes]
    active: str
    index_key: bytes
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise InvalidInput("crypto.no_active_key")
        for key_id, key in self.keys.items():
            if len(key) != 32 or "." in key_id:
                raise InvalidInput("crypto.bad_key", key_id=key_id)
            self._aead[key_id] = AESGCM(key)
        if len(self.index_key) < 32:
            raise InvalidInput("crypto.bad_key", key_id="index")

    @classmethod
    def from_setting(cls, value: str) -> Keyring:
        """`active=<id>;<id>=<base64 key>;...;index=<base64 key>` (PINGAN_DATA_KEYS)."""
        parts = dict(p.strip().split("=", 1) for p in value.split(";") if "=" in p)
        try:
            active = parts.pop("active")
            index_key = base64.b64decode(parts.pop("index"), validate=True)
            keys = {k: base64.b64decode(v, validate=True) for k, v in parts.items()}
        except (KeyError, ValueError):
            raise InvalidInput("crypto.bad_setting") from None
        return cls(keys, active, index_key)

    @staticmethod
    def key_id(stored: str) -> str:
        """The id of the key a stored value was written under."""
        parts = stored.split(".", 2)
        return parts[1] if len(parts) == 3 else ""

    def encrypt(self, plaintext: str, context: str) -> str:
        """Encrypt, binding the value to `context` (e.g. "person.phone") so it can't be moved."""
        nonce = os.urandom(12)
        sealed = self._aead[self.active].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}.{self.active}.{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, context: str) -> str:
        try:
            prefix, key_id, blob = stored.split(".", 2)
            if prefix != PREFIX:
                raise ValueError(prefix)
            raw = base64.b64decode(blob, validate=True)
            return self._aead[key_id].decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (ValueError, KeyError, InvalidTag) as exc:
            raise DecryptionFailed(type(exc).__name__) from None

    def rotate(self, stored: str, context: str) -> str:
        """Re-encrypt under the active key (no-op for values already under it)."""
        if self.key_id(stored) == self.active:
            return stored
        return self.encrypt(self.decrypt(stored, context), context)

    def blind_index(self, value: str, context: str) -> str:
        return hmac.new(self.index_key, f"{context}:{value}".encode(), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=4)
def keyring_from(setting: str) -> Keyring:
    """The keyring a `PINGAN_DATA_KEYS` value describes, parsed once per process."""
    return Keyring.from_setting(setting)
