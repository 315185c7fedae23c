"""Video calls (可视平安通): place, answer, refuse, add a participant, hang up, the call log, whom
to call about a case, and a recording kept on the case. Media flows between the browsers; the
WebRTC signals travel over the authenticated WebSocket (`/api/v1/ws`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from pingan.adapters.db.calls import CallView, Contact
from pingan.adapters.media import MediaStore
from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import documented
from pingan.api.schemas import IdIn, IdPath, Strict
from pingan.api.signalling import Signalling, call_json
from pingan.domain.errors import InvalidInput
from pingan.domain.ids import MAX_ID
from pingan.services import calls as call_service

router = APIRouter(prefix="/api/v1", tags=["calls"], responses=documented(400, 401, 422))


class PartyOut(BaseModel):
    user_id: int
    display_name: str
    role: str
    state: str
    joined_at: str | None
    left_at: str | None


class CallOut(BaseModel):
    id: int
    version: int = Field(
        description="rises with every change; an update older than the one a client holds is stale"
    )
    host_id: int
    host_name: str
    case_id: int | None
    state: str = Field(description="ringing, active or ended")
    outcome: str | None = Field(description="completed, refused, missed or cancelled")
    created_at: str
    connected_at: str | None
    ended_at: str | None
    duration_s: float | None
    recording_id: int | None = Field(description="attachment id of a kept recording")
    parties: list[PartyOut]

    @classmethod
    def of(cls, view: CallView) -> CallOut:
        return cls.model_validate(call_json(view))


class CallConfigOut(BaseModel):
    ice_servers: list[dict[str, Any]]
    ring_timeout_s: float


class PlaceCall(Strict):
    callee_id: IdIn
    case_id: IdIn | None = None


class InviteBody(Strict):
    user_id: IdIn


class ContactOut(BaseModel):
    user_id: int
    display_name: str
    role: str
    grid_code: str | None
    department_id: str | None
    online: bool


def signalling(request: Request) -> Signalling:
    sig: Signalling = request.app.state.signalling
    return sig


@router.get("/calls/config", response_model=CallConfigOut)
def call_config(rt: RuntimeDep, _actor: ActorDep) -> CallConfigOut:
    """ICE (STUN/TURN) servers for the browsers and how long a call rings."""
    return CallConfigOut(
        ice_servers=rt.settings.ice_servers, ring_timeout_s=rt.settings.call_ring_timeout_s
    )


@router.post("/calls", response_model=CallOut, status_code=201, responses=documented(403, 404))
def place_call(body: PlaceCall, request: Request, rt: RuntimeDep, actor: ActorDep) -> CallOut:
    """Ring someone in the caller's jurisdiction (centre staff only), optionally about a case."""
    with rt.uows(actor) as uow:
        view = call_service.place(uow, actor, body.callee_id, rt.env.now(), body.case_id)
    signalling(request).announce(view)
    return CallOut.of(view)


@router.get("/calls", response_model=list[CallOut], responses=documented(404))
def call_log(
    rt: RuntimeDep,
    actor: ActorDep,
    case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CallOut]:
    """The call log of a case, or a user's call history (one's own by default)."""
    with rt.uows(actor, readonly=True) as uow:
        views = call_service.log(uow, actor, case_id=case_id, user_id=user_id, limit=limit)
    return [CallOut.of(v) for v in views]


@router.get("/calls/{call_id}", response_model=CallOut, responses=documented(404))
def get_call(call_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> CallOut:
    with rt.uows(actor, readonly=True) as uow:
        return CallOut.of(call_service.read(uow, actor, call_id))


def _change(request: Request, view: CallView) -> CallOut:
    signalling(request).announce(view)
    return CallOut.of(view)


@router.post("/calls/{call_id}/accept", response_model=CallOut, responses=documented(404, 409))
def accept_call(call_id: IdPath, request: Request, rt: RuntimeDep, actor: ActorDep) -> CallOut:
    with rt.uows(actor) as uow:
        view = call_service.answer(uow, actor, call_id, rt.env.now(), accept=True)
    return _change(request, view)


@router.post("/calls/{call_id}/refuse", response_model=CallOut, responses=documented(404, 409))
def refuse_call(call_id: IdPath, request: Request, rt: RuntimeDep, actor: ActorDep) -> CallOut:
    with rt.uows(actor) as uow:
        view = call_service.answer(uow, actor, call_id, rt.env.now(), accept=False)
    return _change(request, view)


@router.post("/calls/{call_id}/hangup", response_model=CallOut, responses=documented(404, 409))
def hang_up_call(call_id: IdPath, request: Request, rt: RuntimeDep, actor: ActorDep) -> CallOut:
    """Leave the call; when the host hangs up the call ends for everyone."""
    with rt.uows(actor) as uow:
        view = call_service.hang_up(uow, actor, call_id, rt.env.now())
    return _change(request, view)


@router.post("/calls/{call_id}/invite", response_model=CallOut, responses=documented(403, 404, 409))
def invite_to_call(
    call_id: IdPath, body: InviteBody, request: Request, rt: RuntimeDep, actor: ActorDep
) -> CallOut:
    """Add a participant (e.g. the department's handler); only the host may."""
    with rt.uows(actor) as uow:
        view = call_service.invite(uow, actor, call_id, body.user_id, rt.env.now())
    return _change(request, view)


@router.post(
    "/calls/{call_id}/recording",
    response_model=CallOut,
    responses={**documented(403, 404, 409), 413: {"description": "Too large"}},
)
async def keep_recording(
    call_id: IdPath, rt: RuntimeDep, actor: ActorDep, file: Annotated[UploadFile, File()]
) -> CallOut:
    """Keep the host's in-browser recording (WebM/MP4) on the call's case as evidence."""
    limit = rt.settings.max_recording_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput("attachment.too_large", max_bytes=limit)
    store = MediaStore(rt.settings.media_dir)

    def run() -> CallOut:
        with rt.uows(actor) as uow:
            view = call_service.keep_recording(
                uow, actor, call_id, data, file.filename, rt.env.now(), store.put
            )
        return CallOut.of(view)

    return await run_in_threadpool(run)


@router.get("/cases/{case_id}/contacts", response_model=list[ContactOut], responses=documented(404))
def case_contacts(case_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> list[ContactOut]:
    """Whom the caller may video-call about a case: its grid's workers and its department's
    handlers, and whether each has the app open now."""
    with rt.uows(actor, readonly=True) as uow:
        found = call_service.contacts(uow, actor, case_id)
    return _contacts_out(rt, found)


@router.get("/grids/{grid_code}/contacts", response_model=list[ContactOut])
def grid_contacts(
    grid_code: Annotated[str, Path(max_length=32)], rt: RuntimeDep, actor: ActorDep
) -> list[ContactOut]:
    """Whom the caller may video-call in a grid (its grid workers; none outside one's
    jurisdiction), and whether each has the app open now."""
    with rt.uows(actor, readonly=True) as uow:
        found = call_service.grid_contacts(uow, actor, grid_code)
    return _contacts_out(rt, found)


def _contacts_out(rt: RuntimeDep, found: list[Contact]) -> list[ContactOut]:
    online = rt.hub.online_users()
    return [
        ContactOut(
            user_id=c.user_id,
            display_name=c.display_name,
            role=c.role,
            grid_code=c.grid_code,
            department_id=c.department_id,
            online=c.user_id in online,
        )
        for c in found
    ]
