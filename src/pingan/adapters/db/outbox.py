"""The transactional outbox (events written with the change that caused them) and the inbox that
makes consumers idempotent (an event id is processed at most once per consumer)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from pingan.adapters.db.tables import inbox, outbox
from pingan.domain.events import DomainEvent


class OutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, events: list[DomainEvent]) -> None:
        if not events:
            return
        self.conn.execute(
            insert(outbox),
            [
                {
                    "event_id": e.event_id,
                    "type": e.type,
                    "aggregate_id": e.aggregate_id,
                    "unit_path": e.unit_path,
                    "occurred_at": e.occurred_at,
                    "payload": _jsonable(e.payload),
                }
                for e in events
            ],
        )

    def pending(self, limit: int) -> list[tuple[int, DomainEvent]]:
        rows = self.conn.execute(
            select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(limit)
        )
        return [
            (
                r.id,
                DomainEvent(
                    type=r.type,
                    aggregate_id=r.aggregate_id,
                    unit_path=r.unit_path,
                    occurred_at=r.occurred_at,
                    payload=r.payload,
                    event_id=r.event_id,
                ),
            )
            for r in rows
        ]

    def mark_published(self, ids: list[int], now: datetime) -> None:
        if ids:
            self.conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(published_at=now))

    def backlog(self) -> int:
        return int(
            self.conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            ).scalar_one()
        )


class InboxRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, consumer: str, event_id: str, now: datetime) -> bool:
        """True the first time this consumer sees this event; False on any redelivery."""
        nested = self.conn.begin_nested()
        try:
            self.conn.execute(
                insert(inbox).values(consumer=consumer, event_id=event_id, processed_at=now)
            )
        except IntegrityError:
            nested.rollback()
            return False
        nested.commit()
        return True


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
