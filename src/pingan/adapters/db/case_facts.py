"""Read-only case queries for the command dashboard: compact map points and KPI facts.

Both go through `case_scope`, the same jurisdiction filter as every case read, so a town's
dashboard can never count or draw another town's cases.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Exists, and_, exists, or_, select

from pingan.adapters.db.scope import case_scope, within
from pingan.adapters.db.tables import cases, deadlines
from pingan.analytics.kpis import OPEN, CaseFact
from pingan.domain.access import Actor

POINT_FIELDS = ("id", "lng", "lat", "state", "urgency", "overdue")


def overdue_at(now: datetime) -> ColumnElement[bool]:
    """Open, and its current stage is past its deadline at `now`."""
    return and_(
        cases.c.state.in_(sorted(OPEN)),
        or_(cases.c.overdue_since.is_not(None), cases.c.due_at < now),
    )


def lapsed() -> Exists:
    """Some stage clock of the case ran out, at any time."""
    return exists().where(deadlines.c.case_id == cases.c.id, deadlines.c.lapsed_at.is_not(None))


def fact_scope(actor: Actor, unit_path: str | None, since: datetime) -> ColumnElement[bool]:
    """The cases the KPIs cover: readable by `actor`, under `unit_path`, and reported since
    `since` or still open (whenever reported)."""
    window = and_(
        case_scope(actor, cases),
        or_(cases.c.created_at >= since, cases.c.state.in_(sorted(OPEN))),
    )
    return and_(window, within(cases.c.location_path, unit_path)) if unit_path else window


def case_points(
    conn: Connection,
    actor: Actor,
    unit_path: str | None,
    now: datetime,
    states: tuple[str, ...] = (),
    overdue: bool | None = None,
) -> list[tuple[int, float, float, str, str, bool]]:
    """One short row per case for the map: (id, lng, lat, state, urgency, overdue)."""
    flag = overdue_at(now)
    stmt = select(
        cases.c.id,
        cases.c.lng,
        cases.c.lat,
        cases.c.state,
        cases.c.urgency,
        flag.label("overdue"),
    ).where(case_scope(actor, cases))
    if unit_path:
        stmt = stmt.where(within(cases.c.location_path, unit_path))
    if states:
        stmt = stmt.where(cases.c.state.in_(states))
    if overdue is not None:
        stmt = stmt.where(flag if overdue else ~flag)
    return [
        (int(r.id), round(r.lng, 6), round(r.lat, 6), r.state, r.urgency, bool(r.overdue))
        for r in conn.execute(stmt.order_by(cases.c.id))
    ]


def case_facts(
    conn: Connection, actor: Actor, unit_path: str | None, since: datetime, now: datetime
) -> list[CaseFact]:
    """Facts for cases reported since `since`, plus every case still open (whenever reported)."""
    stmt = select(
        cases.c.state,
        cases.c.category_code,
        cases.c.location_path,
        cases.c.created_at,
        cases.c.closed_at,
        overdue_at(now).label("overdue"),
        lapsed().label("lapsed"),
        cases.c.rework_count,
        cases.c.satisfaction,
    ).where(fact_scope(actor, unit_path, since))
    return [
        CaseFact(
            state=r.state,
            category_code=r.category_code,
            location_path=r.location_path,
            created_at=r.created_at,
            closed_at=r.closed_at,
            overdue=bool(r.overdue),
            lapsed=bool(r.lapsed),
            rework_count=int(r.rework_count or 0),
            satisfaction=r.satisfaction,
        )
        for r in conn.execute(stmt)
    ]
