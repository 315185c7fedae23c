"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) on pyotp, with its secret sealed.

`step_of` returns the time step a code belongs to (allowing one step of clock drift either way),
so the caller can refuse a code whose step was already used: a code works once.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp

from pingan.adapters.crypto import DecryptionFailed, Keyring

CONTEXT = "totp.secret"
STEP_S = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app scans (shown once, at enrolment)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def step_for(secret: str, code: str, now: datetime, drift: int = 1) -> int | None:
    code = code.strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_S
    for step in range(current - drift, current + drift + 1):
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


@dataclass(frozen=True)
class SecondFactor:
    """Seals TOTP secrets with the data keyring and checks codes against sealed secrets."""

    keyring: Keyring
    issuer: str = "Pingan"

    def seal(self, secret: str) -> str:
        return self.keyring.encrypt(secret, CONTEXT)

    def uri(self, secret: str, account: str) -> str:
        return provisioning_uri(secret, account, self.issuer)

    def new_secret(self) -> str:
        return new_secret()

    def step(self, sealed_secret: str, code: str, now: datetime) -> int | None:
        try:
            secret = self.keyring.decrypt(sealed_secret, CONTEXT)
        except DecryptionFailed:
            return None
        return step_for(secret, code, now)
