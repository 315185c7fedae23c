"""The audit chain: each entry's hash covers the previous hash and the entry itself.

Changing, removing or reordering any stored entry breaks every hash after it, so `first_break`
finds tampering by recomputing the chain from the genesis value. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pingan.domain.errors import DomainError

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor_id: int
    actor: str
    action: str
    subject: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def canonical(self) -> str:
        """The bytes the hash covers: sorted keys, no spaces, UTF-8, microsecond UTC time."""
        return json.dumps(
            {
                "seq": self.seq,
                "at": self.at.isoformat(timespec="microseconds"),
                "actor_id": self.actor_id,
                "actor": self.actor,
                "action": self.action,
                "subject": self.subject,
                "detail": self.detail,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + entry.canonical()).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    reason: str  # "hash" (row changed), "link" (prev_hash wrong), "gap" (row missing)


def first_break(rows: Iterable[tuple[AuditEntry, str, str]]) -> ChainBreak | None:
    """Walk (entry, prev_hash, hash) in seq order; the first row that does not follow, or None."""
    prev, expected_seq = GENESIS, 1
    for entry, prev_hash, stored_hash in rows:
        if entry.seq != expected_seq:
            return ChainBreak(expected_seq, "gap")
        if prev_hash != prev:
            return ChainBreak(entry.seq, "link")
        if chain_hash(prev_hash, entry) != stored_hash:
            return ChainBreak(entry.seq, "hash")
        prev, expected_seq = stored_hash, expected_seq + 1
    return None


class AuditUnavailable(DomainError):
    """The audit trail could not be written, so the action it would record must not happen."""

    code = "audit.unavailable"


class Action:
    """What the trail records (`action` column); stable strings, queried by auditors."""

    PII_REVEAL = "pii.reveal"
    CONTACT_RECORDED = "contact.recorded"
    CONTACT_LOOKUP = "contact.lookup"
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    TOTP_ENROLLED = "auth.totp_enrolled"
    TOTP_CONFIRMED = "auth.totp_confirmed"
    USER_CREATED = "user.created"
    USER_CHANGED = "user.changed"
    KEYS_ROTATED = "keys.rotated"
    KEYS_REINDEXED = "keys.reindexed"
