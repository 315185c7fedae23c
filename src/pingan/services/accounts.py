"""Signing in: check the password, throttle guessing per account and client, record each attempt.

Throttling is keyed by (account, client address), so an attacker elsewhere cannot lock a commander
out of their own desk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from pingan.domain.access import Role
from pingan.domain.errors import DomainError
from pingan.services.ports import Env, UnitOfWork


class AuthFailed(DomainError):
    code = "auth.failed"


class Throttled(DomainError):
    code = "auth.throttled"


def login(
    uow: UnitOfWork,
    username: str,
    password: str,
    client: str,
    env: Env,
    verify: Callable[[str | None, str], bool],
    max_failures: int,
    window_s: int,
) -> int:
    """Return the user id on success; raise AuthFailed or Throttled. Always records the attempt."""
    now = env.now()
    since = now - timedelta(seconds=window_s)
    if uow.users.recent_failures(username, client, since) >= max_failures:
        raise Throttled(retry_after=window_s)
    user = uow.users.by_username(username)
    ok = verify(user.password_hash if user else None, password)
    ok = ok and user is not None and not user.disabled and user.role is not Role.SYSTEM
    uow.users.record_attempt(username, client, ok, now)
    uow.commit()
    if not ok or user is None:
        raise AuthFailed()
    return int(user.id)
