"""Patrols (巡查) of grid workers, the positions their phones report, and the last known position
of each grid worker for the centre's map."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from pingan.adapters.db.patrols import Patrol, WorkerPosition
from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import documented
from pingan.api.schemas import IdPath, Strict
from pingan.domain.geo import CRS
from pingan.services import patrols as patrol_service

router = APIRouter(prefix="/api/v1", tags=["patrols"], responses=documented(400, 401, 403, 422))


class PatrolOut(BaseModel):
    id: int
    user_id: int
    display_name: str
    grid_code: str
    started_at: str
    ended_at: str | None
    points: int
    distance_m: float

    @classmethod
    def of(cls, p: Patrol) -> PatrolOut:
        return cls(
            id=p.id,
            user_id=p.user_id,
            display_name=p.display_name,
            grid_code=p.grid_code,
            started_at=p.started_at.isoformat(),
            ended_at=p.ended_at.isoformat() if p.ended_at else None,
            points=p.points,
            distance_m=round(p.distance_m, 1),
        )


class PositionIn(Strict):
    lng: float
    lat: float
    crs: CRS = CRS.WGS84
    at: datetime | None = Field(default=None, description="when measured; default: now")
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class PositionsIn(Strict):
    points: list[PositionIn] = Field(min_length=1, max_length=patrol_service.MAX_BATCH)


class PositionsOut(BaseModel):
    accepted: int
    patrol: PatrolOut | None


class WorkerPositionOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    grid_code: str | None
    at: str
    lng: float
    lat: float
    accuracy_m: float | None
    patrolling: bool

    @classmethod
    def of(cls, w: WorkerPosition) -> WorkerPositionOut:
        return cls(
            user_id=w.user_id,
            username=w.username,
            display_name=w.display_name,
            grid_code=w.grid_code,
            at=w.at.isoformat(),
            lng=w.lng,
            lat=w.lat,
            accuracy_m=w.accuracy_m,
            patrolling=w.patrolling,
        )


@router.post("/patrols", response_model=PatrolOut, status_code=201, responses=documented(409))
def start_patrol(rt: RuntimeDep, actor: ActorDep) -> PatrolOut:
    """Start a patrol (grid workers only; one open patrol at a time)."""
    with rt.uows(actor) as uow:
        return PatrolOut.of(patrol_service.start(uow, actor, rt.env.now()))


@router.post("/patrols/{patrol_id}/end", response_model=PatrolOut, responses=documented(404, 409))
def end_patrol(patrol_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> PatrolOut:
    """End one's own open patrol."""
    with rt.uows(actor) as uow:
        return PatrolOut.of(patrol_service.end(uow, actor, patrol_id, rt.env.now()))


@router.post("/me/positions", response_model=PositionsOut)
def post_positions(body: PositionsIn, rt: RuntimeDep, actor: ActorDep) -> PositionsOut:
    """A batch of the grid worker's positions (WGS-84, GCJ-02 or BD-09; stored as WGS-84). While a
    patrol is open they count towards its points and distance. One bad point refuses the batch.
    The newest position moves the worker's marker on the centre's live map."""
    items = [patrol_service.PositionInput(**p.model_dump()) for p in body.points]
    with rt.uows(actor) as uow:
        result = patrol_service.record(uow, actor, items, rt.env.now())
    if result.latest is not None:
        at, point = result.latest
        rt.hub.send_where_seen(
            actor.jurisdiction,
            {
                "type": "worker.position",
                "user_id": actor.user_id,
                "username": actor.username,
                "display_name": result.display_name,
                "grid_code": actor.grid_code,
                "at": at.isoformat(),
                "lng": point.lng,
                "lat": point.lat,
                "patrolling": result.patrol is not None and result.patrol.ended_at is None,
            },
        )
    return PositionsOut(
        accepted=result.accepted,
        patrol=PatrolOut.of(result.patrol) if result.patrol else None,
    )


@router.get("/patrols", response_model=list[PatrolOut])
def list_patrols(
    rt: RuntimeDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[PatrolOut]:
    """A grid worker's own patrols; for the centre, patrols of workers in its jurisdiction."""
    with rt.uows(actor, readonly=True) as uow:
        return [PatrolOut.of(p) for p in patrol_service.listing(uow, actor, limit)]


@router.get("/workers/positions", response_model=list[WorkerPositionOut])
def worker_positions(rt: RuntimeDep, actor: ActorDep) -> list[WorkerPositionOut]:
    """The last position (within 24 h) of each grid worker in the caller's jurisdiction
    (commanders and operators)."""
    with rt.uows(actor, readonly=True) as uow:
        found = patrol_service.last_positions(uow, actor, rt.env.now())
    return [WorkerPositionOut.of(w) for w in found]
