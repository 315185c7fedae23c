"""Signing in and who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool

from pingan.adapters.passwords import verify_password
from pingan.adapters.tokens import issue
from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import documented
from pingan.api.schemas import TokenOut, UserOut
from pingan.services.accounts import login

router = APIRouter(prefix="/api/v1", tags=["auth"])


def user_out(user: object) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=documented(401, 422, 429),
    summary="Sign in with username and password (OAuth2 password form)",
)
async def token(
    request: Request,
    rt: RuntimeDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> TokenOut:
    client = request.client.host if request.client else "unknown"
    settings = rt.settings

    def run() -> TokenOut:
        with rt.uows() as uow:
            user_id = login(
                uow,
                username,
                password,
                client,
                rt.env,
                verify_password,
                settings.login_max_failures,
                settings.login_window_s,
            )
        with rt.uows(readonly=True) as uow:
            user = uow.users.get(user_id)
        ttl = timedelta(minutes=settings.token_ttl_minutes)
        return TokenOut(
            access_token=issue(settings.secret_key, user_id, rt.env.now(), ttl),
            expires_in=int(ttl.total_seconds()),
            user=user_out(user),
        )

    return await run_in_threadpool(run)


@router.get("/me", response_model=UserOut, responses=documented(401))
def me(rt: RuntimeDep, actor: ActorDep) -> UserOut:
    with rt.uows(readonly=True) as uow:
        return user_out(uow.users.get(actor.user_id))


@router.get(
    "/me/tasks",
    summary="Notifications for my department, grid or centre",
    responses=documented(401),
)
def my_tasks(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, object]]:
    recipients: list[tuple[str, str]] = [("user", str(actor.user_id))]
    if actor.department_id:
        recipients.append(("department", actor.department_id))
    if actor.grid_code:
        recipients.append(("grid", actor.grid_code))
    recipients.append(("unit", actor.jurisdiction))
    with rt.uows(readonly=True) as uow:
        rows = uow.notifications.for_recipients(recipients)
    return [
        {
            "id": r["id"],
            "case_id": r["case_id"],
            "kind": r["kind"],
            "created_at": r["created_at"].isoformat(),
        }
        for r in rows
    ]
