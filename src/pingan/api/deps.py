"""Request dependencies: the runtime, the signed-in actor, the preferred language.

A token is accepted only while its signature holds, it has not expired, it was not revoked by
signing out, and its user is still enabled; all four are checked on every request and when a
WebSocket opens.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pingan.adapters.crypto import Keyring, keyring_from
from pingan.adapters.tokens import ACCESS, TOTP_ENROL, Claims, TokenError, claims_of
from pingan.adapters.totp import SecondFactor
from pingan.api.errors import ApiError
from pingan.api.runtime import Runtime
from pingan.domain.access import Actor
from pingan.messages import pick_language

bearer = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/token")


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def _invalid() -> ApiError:
    return ApiError(401, "auth.invalid_token", {"WWW-Authenticate": "Bearer"})


def session_for_token(
    rt: Runtime, token: str, purposes: frozenset[str] = frozenset({ACCESS})
) -> tuple[Actor, Claims]:
    try:
        claims = claims_of(rt.settings.secret_key, token, rt.env.now())
    except TokenError:
        raise _invalid() from None
    if claims.purpose not in purposes:
        raise _invalid()
    with rt.uows(readonly=True) as uow:
        user = uow.users.signed_in(claims.user_id, claims.jti)
    if user is None or user.disabled:
        raise _invalid()
    return user.actor(), claims


def actor_for_token(rt: Runtime, token: str) -> Actor:
    return session_for_token(rt, token)[0]


def _credentials(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    if credentials is None:
        raise ApiError(401, "auth.required", {"WWW-Authenticate": "Bearer"})
    return credentials.credentials


def current_actor(rt: RuntimeDep, token: Annotated[str, Depends(_credentials)]) -> Actor:
    return actor_for_token(rt, token)


def current_session(
    rt: RuntimeDep, token: Annotated[str, Depends(_credentials)]
) -> tuple[Actor, Claims]:
    return session_for_token(rt, token)


def enrolling_session(
    rt: RuntimeDep, token: Annotated[str, Depends(_credentials)]
) -> tuple[Actor, Claims]:
    """A full token, or the enrolment-only token an un-enrolled administrator receives."""
    return session_for_token(rt, token, frozenset({ACCESS, TOTP_ENROL}))


ActorDep = Annotated[Actor, Depends(current_actor)]
SessionDep = Annotated[tuple[Actor, Claims], Depends(current_session)]
EnrollingDep = Annotated[tuple[Actor, Claims], Depends(enrolling_session)]


def keyring(rt: RuntimeDep) -> Keyring:
    return keyring_from(rt.settings.data_keys)


KeyringDep = Annotated[Keyring, Depends(keyring)]


def second_factor(rt: RuntimeDep) -> SecondFactor:
    return SecondFactor(keyring_from(rt.settings.data_keys), rt.settings.totp_issuer)


SecondFactorDep = Annotated[SecondFactor, Depends(second_factor)]


def language(accept_language: Annotated[str | None, Header()] = None) -> str:
    return pick_language(accept_language)
