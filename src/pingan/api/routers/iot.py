"""Devices, alarms, fleet status, and the HTTP push endpoint for vendors that cannot speak MQTT."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import documented
from pingan.api.schemas import IdPath, Strict
from pingan.domain.access import CENTRE_ROLES, Actor, Role
from pingan.domain.alarms import POLICIES, Alarm
from pingan.domain.errors import Forbidden, NotFound
from pingan.domain.geo import CRS
from pingan.services import alarms as alarm_service
from pingan.services import devices as device_service
from pingan.services.telemetry import Incoming, ingest

router = APIRouter(prefix="/api/v1", tags=["iot"], responses=documented(400, 401, 422))

PUSHERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.COMMANDER})


class DeviceIn(Strict):
    id: str = Field(min_length=1, max_length=64)
    kind: str = Field(max_length=32, examples=["gas"])
    name: str = Field(default="", max_length=200)
    lng: float
    lat: float
    crs: CRS = CRS.WGS84
    owner: str = Field(default="", max_length=64)
    facility_id: str | None = Field(default=None, max_length=64)
    interval_s: int = Field(default=300, ge=10, le=7 * 86400)


class RegisterOut(BaseModel):
    created: int
    updated: int
    errors: list[dict[str, Any]]


class DeviceOut(BaseModel):
    id: str
    kind: str
    name: str
    lng: float
    lat: float
    grid_path: str
    owner: str
    facility_id: str | None
    interval_s: int
    last_seen_at: str | None
    online: bool
    last_metrics: dict[str, Any] | None


class AlarmOut(BaseModel):
    id: int
    kind: str
    name: str
    name_en: str
    state: str
    device_id: str
    devices: list[str]
    grid_path: str
    lng: float
    lat: float
    count: int
    opened_at: str
    last_at: str
    closed_at: str | None
    case_id: int | None
    auto_case: bool
    note: str

    @classmethod
    def of(cls, a: Alarm) -> AlarmOut:
        p = a.policy
        return cls(
            id=a.id,
            kind=a.kind,
            name=p.name,
            name_en=p.name_en,
            state=a.state.value,
            device_id=a.device_id,
            devices=list(a.devices),
            grid_path=a.grid_path,
            lng=a.lng,
            lat=a.lat,
            count=a.count,
            opened_at=a.opened_at.isoformat(),
            last_at=a.last_at.isoformat(),
            closed_at=a.closed_at.isoformat() if a.closed_at else None,
            case_id=a.case_id,
            auto_case=p.auto_case,
            note=a.note,
        )


class PushMessage(Strict):
    device_id: str = Field(min_length=1, max_length=64)
    channel: Literal["telemetry", "events"] = "telemetry"
    payload: dict[str, Any]


class PushIn(Strict):
    messages: list[PushMessage] = Field(min_length=1, max_length=1000)


class PushOut(BaseModel):
    stored: int
    duplicates: int
    rejected: dict[str, int]
    alarms_raised: int
    alarms_folded: int
    alarms_cleared: int
    cases: list[int]


class DismissIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/devices", response_model=RegisterOut, responses=documented(403))
def register_devices(body: list[DeviceIn], rt: RuntimeDep, actor: ActorDep) -> RegisterOut:
    """Register or update devices; each is placed in its grid. All or nothing."""
    items = [device_service.DeviceInput(**d.model_dump()) for d in body]
    with rt.uows(actor) as uow:
        report = device_service.register(uow, actor, items, rt.env)
    return RegisterOut(
        created=report.created,
        updated=report.updated,
        errors=[{"row": n, "id": i, "code": c} for n, i, c in report.errors],
    )


@router.get("/devices", response_model=list[DeviceOut], responses=documented(403))
def list_devices(
    rt: RuntimeDep,
    actor: ActorDep,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[DeviceOut]:
    """Devices placed in the caller's jurisdiction; not for citizens, whose sign-in spans the
    whole city but who have no business with the sensor and camera registry."""
    _may_view_devices(actor)
    now = rt.env.now()
    with rt.uows(actor, readonly=True) as uow:
        records = uow.devices.page(kind, limit, offset)
    return [
        DeviceOut(
            **{
                k: getattr(r.device, k)
                for k in (
                    "id",
                    "name",
                    "lng",
                    "lat",
                    "grid_path",
                    "owner",
                    "facility_id",
                    "interval_s",
                )
            },
            kind=r.device.kind.value,
            last_seen_at=r.device.last_seen_at.isoformat() if r.device.last_seen_at else None,
            online=r.device.online(now),
            last_metrics=r.last_metrics,
        )
        for r in records
    ]


@router.get(
    "/devices/status",
    summary="Fleet status: online/offline, alarm rates, coverage",
    responses=documented(403),
)
def fleet(rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    _may_view_devices(actor)
    with rt.uows(actor, readonly=True) as uow:
        return device_service.fleet_status(uow, actor, rt.env)


@router.get("/alarms", response_model=list[AlarmOut])
def list_alarms(
    rt: RuntimeDep,
    actor: ActorDep,
    state: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AlarmOut]:
    if actor.role not in CENTRE_ROLES | {Role.AUDITOR, Role.ADMIN}:
        raise Forbidden("alarms.not_permitted")
    with rt.uows(actor, readonly=True) as uow:
        items, _total = uow.alarms.page(tuple(state or ()), limit, offset)
    return [AlarmOut.of(a) for a in items]


@router.get("/alarms/{alarm_id}", response_model=AlarmOut, responses=documented(403, 404))
def get_alarm(alarm_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> AlarmOut:
    if actor.role not in CENTRE_ROLES | {Role.AUDITOR, Role.ADMIN}:
        raise Forbidden("alarms.not_permitted")
    with rt.uows(actor, readonly=True) as uow:
        alarm = uow.alarms.get(alarm_id)
    if alarm is None:
        raise NotFound("alarms.not_found", alarm_id=alarm_id)
    return AlarmOut.of(alarm)


@router.post(
    "/alarms/{alarm_id}/confirm", response_model=AlarmOut, responses=documented(403, 404, 409)
)
def confirm_alarm(alarm_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> AlarmOut:
    """Open a case for an alarm that waits for an operator."""
    with rt.uows(actor) as uow:
        return AlarmOut.of(alarm_service.confirm(uow, actor, alarm_id, rt.env))


@router.post(
    "/alarms/{alarm_id}/dismiss", response_model=AlarmOut, responses=documented(403, 404, 409)
)
def dismiss_alarm(alarm_id: IdPath, body: DismissIn, rt: RuntimeDep, actor: ActorDep) -> AlarmOut:
    with rt.uows(actor) as uow:
        return AlarmOut.of(alarm_service.dismiss(uow, actor, alarm_id, body.reason, rt.env))


@router.get("/alarm-kinds", summary="Alarm kinds and which become cases by themselves")
def alarm_kinds() -> list[dict[str, Any]]:
    return [
        {
            "kind": p.kind,
            "name": p.name,
            "name_en": p.name_en,
            "category_code": p.category_code,
            "urgency": p.urgency.value,
            "auto_case": p.auto_case,
        }
        for p in POLICIES.values()
    ]


@router.post("/iot/messages", response_model=PushOut, responses=documented(403, 413))
async def push(body: PushIn, rt: RuntimeDep, actor: ActorDep) -> PushOut:
    """Vendors that push over HTTP: the same payloads as the MQTT topics, in batches."""
    if actor.role not in PUSHERS:
        raise Forbidden("iot.not_permitted")
    batch = [Incoming(m.device_id, m.channel, m.payload, "http") for m in body.messages]

    def run() -> PushOut:
        with rt.uows() as uow:
            r = ingest(uow, batch, rt.env, rt.flood_gate)
        return PushOut(
            stored=r.stored,
            duplicates=r.duplicates,
            rejected=dict(r.rejected),
            alarms_raised=r.raised,
            alarms_folded=r.folded,
            alarms_cleared=r.cleared,
            cases=r.cases,
        )

    return await run_in_threadpool(run)


def _may_view_devices(actor: Actor) -> None:
    if actor.role is Role.CITIZEN:
        raise Forbidden("devices.view_not_permitted")
