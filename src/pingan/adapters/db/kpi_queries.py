"""The dashboard's key figures counted by the database, so 100,000 cases never travel to Python.

Two passes over the cases: `count_cases` (tiles, drill-down and categories, grouped per location
and major category) and `daily_trend`. Each figure equals its namesake in `analytics.kpis` over
`case_facts` called with the same arguments: same cases (`fact_scope`), same `overdue_at` and
`lapsed` rules. That pairing is the definition and the test oracle. Only counts come out of SQL;
rates and means are made from them in Python (`Tiles.from_counts`), so rounding is the same on
both databases.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    DateTime,
    and_,
    case,
    cast,
    func,
    or_,
    select,
)

from pingan.adapters.db.case_facts import fact_scope, lapsed, overdue_at
from pingan.adapters.db.tables import cases
from pingan.analytics.kpis import (
    AFTER_HANDLING,
    CLOSED,
    NOT_CASES,
    OPEN,
    TileCounts,
    Tiles,
    TrendDay,
    UnitCounts,
    child_path,
)
from pingan.domain.access import Actor
from pingan.domain.sla import CST

_VALID = cases.c.state.not_in(sorted(NOT_CASES))
_OPEN = cases.c.state.in_(sorted(OPEN))
_CLOSED = cases.c.state.in_(sorted(CLOSED))
_HANDLED = cases.c.state.in_(sorted(s.value for s in AFTER_HANDLING))


@dataclass(frozen=True, slots=True)
class FactSet:
    """The arguments of `case_facts`: which cases the figures count, and `now` for overdue."""

    actor: Actor
    unit_path: str | None
    since: datetime
    now: datetime

    def where(self) -> ColumnElement[bool]:
        return fact_scope(self.actor, self.unit_path, self.since)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet `condition`: 0, never NULL, when none do."""
    return func.count(case((condition, 1)))


@dataclass(frozen=True, slots=True)
class CaseCounts:
    """The tile counts per (location, major category), from one pass over the cases; the tiles,
    the drill-down and the categories are sums of these rows (a few per grid)."""

    rows: list[Any]

    def tiles(self) -> Tiles:
        """`kpis.tiles`."""
        return Tiles.from_counts(
            TileCounts(**{k: sum(getattr(r, k) for r in self.rows) for k in _TILE_COUNTS})
        )

    def by_child_unit(self, parent_path: str) -> dict[str, UnitCounts]:
        """`kpis.by_child_unit`, with `child_path`, the one rule for "the next path segment"."""
        out: dict[str, UnitCounts] = defaultdict(UnitCounts)
        for r in self.rows:
            child = child_path(r.location_path, parent_path)
            if child is None or not r.total:  # rows of rejected or merged cases only
                continue
            c = out[child]
            c.total += r.total
            c.open += r.open
            c.overdue += r.overdue
            c.closed += r.closed
        return dict(out)

    def by_major_category(self) -> dict[str, int]:
        """`kpis.by_major_category`."""
        out: dict[str, int] = defaultdict(int)
        for r in self.rows:
            if r.total:
                out[r.major] += r.total
        return dict(out)


_TILE_COUNTS = tuple(f.name for f in fields(TileCounts))


def count_cases(conn: Connection, facts: FactSet, day_start: datetime) -> CaseCounts:
    """Every count the tiles need, per location and major category, in one pass."""
    rework = func.coalesce(cases.c.rework_count, 0)
    rating = cases.c.satisfaction
    rated = and_(_VALID, rating.is_not(None))
    major = func.substr(cases.c.category_code, 1, 3).label("major")
    counts = {
        "total": _count(_VALID),
        "today": _count(cases.c.created_at >= day_start),  # rejected and merged ones too
        "open": _count(_OPEN),
        "overdue": _count(overdue_at(facts.now)),
        "closed": _count(_CLOSED),
        "on_time": _count(and_(_CLOSED, ~lapsed())),
        "handled": _count(and_(_VALID, or_(_HANDLED, rework != 0))),
        "reworked": _count(and_(_VALID, rework > 0)),
        "rated": _count(rated),
        "rating_sum": func.coalesce(func.sum(case((rated, rating))), 0),
        "satisfied": _count(and_(rated, rating >= 4)),
    }
    stmt = (
        select(cases.c.location_path, major, *(c.label(k) for k, c in counts.items()))
        .where(facts.where())
        .group_by(cases.c.location_path, major)
    )
    return CaseCounts(list(conn.execute(stmt)))


def daily_trend(
    conn: Connection, facts: FactSet, first_day: date, last_day: date
) -> list[TrendDay]:
    """`kpis.daily_trend`: reported and closed per day in China time, every day present. One
    pass, grouped by (day reported, day closed), each NULL outside the window."""
    start = datetime.combine(first_day, time(0), CST)
    end = datetime.combine(last_day + timedelta(days=1), time(0), CST)
    dialect = conn.dialect.name

    def day_within(column: Any) -> ColumnElement[date]:
        return case((and_(column >= start, column < end), _cst_day(column, dialect)))

    reported_on = day_within(cases.c.created_at).label("reported_on")
    closed_on = day_within(cases.c.closed_at).label("closed_on")
    stmt = (
        select(reported_on, closed_on, func.count().label("n"))
        .where(facts.where())
        .group_by(reported_on, closed_on)
    )
    reported: dict[date, int] = defaultdict(int)
    closed: dict[date, int] = defaultdict(int)
    for r in conn.execute(stmt):
        if r.reported_on is not None:
            reported[r.reported_on] += r.n
        if r.closed_on is not None:
            closed[r.closed_on] += r.n
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    return [TrendDay(d, reported[d], closed[d]) for d in days]


_CST_OFFSET = CST.utcoffset(None)


def _cst_day(column: Any, dialect: str) -> ColumnElement[date]:
    """The China-time calendar day of a stored UTC timestamp: its UTC wall time plus eight hours,
    as a date. SQLite stores naive UTC text, and its `date()` rounds to the millisecond (so
    23:59:59.9999 would count on the next day): the fraction, which never changes the day, is cut
    off first. PostgreSQL stores timestamptz; `timezone('UTC', …)` is its UTC wall time, whatever
    the session's time zone."""
    if dialect == "sqlite":
        seconds = func.substr(column, 1, len("YYYY-MM-DD HH:MM:SS"))
        return func.date(seconds, f"{_CST_OFFSET.total_seconds():+.0f} seconds", type_=Date)
    utc_wall = func.timezone("UTC", column, type_=DateTime)
    return cast(utc_wall + _CST_OFFSET, Date)
