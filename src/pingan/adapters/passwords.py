"""Argon2id password hashing at or above OWASP's recommended minimum (19 MiB, t=2, p=1)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy() -> str:
    """Verified against when the user does not exist, so timing does not reveal which usernames
    exist; hashed on first use rather than at import (a hash is tens of ms of every start-up)."""
    return HASHER.hash("pingan-timing-equaliser")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
