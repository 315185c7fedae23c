"""The 12345 hotline desk: take a call (file it, or add it to the open case it repeats), a
caller's earlier calls by number, and follow-up calls (回访) on closed cases. Centre staff only;
callers' numbers are stored sealed and answered masked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from pingan.api.deps import ActorDep, KeyringDep, RuntimeDep
from pingan.api.errors import documented
from pingan.api.schemas import CaseOut, ContactOut, IdIn, Strict
from pingan.domain.geo import CRS
from pingan.domain.identity import Contact
from pingan.domain.ids import MAX_ID
from pingan.domain.sla import Urgency
from pingan.services import hotline
from pingan.services.intake import CaseDraft

router = APIRouter(
    prefix="/api/v1/hotline", tags=["hotline"], responses=documented(400, 401, 403, 422)
)


class HotlineCallIn(Strict):
    caller_phone: str = Field(min_length=3, max_length=32, examples=["0573-82012345"])
    caller_name: str | None = Field(default=None, max_length=64)
    account: str = Field(min_length=1, max_length=5000, description="what the caller says")
    title: str | None = Field(default=None, max_length=200, description="default: its first line")
    category_code: str = Field(min_length=1, max_length=8)
    lng: float
    lat: float
    crs: CRS = CRS.WGS84
    urgency: Urgency = Urgency.ROUTINE
    address: str = Field(default="", max_length=300)
    duplicate_of: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="add the call to this open case instead"
    )


class CallTakenOut(BaseModel):
    case: CaseOut
    repeat: bool
    caller: ContactOut


class CallerCallOut(BaseModel):
    case_id: int
    tracking_no: str
    state: str
    title: str
    received_at: datetime
    repeat: bool


class CallerOut(BaseModel):
    phone_masked: str
    calls: list[CallerCallOut]


class FollowUpDueOut(BaseModel):
    case_id: int
    tracking_no: str
    title: str
    closed_at: datetime | None
    phone_masked: str
    attempts: int


class FollowUpIn(Strict):
    case_id: IdIn
    outcome: Literal["reached", "unreachable"]
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    note: str | None = Field(default=None, max_length=500)


class FollowUpOut(BaseModel):
    case_id: int
    state: str
    satisfaction: int | None


def _title(body: HotlineCallIn) -> str:
    if body.title:
        return body.title
    first = body.account.replace("\n", "。").split("。")[0].strip()
    return first[:60] or body.account[:60]


@router.post(
    "/calls",
    response_model=CallTakenOut,
    status_code=201,
    responses={**documented(404, 409), 200: {"description": "Idempotent replay"}},
)
async def take_call(
    body: HotlineCallIn,
    rt: RuntimeDep,
    actor: ActorDep,
    keys: KeyringDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> CallTakenOut:
    """File a call as a case (channel `hotline`, the caller sealed on it), or, with
    `duplicate_of`, add it to that open case as a repeat call."""
    caller = Contact.checked(body.caller_name, body.caller_phone, None)
    draft = CaseDraft(
        category_code=body.category_code,
        title=_title(body),
        description=body.account,
        lng=body.lng,
        lat=body.lat,
        crs=body.crs,
        urgency=body.urgency,
        address=body.address,
        channel="hotline",
    )
    call = hotline.HotlineCall(caller, draft, body.duplicate_of)
    taken = await run_in_threadpool(
        hotline.take_call, rt.uows, actor, keys, call, rt.env, idempotency_key
    )
    if taken.replayed:
        response.status_code = 200
        response.headers["Idempotency-Replayed"] = "true"
    c = taken.caller
    return CallTakenOut(
        case=CaseOut.of(taken.case, actor, rt.env.now(), body.crs),
        repeat=taken.repeat,
        caller=ContactOut(name=c.name, phone=c.phone, id_number=None, masked=True),
    )


@router.get("/callers", response_model=CallerOut)
def caller(
    rt: RuntimeDep,
    actor: ActorDep,
    keys: KeyringDep,
    phone: Annotated[str, Query(min_length=3, max_length=32)],
) -> CallerOut:
    """A number's earlier calls within the desk's jurisdiction (looked up by blind index)."""
    with rt.uows(actor) as uow:
        masked, calls = hotline.caller_history(uow, actor, keys, phone, rt.env)
    return CallerOut(
        phone_masked=masked,
        calls=[
            CallerCallOut(
                case_id=c.case_id,
                tracking_no=c.tracking_no,
                state=c.state,
                title=c.title,
                received_at=c.received_at,
                repeat=c.repeat,
            )
            for c in calls
        ],
    )


@router.get("/followups", response_model=list[FollowUpDueOut])
def followups_due(rt: RuntimeDep, actor: ActorDep, keys: KeyringDep) -> list[FollowUpDueOut]:
    """Closed hotline cases awaiting a follow-up call, fewest attempts first."""
    with rt.uows(actor, readonly=True) as uow:
        due = hotline.awaiting_followup(uow, actor, keys)
    return [
        FollowUpDueOut(
            case_id=d.case_id,
            tracking_no=d.tracking_no,
            title=d.title,
            closed_at=d.closed_at,
            phone_masked=masked,
            attempts=d.attempts,
        )
        for d, masked in due
    ]


@router.post("/followups", response_model=FollowUpOut, responses=documented(404, 409))
def record_followup(body: FollowUpIn, rt: RuntimeDep, actor: ActorDep) -> FollowUpOut:
    """Record a follow-up call; when the caller was reached their satisfaction rates the case."""
    with rt.uows(actor) as uow:
        case = hotline.record_followup(
            uow,
            actor,
            body.case_id,
            hotline.FollowUpOutcome(body.outcome),
            rt.env,
            body.satisfaction,
            body.note,
        )
    return FollowUpOut(case_id=case.id, state=case.state.value, satisfaction=case.satisfaction)
