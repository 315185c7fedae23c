"""SLA deadline store. Warnings and lapses are claimed with conditional updates, so each fires
exactly once even when two clocks run at the same time or a clock is killed mid-way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pingan.adapters.db.tables import deadlines
from pingan.domain.sla import ClockKind, Deadline, Stage

LIVE, MET, CANCELLED, LAPSED, PAUSED = "live", "met", "cancelled", "lapsed", "paused"
_INSERT = insert(deadlines).returning(deadlines.c.id)


@dataclass(frozen=True, slots=True)
class StoredDeadline:
    id: int
    deadline: Deadline
    status: str
    owner_path: str
    remaining_seconds: float | None
    warned_at: datetime | None
    lapsed_at: datetime | None


def _stored(row: Any) -> StoredDeadline:
    d = Deadline(
        case_id=row.case_id,
        stage=Stage(row.stage),
        started_at=row.started_at,
        due_at=row.due_at,
        warn_at=row.warn_at,
        clock=ClockKind(row.clock),
        limit_seconds=row.limit_seconds,
    )
    return StoredDeadline(
        row.id, d, row.status, row.owner_path, row.remaining_seconds, row.warned_at, row.lapsed_at
    )


class DeadlineRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def start(self, deadline: Deadline, owner_path: str) -> int:
        row = {
            "case_id": deadline.case_id,
            "stage": deadline.stage.value,
            "clock": deadline.clock.value,
            "limit_seconds": deadline.limit_seconds,
            "started_at": deadline.started_at,
            "due_at": deadline.due_at,
            "warn_at": deadline.warn_at,
            "status": LIVE,
            "owner_path": owner_path,
        }
        return int(self.conn.execute(_INSERT, row).scalar_one())

    def get(self, deadline_id: int) -> StoredDeadline | None:
        row = self.conn.execute(select(deadlines).where(deadlines.c.id == deadline_id)).first()
        return _stored(row) if row else None

    def live(self, case_id: int) -> StoredDeadline | None:
        row = self.conn.execute(
            select(deadlines).where(deadlines.c.case_id == case_id, deadlines.c.status == LIVE)
        ).first()
        return _stored(row) if row else None

    def paused(self, case_id: int) -> StoredDeadline | None:
        row = self.conn.execute(
            select(deadlines)
            .where(deadlines.c.case_id == case_id, deadlines.c.status == PAUSED)
            .order_by(deadlines.c.id.desc())
        ).first()
        return _stored(row) if row else None

    def for_case(self, case_id: int) -> list[StoredDeadline]:
        rows = self.conn.execute(
            select(deadlines).where(deadlines.c.case_id == case_id).order_by(deadlines.c.id)
        )
        return [_stored(r) for r in rows]

    def end(
        self, deadline_id: int, status: str, now: datetime, remaining: float | None = None
    ) -> bool:
        """Move a live clock to its final (or paused) status; False if it was no longer live."""
        result = self.conn.execute(
            update(deadlines)
            .where(deadlines.c.id == deadline_id, deadlines.c.status == LIVE)
            .values(status=status, ended_at=now, remaining_seconds=remaining)
        )
        return result.rowcount == 1

    def consume_paused(self, deadline_id: int, now: datetime) -> bool:
        result = self.conn.execute(
            update(deadlines)
            .where(deadlines.c.id == deadline_id, deadlines.c.status == PAUSED)
            .values(status=CANCELLED, ended_at=now)
        )
        return result.rowcount == 1

    def warnable(self, now: datetime, limit: int) -> list[StoredDeadline]:
        rows = self.conn.execute(
            select(deadlines)
            .where(
                deadlines.c.status == LIVE,
                deadlines.c.warned_at.is_(None),
                deadlines.c.warn_at <= now,
            )
            .order_by(deadlines.c.warn_at)
            .limit(limit)
        )
        return [_stored(r) for r in rows]

    def lapsed(self, now: datetime, limit: int) -> list[StoredDeadline]:
        rows = self.conn.execute(
            select(deadlines)
            .where(deadlines.c.status == LIVE, deadlines.c.due_at <= now)
            .order_by(deadlines.c.due_at)
            .limit(limit)
        )
        return [_stored(r) for r in rows]

    def claim_warning(self, deadline_id: int, now: datetime) -> bool:
        result = self.conn.execute(
            update(deadlines)
            .where(
                deadlines.c.id == deadline_id,
                deadlines.c.status == LIVE,
                deadlines.c.warned_at.is_(None),
            )
            .values(warned_at=now)
        )
        return result.rowcount == 1

    def claim_lapse(self, deadline_id: int, now: datetime) -> bool:
        result = self.conn.execute(
            update(deadlines)
            .where(deadlines.c.id == deadline_id, deadlines.c.status == LIVE)
            .values(status=LAPSED, lapsed_at=now, ended_at=now)
        )
        return result.rowcount == 1
