"""Signed bearer tokens (JWT, HS256 only: `alg=none` and algorithm switching are refused)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import jwt

ALGORITHM = "HS256"


class TokenError(Exception):
    pass


def issue(secret: str, user_id: int, now: datetime, ttl: timedelta) -> str:
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read(secret: str, token: str, now: datetime) -> int:
    """The user id of a valid token not yet expired at `now` (the injected clock)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat"], "verify_exp": False, "verify_iat": False},
        )
        if int(claims["exp"]) <= now.timestamp():
            raise TokenError("expired")
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise TokenError(str(exc)) from None
