"""Signed webhooks between the platform and a department's own system, as pure rules.

Both directions sign the same way: `sha256=` + hex HMAC-SHA256(secret, f"{timestamp}.{body}"),
where `timestamp` is Unix seconds and `body` the exact bytes sent. Signing the timestamp with the
body means an old request cannot be given a fresh timestamp, so a replay window plus a stored
delivery id (nonce) is enough to refuse replays.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pingan.domain.errors import Conflict, DomainError

SIGNATURE_PREFIX = "sha256="

# What a subscription can ask for, and the case event each comes from.
HOOK_EVENTS: tuple[str, ...] = (
    "case.dispatched",  # 派遣: a case is sent to the department
    "case.rework",  # 返工: verification failed, the department must handle it again
    "case.supervised",  # 督办: the command centre presses for progress
    "case.closed",  # 结案: the case the department handled is closed
)


class SignatureRejected(DomainError):
    """The request is not provably from the subscription's holder (HTTP 401)."""

    code = "webhook.bad_signature"


class Replayed(Conflict):
    """A delivery id that was accepted before; the request is refused, nothing changes (409)."""

    code = "webhook.replayed"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime,
    window_s: int,
) -> int:
    """Check a received request; returns its timestamp or raises `SignatureRejected`.

    The signature is checked first (in constant time), then the timestamp against the window in
    both directions, so a clock running ahead cannot mint requests for later.
    """
    if not timestamp or not signature:
        raise SignatureRejected("webhook.signature_missing")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureRejected("webhook.bad_signature") from None
    given = signature.strip().encode("utf-8", "surrogateescape")  # any bytes, never a crash
    if not hmac.compare_digest(sign(secret, ts, body).encode(), given):
        raise SignatureRejected("webhook.bad_signature")
    if abs(now.timestamp() - ts) > window_s:
        raise SignatureRejected("webhook.stale_timestamp", window_s=window_s)
    return ts


def hook_event(event_type: str, payload: dict[str, Any]) -> str | None:
    """The webhook event a domain event becomes for the case's department, if any."""
    if event_type == "case.verified":
        return "case.rework" if payload.get("passed") is False else None
    return event_type if event_type in HOOK_EVENTS else None


def backoff_s(attempt: int, base_s: float, cap_s: float, jitter: float) -> float:
    """Wait before retry number `attempt` (1 = first retry): exponential, capped, with "equal
    jitter" (`jitter` in [0, 1)) so that many receivers coming back do not all retry at once."""
    ceiling = min(cap_s, base_s * 2.0 ** max(attempt - 1, 0))
    return ceiling / 2 + ceiling / 2 * min(max(jitter, 0.0), 1.0)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    base_s: float
    cap_s: float

    def next_delay(self, attempts_made: int, jitter: float) -> float | None:
        """Seconds until the next try after `attempts_made` failures; None once given up."""
        if attempts_made >= self.max_attempts:
            return None
        return backoff_s(attempts_made, self.base_s, self.cap_s, jitter)
