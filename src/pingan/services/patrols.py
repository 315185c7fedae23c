"""Patrols (巡查): a grid worker starts one, their phone reports positions in batches, they end
it. The open patrol keeps its point count and walked distance. Centre roles see the last known
position of each grid worker within their jurisdiction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from pingan.adapters.db.patrols import Patrol, Position, WorkerPosition
from pingan.domain.access import CENTRE_ROLES, Actor, Role
from pingan.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from pingan.domain.geo import CRS, Point, distance_m, to_wgs84
from pingan.services.ports import UnitOfWork

RECENT = timedelta(hours=24)  # older positions are not "last positions" any more
CLOCK_SKEW = timedelta(minutes=2)  # a phone's clock may run a little ahead
MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class PositionInput:
    lng: float
    lat: float
    crs: CRS = CRS.WGS84
    at: datetime | None = None
    accuracy_m: float | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    accepted: int
    patrol: Patrol | None
    latest: tuple[datetime, Point] | None = None
    display_name: str = ""


def _worker(actor: Actor) -> None:
    if actor.role is not Role.GRID_WORKER:
        raise Forbidden("patrol.not_permitted")


def start(uow: UnitOfWork, actor: Actor, now: datetime) -> Patrol:
    """Open a patrol; a worker has at most one open at a time."""
    _worker(actor)
    current = uow.patrols.open_for(actor.user_id)
    if current is not None:
        raise Conflict("patrol.already_open", id=current.id)
    grid = actor.grid_code or actor.jurisdiction.rsplit(".", 1)[-1]
    patrol_id = uow.patrols.start(actor.user_id, grid, now)
    patrol: Patrol = uow.patrols.get(patrol_id)
    uow.commit()
    return patrol


def record(uow: UnitOfWork, actor: Actor, items: list[PositionInput], now: datetime) -> Recorded:
    """Store a batch of positions (converted to WGS-84), oldest first; while a patrol is open they
    belong to it and extend its distance. All or nothing: one bad point refuses the batch."""
    _worker(actor)
    points: list[tuple[datetime, Point, float | None]] = []
    for item in items:
        p = to_wgs84(item.lng, item.lat, item.crs)  # refuses non-finite and out-of-range
        at = item.at or now
        if at.tzinfo is None or at > now + CLOCK_SKEW or at < now - RECENT:
            raise InvalidInput("positions.bad_time")
        acc = item.accuracy_m
        if acc is not None and (not math.isfinite(acc) or acc < 0):
            raise InvalidInput("positions.bad_accuracy")
        points.append((min(at, now), p, acc))
    points.sort(key=lambda x: x[0])
    patrol = uow.patrols.open_for(actor.user_id)
    rows: list[Position] = []
    if patrol is not None:
        last = uow.patrols.last_position(actor.user_id, patrol.id)
        prev = Point(last.lng, last.lat) if last else None
        distance = patrol.distance_m
        for _at, p, _acc in points:
            if prev is not None:
                distance += distance_m(prev, p)
            prev = p
        uow.patrols.progress(patrol.id, patrol.points + len(points), distance)
    for at, p, acc in points:
        rows.append(Position(actor.user_id, at, p.lng, p.lat, acc, patrol.id if patrol else None))
    uow.patrols.add_positions(rows)
    updated = uow.patrols.get(patrol.id) if patrol else None
    me = uow.users.get(actor.user_id)
    uow.commit()
    at, newest, _acc = points[-1]
    return Recorded(len(rows), updated, (at, newest), me.display_name if me else actor.username)


def end(uow: UnitOfWork, actor: Actor, patrol_id: int, now: datetime) -> Patrol:
    """End one's own open patrol."""
    _worker(actor)
    patrol = uow.patrols.get(patrol_id)
    if patrol is None or patrol.user_id != actor.user_id:
        raise NotFound("patrol.not_found", id=patrol_id)
    if patrol.ended_at is not None:
        raise Conflict("patrol.not_open", id=patrol_id)
    uow.patrols.end(patrol_id, now)
    ended: Patrol = uow.patrols.get(patrol_id)
    uow.commit()
    return ended


def listing(uow: UnitOfWork, actor: Actor, limit: int = 50) -> list[Patrol]:
    """A worker's own patrols; for centre roles, the patrols of workers in their jurisdiction."""
    if actor.role is Role.GRID_WORKER:
        result: list[Patrol] = uow.patrols.recent(user_id=actor.user_id, limit=limit)
        return result
    if actor.role in CENTRE_ROLES:
        scoped: list[Patrol] = uow.patrols.recent(path=actor.jurisdiction, limit=limit)
        return scoped
    raise Forbidden("patrol.view_not_permitted")


def last_positions(uow: UnitOfWork, actor: Actor, now: datetime) -> list[WorkerPosition]:
    """Each grid worker within the actor's jurisdiction, at their last point of the last 24 h."""
    if actor.role not in CENTRE_ROLES:
        raise Forbidden("positions.not_permitted")
    result: list[WorkerPosition] = uow.patrols.last_positions(actor.jurisdiction, now - RECENT)
    return result
