"""Case repository: loads and saves the Case aggregate, its timeline, and keeps reads in scope.

Saving is optimistic: the row is updated only if its version is still the one that was loaded, so
two concurrent writers can never both win.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pingan.adapters.db.scope import case_scope, within
from pingan.adapters.db.tables import case_timeline, cases
from pingan.domain.access import Actor
from pingan.domain.cases import OPEN_STATES, Case, CaseState, TimelineEntry
from pingan.domain.errors import StaleVersion
from pingan.domain.events import DomainEvent
from pingan.domain.sla import Urgency
from pingan.services.ports import CaseFilter, TrackingNoTaken

_FIELDS = [f.name for f in dataclasses.fields(Case) if not f.name.startswith("pending_")]

# Statements built once with bind parameters: intake and transitions are the hot path, and
# `.values(**row)` would coerce every column on every call. An insert whose tracking number is
# taken writes nothing and returns no id (one statement, no savepoint); any other conflict raises.
_INSERTS = {
    dialect: make(cases)
    .on_conflict_do_nothing(index_elements=[cases.c.tracking_no])
    .returning(cases.c.id)
    for dialect, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_UPDATE = (
    update(cases)
    .where(cases.c.id == bindparam("_id"), cases.c.version == bindparam("_loaded"))
    .values({name: bindparam(name) for name in _FIELDS if name != "id"})
)


def _to_case(row: Any) -> Case:
    m = row._mapping
    values = {name: m[name] for name in _FIELDS}
    values["state"] = CaseState(values["state"])
    values["urgency"] = Urgency(values["urgency"])
    values["suspended_from"] = (
        CaseState(values["suspended_from"]) if values["suspended_from"] else None
    )
    values["photo_ids"] = tuple(values["photo_ids"] or ())
    return Case(**values)


def _to_row(case: Case) -> dict[str, Any]:
    row = {name: getattr(case, name) for name in _FIELDS if name != "id"}
    row["state"] = case.state.value
    row["urgency"] = case.urgency.value
    row["suspended_from"] = case.suspended_from.value if case.suspended_from else None
    row["photo_ids"] = list(case.photo_ids)
    return row


class CaseRepository:
    """Every read is filtered by the actor's jurisdiction; out-of-scope cases do not exist."""

    def __init__(self, conn: Connection, actor: Actor, collect: list[DomainEvent]) -> None:
        self.conn = conn
        self.actor = actor
        self._collect = collect

    def add(self, case: Case) -> Case:
        """Insert a new case; raises TrackingNoTaken (and writes nothing) when its random tracking
        number is already in use, so the caller can draw another."""
        stmt = _INSERTS[self.conn.dialect.name]
        case_id = self.conn.execute(stmt, _to_row(case)).scalar_one_or_none()
        if case_id is None:
            raise TrackingNoTaken(case.tracking_no)
        case.id = int(case_id)
        case.pending_events = [
            dataclasses.replace(e, aggregate_id=case.id, payload={**e.payload, "case_id": case.id})
            for e in case.pending_events
        ]
        self._flush(case)
        return case

    def get(self, case_id: int, *, for_update: bool = False) -> Case | None:
        stmt = select(cases).where(cases.c.id == case_id, case_scope(self.actor, cases))
        if for_update:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        return _to_case(row) if row else None

    def get_by_tracking_no(self, tracking_no: str) -> Case | None:
        row = self.conn.execute(
            select(cases).where(cases.c.tracking_no == tracking_no, case_scope(self.actor, cases))
        ).first()
        return _to_case(row) if row else None

    def save(self, case: Case, loaded_version: int) -> None:
        """Write the case if nobody else has since `loaded_version`; else raise StaleVersion."""
        result = self.conn.execute(
            _UPDATE, {**_to_row(case), "_id": case.id, "_loaded": loaded_version}
        )
        if result.rowcount != 1:
            raise StaleVersion(case_id=case.id, expected=loaded_version)
        self._flush(case)

    def timeline(self, case_id: int) -> list[tuple[int, TimelineEntry]]:
        rows = self.conn.execute(
            select(case_timeline)
            .where(case_timeline.c.case_id == case_id)
            .order_by(case_timeline.c.seq)
        )
        return [
            (
                r.seq,
                TimelineEntry(
                    action=r.action,
                    from_state=CaseState(r.from_state) if r.from_state else None,
                    to_state=CaseState(r.to_state),
                    actor_id=r.actor_id,
                    actor_role=r.actor_role,
                    at=r.at,
                    note=r.note,
                    data=r.data or {},
                ),
            )
            for r in rows
        ]

    def list(
        self,
        flt: CaseFilter,
        now: datetime,
        *,
        limit: int = 50,
        after_id: int | None = None,
        offset: int = 0,
    ) -> tuple[list[Case], int]:
        """A page of cases, newest first, and the total that match."""
        stmt = self._filtered(flt, now)
        total = int(
            self.conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        )
        page = stmt.order_by(cases.c.id.desc())
        if after_id is not None:
            page = page.where(cases.c.id < after_id)
        rows = self.conn.execute(page.limit(limit).offset(offset))
        return [_to_case(r) for r in rows], total

    def summary(self, unit_path: str | None, now: datetime, day_start: datetime) -> dict[str, Any]:
        """Counts by state, overdue among open cases, and reported since `day_start`."""
        scope = case_scope(self.actor, cases)
        if unit_path:
            scope = and_(scope, within(cases.c.location_path, unit_path))
        by_state = {
            r.state: int(r.n)
            for r in self.conn.execute(
                select(cases.c.state, func.count().label("n")).where(scope).group_by(cases.c.state)
            )
        }
        open_states = [s.value for s in OPEN_STATES]
        overdue = self.conn.execute(
            select(func.count()).where(
                scope,
                cases.c.state.in_(open_states),
                or_(cases.c.overdue_since.is_not(None), cases.c.due_at < now),
            )
        ).scalar_one()
        today = self.conn.execute(
            select(func.count()).where(scope, cases.c.created_at >= day_start)
        ).scalar_one()
        return {
            "by_state": by_state,
            "total": sum(by_state.values()),
            "open": sum(n for st, n in by_state.items() if st in open_states),
            "overdue": int(overdue),
            "today": int(today),
        }

    def _filtered(self, flt: CaseFilter, now: datetime) -> Select[Any]:
        stmt = select(cases).where(case_scope(self.actor, cases))
        if flt.states:
            stmt = stmt.where(cases.c.state.in_(flt.states))
        if flt.category:
            stmt = stmt.where(cases.c.category_code.startswith(flt.category))
        if flt.unit_path:
            stmt = stmt.where(within(cases.c.location_path, flt.unit_path))
        if flt.department_id:
            stmt = stmt.where(cases.c.department_id == flt.department_id)
        overdue = or_(cases.c.overdue_since.is_not(None), cases.c.due_at < now)
        if flt.overdue is True:
            stmt = stmt.where(overdue)
        elif flt.overdue is False:
            stmt = stmt.where(~overdue)
        if flt.created_from:
            stmt = stmt.where(cases.c.created_at >= flt.created_from)
        if flt.created_to:
            stmt = stmt.where(cases.c.created_at < flt.created_to)
        if flt.bbox:
            w, s, e, n = flt.bbox
            stmt = stmt.where(
                and_(cases.c.lng >= w, cases.c.lng <= e, cases.c.lat >= s, cases.c.lat <= n)
            )
        if flt.q:
            like = f"%{flt.q}%"
            stmt = stmt.where(
                or_(
                    cases.c.title.like(like),
                    cases.c.description.like(like),
                    cases.c.tracking_no == flt.q,
                )
            )
        return stmt

    def _flush(self, case: Case) -> None:
        if case.pending_timeline:
            base = case.version - len(case.pending_timeline)
            self.conn.execute(
                insert(case_timeline),
                [
                    {
                        "case_id": case.id,
                        "seq": base + i + 1,
                        "action": t.action,
                        "from_state": t.from_state.value if t.from_state else None,
                        "to_state": t.to_state.value,
                        "actor_id": t.actor_id,
                        "actor_role": t.actor_role,
                        "at": t.at,
                        "note": t.note,
                        "data": t.data,
                    }
                    for i, t in enumerate(case.pending_timeline)
                ],
            )
        self._collect.extend(case.pending_events)
        case.pending_timeline = []
        case.pending_events = []
