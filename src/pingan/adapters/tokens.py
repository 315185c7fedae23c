"""Signed bearer tokens (JWT, HS256 only: `alg=none` and algorithm switching are refused).

Every token carries a `jti`, so signing out can revoke exactly that token, and a `purpose`: a
full `access` token, or a `totp_enrol` token that is good only for enrolling a second factor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ACCESS = "access"
TOTP_ENROL = "totp_enrol"


class TokenError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: int
    jti: str
    expires_at: datetime
    purpose: str


def issue(secret: str, user_id: int, now: datetime, ttl: timedelta, purpose: str = ACCESS) -> str:
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
        "purpose": purpose,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def claims_of(secret: str, token: str, now: datetime) -> Claims:
    """The claims of a well-signed token not yet expired at `now` (the injected clock)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={
                "require": ["sub", "exp", "iat", "jti"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
        exp = int(claims["exp"])
        if exp <= now.timestamp():
            raise TokenError("expired")
        return Claims(
            user_id=int(claims["sub"]),
            jti=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(exp, UTC),
            purpose=str(claims.get("purpose", ACCESS)),
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise TokenError(str(exc)) from None
