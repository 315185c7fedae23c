"""Signing in (password, then TOTP where enrolled), signing out, TOTP enrolment, who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool

from pingan.adapters.passwords import verify_password
from pingan.adapters.tokens import ACCESS, TOTP_ENROL, issue
from pingan.api.deps import (
    ActorDep,
    EnrollingDep,
    RuntimeDep,
    SecondFactorDep,
    SessionDep,
)
from pingan.api.errors import documented
from pingan.api.runtime import Runtime
from pingan.api.schemas import TokenOut, TotpCodeIn, TotpEnrolmentOut, UserOut
from pingan.domain.access import CENTRE_ROLES
from pingan.services.accounts import Stage, confirm_totp, enrol_totp, login, logout

ENROL_TTL = timedelta(minutes=10)

router = APIRouter(prefix="/api/v1", tags=["auth"])


def user_out(user: object) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def _token_out(rt: Runtime, user_id: int, stage: Stage) -> TokenOut:
    with rt.uows(readonly=True) as uow:
        user = uow.users.get(user_id)
    full = stage is Stage.FULL
    ttl = timedelta(minutes=rt.settings.token_ttl_minutes) if full else ENROL_TTL
    purpose = ACCESS if full else TOTP_ENROL
    return TokenOut(
        access_token=issue(rt.settings.secret_key, user_id, rt.env.now(), ttl, purpose),
        expires_in=int(ttl.total_seconds()),
        user=user_out(user),
        stage=stage.value,
    )


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=documented(401, 422, 429),
    summary="Sign in with username and password (OAuth2 password form), and `totp` if enrolled",
    description=(
        "An account with a confirmed authenticator must send `totp` (6 digits); without it the "
        "answer is 401 `auth.totp_required`. An administrator or auditor who has not enrolled yet "
        "receives a short `totp_enrol` token (stage `totp_enrol`) that only enrols a factor."
    ),
)
async def token(
    request: Request,
    rt: RuntimeDep,
    factor: SecondFactorDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    totp: Annotated[str | None, Form(max_length=8)] = None,
) -> TokenOut:
    client = request.client.host if request.client else "unknown"
    settings = rt.settings

    def run() -> TokenOut:
        with rt.uows() as uow:
            signed_in = login(
                uow,
                username,
                password,
                client,
                rt.env,
                verify_password,
                settings.login_max_failures,
                settings.login_window_s,
                second_factor=factor,
                totp_code=totp,
            )
        return _token_out(rt, signed_in.user_id, signed_in.stage)

    return await run_in_threadpool(run)


@router.post(
    "/auth/logout",
    status_code=204,
    responses=documented(401),
    summary="Sign out: this token is refused from now on, here and on the WebSocket",
)
def sign_out(rt: RuntimeDep, session: SessionDep) -> Response:
    actor, claims = session
    with rt.uows(actor) as uow:
        logout(uow, actor, claims.jti, claims.expires_at, rt.env)
    return Response(status_code=204)


@router.post(
    "/auth/totp",
    response_model=TotpEnrolmentOut,
    status_code=201,
    responses=documented(401, 409),
    summary="Start enrolling a TOTP authenticator; the secret is shown this once",
)
def totp_enrol(rt: RuntimeDep, session: EnrollingDep, factor: SecondFactorDep) -> TotpEnrolmentOut:
    actor, _claims = session
    with rt.uows(actor) as uow:
        enrolment = enrol_totp(uow, actor, factor, rt.env)
    return TotpEnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post(
    "/auth/totp/confirm",
    response_model=TokenOut,
    responses=documented(400, 401, 404, 409, 422),
    summary="Confirm the authenticator with a first code; returns a full token",
)
def totp_confirm(
    body: TotpCodeIn, rt: RuntimeDep, session: EnrollingDep, factor: SecondFactorDep
) -> TokenOut:
    actor, _claims = session
    with rt.uows(actor) as uow:
        confirm_totp(uow, actor, factor, body.code, rt.env)
    return _token_out(rt, actor.user_id, Stage.FULL)


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
    if actor.role in CENTRE_ROLES:  # a unit's notices are its centre's, not everyone's under it
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
