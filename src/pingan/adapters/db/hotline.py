"""Repository of the hotline desk: calls taken (sealed caller details only) and follow-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select

from pingan.adapters.db.hotline_tables import followups, hotline_calls
from pingan.adapters.db.scope import within
from pingan.adapters.db.tables import cases


@dataclass(frozen=True, slots=True)
class SealedCall:
    id: int
    case_id: int
    received_at: datetime
    repeat: bool
    phone_enc: str
    name_enc: str | None
    tracking_no: str
    state: str
    title: str


@dataclass(frozen=True, slots=True)
class AwaitingFollowUp:
    case_id: int
    tracking_no: str
    title: str
    closed_at: datetime | None
    version: int
    phone_enc: str
    attempts: int


class HotlineRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_call(self, **values: Any) -> int:
        return int(
            self.conn.execute(
                insert(hotline_calls).values(**values).returning(hotline_calls.c.id)
            ).scalar_one()
        )

    def calls_by_phone(self, phone_index: str, scope: str, limit: int = 20) -> list[SealedCall]:
        """The number's earlier calls about cases within `scope`, newest first."""
        rows = self.conn.execute(
            select(hotline_calls, cases.c.tracking_no, cases.c.state, cases.c.title)
            .join(cases, cases.c.id == hotline_calls.c.case_id)
            .where(hotline_calls.c.phone_index == phone_index, within(cases.c.location_path, scope))
            .order_by(hotline_calls.c.received_at.desc(), hotline_calls.c.id.desc())
            .limit(limit)
        )
        return [
            SealedCall(
                r.id,
                r.case_id,
                r.received_at,
                r.repeat,
                r.phone_enc,
                r.name_enc,
                r.tracking_no,
                r.state,
                r.title,
            )
            for r in rows
        ]

    def add_followup(self, **values: Any) -> None:
        self.conn.execute(insert(followups).values(**values))

    def awaiting_followup(
        self, scope: str, max_attempts: int, limit: int = 200
    ) -> list[AwaitingFollowUp]:
        """Closed (not yet rated) cases taken on the hotline within `scope`, fewest attempts
        first, each with the number of its first call."""
        first_call = (
            select(hotline_calls.c.case_id, func.min(hotline_calls.c.id).label("call_id"))
            .where(hotline_calls.c.repeat.is_(False))
            .group_by(hotline_calls.c.case_id)
            .subquery()
        )
        attempts = (
            select(followups.c.case_id, func.count().label("n"))
            .group_by(followups.c.case_id)
            .subquery()
        )
        n = func.coalesce(attempts.c.n, 0)
        rows = self.conn.execute(
            select(
                cases.c.id,
                cases.c.tracking_no,
                cases.c.title,
                cases.c.closed_at,
                cases.c.version,
                hotline_calls.c.phone_enc,
                n.label("attempts"),
            )
            .join(first_call, first_call.c.case_id == cases.c.id)
            .join(hotline_calls, hotline_calls.c.id == first_call.c.call_id)
            .outerjoin(attempts, attempts.c.case_id == cases.c.id)
            .where(and_(cases.c.state == "closed", within(cases.c.location_path, scope)))
            .where(n < max_attempts)
            .order_by(n, cases.c.closed_at)
            .limit(limit)
        )
        return [
            AwaitingFollowUp(
                r.id, r.tracking_no, r.title, r.closed_at, r.version, r.phone_enc, int(r.attempts)
            )
            for r in rows
        ]
