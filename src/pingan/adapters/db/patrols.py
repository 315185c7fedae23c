"""Repository of patrols and grid workers' positions. Reads for others are scoped by the
workers' jurisdiction paths, like every other read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from pingan.adapters.db.patrol_tables import patrols, worker_positions
from pingan.adapters.db.scope import within
from pingan.adapters.db.tables import users
from pingan.domain.access import Role


@dataclass(frozen=True, slots=True)
class Patrol:
    id: int
    user_id: int
    grid_code: str
    started_at: datetime
    ended_at: datetime | None
    points: int
    distance_m: float
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class Position:
    user_id: int
    at: datetime
    lng: float
    lat: float
    accuracy_m: float | None
    patrol_id: int | None


@dataclass(frozen=True, slots=True)
class WorkerPosition:
    user_id: int
    username: str
    display_name: str
    grid_code: str | None
    jurisdiction: str
    at: datetime
    lng: float
    lat: float
    accuracy_m: float | None
    patrolling: bool


def _patrol(r: Any) -> Patrol:
    return Patrol(
        id=r.id,
        user_id=r.user_id,
        grid_code=r.grid_code,
        started_at=r.started_at,
        ended_at=r.ended_at,
        points=r.points,
        distance_m=r.distance_m,
        display_name=getattr(r, "display_name", "") or "",
    )


_COLUMNS = (*patrols.c, users.c.display_name)


class PatrolRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, patrol_id: int) -> Patrol | None:
        row = self.conn.execute(
            select(*_COLUMNS)
            .join(users, users.c.id == patrols.c.user_id)
            .where(patrols.c.id == patrol_id)
        ).first()
        return _patrol(row) if row else None

    def open_for(self, user_id: int) -> Patrol | None:
        row = self.conn.execute(
            select(*_COLUMNS)
            .join(users, users.c.id == patrols.c.user_id)
            .where(patrols.c.user_id == user_id, patrols.c.ended_at.is_(None))
            .order_by(patrols.c.started_at.desc())
            .limit(1)
        ).first()
        return _patrol(row) if row else None

    def start(self, user_id: int, grid_code: str, at: datetime) -> int:
        result = self.conn.execute(
            insert(patrols).values(
                user_id=user_id, grid_code=grid_code, started_at=at, points=0, distance_m=0.0
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def progress(self, patrol_id: int, points: int, distance: float) -> None:
        self.conn.execute(
            update(patrols)
            .where(patrols.c.id == patrol_id)
            .values(points=points, distance_m=distance)
        )

    def end(self, patrol_id: int, at: datetime) -> None:
        self.conn.execute(update(patrols).where(patrols.c.id == patrol_id).values(ended_at=at))

    def recent(
        self, *, user_id: int | None = None, path: str | None = None, limit: int = 50
    ) -> list[Patrol]:
        q = select(*_COLUMNS).join(users, users.c.id == patrols.c.user_id)
        if user_id is not None:
            q = q.where(patrols.c.user_id == user_id)
        if path is not None:
            q = q.where(within(users.c.jurisdiction, path))
        q = q.order_by(patrols.c.started_at.desc(), patrols.c.id.desc()).limit(limit)
        return [_patrol(r) for r in self.conn.execute(q)]

    def last_position(self, user_id: int, patrol_id: int) -> Position | None:
        row = self.conn.execute(
            select(worker_positions)
            .where(worker_positions.c.user_id == user_id, worker_positions.c.patrol_id == patrol_id)
            .order_by(worker_positions.c.at.desc(), worker_positions.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return Position(row.user_id, row.at, row.lng, row.lat, row.accuracy_m, row.patrol_id)

    def add_positions(self, items: list[Position]) -> None:
        if items:
            self.conn.execute(
                insert(worker_positions),
                [
                    {
                        "user_id": p.user_id,
                        "at": p.at,
                        "lng": p.lng,
                        "lat": p.lat,
                        "accuracy_m": p.accuracy_m,
                        "patrol_id": p.patrol_id,
                    }
                    for p in items
                ],
            )

    def last_positions(self, path: str, since: datetime) -> list[WorkerPosition]:
        """Each grid worker at or below `path` with their latest position since `since`."""
        latest = (
            select(worker_positions.c.user_id, func.max(worker_positions.c.at).label("at"))
            .where(worker_positions.c.at >= since)
            .group_by(worker_positions.c.user_id)
            .subquery()
        )
        open_patrol = (
            select(patrols.c.id)
            .where(patrols.c.user_id == users.c.id, patrols.c.ended_at.is_(None))
            .exists()
        )
        q = (
            select(
                users.c.id,
                users.c.username,
                users.c.display_name,
                users.c.grid_code,
                users.c.jurisdiction,
                worker_positions.c.at,
                worker_positions.c.lng,
                worker_positions.c.lat,
                worker_positions.c.accuracy_m,
                open_patrol.label("patrolling"),
            )
            .select_from(latest)
            .join(users, users.c.id == latest.c.user_id)
            .join(
                worker_positions,
                (worker_positions.c.user_id == latest.c.user_id)
                & (worker_positions.c.at == latest.c.at),
            )
            .where(users.c.role == Role.GRID_WORKER.value, within(users.c.jurisdiction, path))
            .order_by(users.c.id, worker_positions.c.id.desc())
        )
        out: dict[int, WorkerPosition] = {}
        for r in self.conn.execute(q):
            if r.id in out:
                continue
            out[r.id] = WorkerPosition(
                user_id=r.id,
                username=r.username,
                display_name=r.display_name,
                grid_code=r.grid_code,
                jurisdiction=r.jurisdiction,
                at=r.at,
                lng=r.lng,
                lat=r.lat,
                accuracy_m=r.accuracy_m,
                patrolling=bool(r.patrolling),
            )
        return list(out.values())
