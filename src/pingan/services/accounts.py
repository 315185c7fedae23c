"""Signing in and out: password, throttling per account and client, second factor, the record.

Throttling is keyed by (account, client address), so an attacker elsewhere cannot lock a commander
out of their own desk. Users who enrolled a TOTP authenticator must give a code, each code works
once; administrators and auditors who have not enrolled yet get only an enrolment token. Every
attempt, success or failure, goes into the audit trail with the sign-in it records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from pingan.domain.access import SECOND_FACTOR_ROLES, Actor, Role
from pingan.domain.audit import Action
from pingan.domain.errors import Conflict, DomainError, NotFound
from pingan.services.ports import Env, UnitOfWork


class AuthFailed(DomainError):
    code = "auth.failed"


class SecondFactorRequired(AuthFailed):
    """Password right, but this account signs in with a TOTP code as well."""

    code = "auth.totp_required"


class SecondFactorInvalid(AuthFailed):
    code = "auth.totp_invalid"


class Throttled(DomainError):
    code = "auth.throttled"


class Stage(StrEnum):
    FULL = "full"  # a full access token
    TOTP_ENROL = "totp_enrol"  # only enough to enrol the second factor the role requires


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: int
    stage: Stage


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    otpauth_uri: str


class SecondFactor(Protocol):
    """TOTP with sealed secrets (adapters/totp.py)."""

    def new_secret(self) -> str: ...
    def seal(self, secret: str) -> str: ...
    def uri(self, secret: str, account: str) -> str: ...
    def step(self, sealed_secret: str, code: str, now: datetime) -> int | None: ...


def _who(username: str) -> Actor:
    """Who a failed sign-in names when the username matches no account (user id 0)."""
    return Actor(user_id=0, username=username[:64], role=Role.CITIZEN, jurisdiction="")


def login(
    uow: UnitOfWork,
    username: str,
    password: str,
    client: str,
    env: Env,
    verify: Callable[[str | None, str], bool],
    max_failures: int,
    window_s: int,
    *,
    second_factor: SecondFactor | None = None,
    totp_code: str | None = None,
) -> SignedIn:
    """Who signed in and how far; raise AuthFailed (or a subclass) or Throttled.

    Records the attempt and its audit entry in the same transaction.
    """
    now = env.now()
    since = now - timedelta(seconds=window_s)
    if uow.users.recent_failures(username, client, since) >= max_failures:
        raise Throttled(retry_after=window_s)
    user = uow.users.by_username(username)
    ok = verify(user.password_hash if user else None, password)
    ok = ok and user is not None and not user.disabled and user.role is not Role.SYSTEM
    stage, failure = Stage.FULL, AuthFailed()
    if ok and user is not None:
        record = uow.users.totp(user.id)
        if record is not None and record.confirmed_at is not None:
            if not totp_code:
                raise SecondFactorRequired()  # no attempt recorded: nothing was guessed
            step = second_factor.step(record.secret_enc, totp_code, now) if second_factor else None
            if step is None or not uow.users.use_totp_step(user.id, step):
                ok, failure = False, SecondFactorInvalid()
        elif user.role in SECOND_FACTOR_ROLES:
            stage = Stage.TOTP_ENROL
    uow.users.record_attempt(username, client, ok, now)
    uow.audit.append(
        user.actor() if user else _who(username),
        Action.LOGIN if ok else Action.LOGIN_FAILED,
        now,
        f"user:{username[:64]}",
        {"client": client, "stage": stage.value} if ok else {"client": client},
    )
    uow.commit()
    if not ok or user is None:
        raise failure
    return SignedIn(int(user.id), stage)


def logout(uow: UnitOfWork, actor: Actor, jti: str, expires_at: datetime, env: Env) -> None:
    """Revoke this token for good: every later request with it is refused."""
    now = env.now()
    uow.users.revoke_token(jti, actor.user_id, expires_at, now)
    uow.audit.append(actor, Action.LOGOUT, now, f"user:{actor.username}")
    uow.commit()


def enrol_totp(uow: UnitOfWork, actor: Actor, second_factor: SecondFactor, env: Env) -> Enrolment:
    """A new secret, shown this once as an otpauth URI; it counts after `confirm_totp`."""
    record = uow.users.totp(actor.user_id)
    if record is not None and record.confirmed_at is not None:
        raise Conflict("auth.totp_already_enrolled")
    secret = second_factor.new_secret()
    now = env.now()
    uow.users.put_totp(actor.user_id, second_factor.seal(secret), now)
    uow.audit.append(actor, Action.TOTP_ENROLLED, now, f"user:{actor.username}")
    uow.commit()
    return Enrolment(secret, second_factor.uri(secret, actor.username))


def confirm_totp(
    uow: UnitOfWork, actor: Actor, second_factor: SecondFactor, code: str, env: Env
) -> None:
    """Turn the second factor on with a first code from the authenticator app."""
    record = uow.users.totp(actor.user_id)
    if record is None:
        raise NotFound("auth.totp_not_enrolled")
    if record.confirmed_at is not None:
        raise Conflict("auth.totp_already_enrolled")
    now = env.now()
    step = second_factor.step(record.secret_enc, code, now)
    if step is None or not uow.users.use_totp_step(actor.user_id, step, now):
        raise SecondFactorInvalid()
    uow.audit.append(actor, Action.TOTP_CONFIRMED, now, f"user:{actor.username}")
    uow.commit()
