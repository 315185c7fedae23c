"""Request dependencies: the runtime, the signed-in actor, the preferred language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pingan.adapters.tokens import TokenError, read
from pingan.api.errors import ApiError
from pingan.api.runtime import Runtime
from pingan.domain.access import Actor
from pingan.messages import pick_language

bearer = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/token")


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def actor_for_token(rt: Runtime, token: str) -> Actor:
    try:
        user_id = read(rt.settings.secret_key, token, rt.env.now())
    except TokenError:
        raise ApiError(401, "auth.invalid_token", {"WWW-Authenticate": "Bearer"}) from None
    with rt.uows(readonly=True) as uow:
        user = uow.users.get(user_id)
    if user is None or user.disabled:
        raise ApiError(401, "auth.invalid_token", {"WWW-Authenticate": "Bearer"})
    return user.actor()


def current_actor(
    rt: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    if credentials is None:
        raise ApiError(401, "auth.required", {"WWW-Authenticate": "Bearer"})
    return actor_for_token(rt, credentials.credentials)


ActorDep = Annotated[Actor, Depends(current_actor)]


def language(accept_language: Annotated[str | None, Header()] = None) -> str:
    return pick_language(accept_language)
