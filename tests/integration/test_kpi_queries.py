"""The KPIs the database counts equal the written definitions (`analytics/kpis.py`) applied to
`case_facts`, for every kind of caller, drilled-down unit and window, on SQLite and PostgreSQL.

Cases are inserted as rows inside a transaction that is rolled back, with times picked around the
edges that matter: the window's first instant, local (China) midnight, UTC midnight (08:00 in
China), a microsecond either side of each, and open cases reported long before the window.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, insert, select

from pingan.adapters.db import kpi_queries
from pingan.adapters.db.case_facts import case_facts
from pingan.adapters.db.kpi_queries import FactSet
from pingan.adapters.db.tables import cases, deadlines, departments, units, users
from pingan.analytics import kpis
from pingan.domain.access import SYSTEM_ACTOR, Actor, Role
from pingan.domain.cases import CaseState
from pingan.domain.sla import CST
from tests.integration.conftest import World

MIDNIGHT = datetime(2026, 12, 1, tzinfo=CST)  # local midnight; the windows end on this day
WINDOWS = (  # (now, days)
    (MIDNIGHT + timedelta(seconds=30), 7),  # just after local midnight
    (MIDNIGHT + timedelta(days=1, microseconds=-1), 30),  # the last instant of the day
    (MIDNIGHT + timedelta(hours=8), 1),  # UTC midnight
)
US = timedelta(microseconds=1)
OFFSETS = (  # within a local day
    timedelta(0),
    -US,
    US,
    timedelta(hours=8),  # UTC midnight
    timedelta(hours=8) - US,
    timedelta(days=1) - US,
    timedelta(hours=13, minutes=17),
)
STATES = [s.value for s in CaseState]
CATEGORIES = ("E0102", "E0201", "P0101", "S0302", "S0101")


@dataclass(frozen=True)
class CaseRow:
    state: str
    category_code: str
    location_path: str
    reporter: int
    department_id: str | None
    created_at: datetime
    closed_at: datetime | None
    due_at: datetime | None
    overdue_since: datetime | None
    lapsed: tuple[bool, ...]  # one deadline per entry: lapsed or not
    rework_count: int
    satisfaction: int | None


@dataclass(frozen=True)
class Place:
    """What the seeded world offers to build cases and callers from."""

    paths: list[str]
    grid: str  # where the edge cases are: inside every sample caller's jurisdiction
    reporters: list[int]
    departments: list[str | None]
    actors: list[Actor]

    def units_for(self, actor: Actor) -> list[str | None]:
        """The caller's jurisdiction, a unit one level below it, and a grid inside it."""
        inside = sorted(p for p in self.paths if actor.sees(p) and p != actor.jurisdiction)
        below = [p for p in inside if p.count(".") == actor.jurisdiction.count(".") + 1]
        return [actor.jurisdiction or None, *below[:1], *inside[-1:]]


@pytest.fixture(scope="module")
def place(world: World) -> Place:
    town = world.town()
    district = world.district()
    grid = world.grids()[0]
    names = (
        "cmd.330400",
        f"op.{town.unit.code}",
        f"h.{district.unit.code}-cgj",
        f"gw.{grid.unit.code}",
        "citizen01",
    )
    with world.rt.engine.connect() as conn:
        rows = conn.execute(select(users).where(users.c.username.in_(names))).all()
        paths = list(conn.execute(select(units.c.path)).scalars())
        dept = conn.execute(select(departments.c.id).order_by(departments.c.id)).scalars().all()
    actors = [
        Actor(r.id, r.username, Role(r.role), r.jurisdiction, r.department_id, r.grid_code)
        for r in rows
    ]
    assert len(actors) == len(names)
    handler_dept = next(a.department_id for a in actors if a.role is Role.HANDLER)
    return Place(
        paths=paths,
        grid=grid.unit.path,
        reporters=[a.user_id for a in actors],
        departments=[None, handler_dept, dept[0], dept[-1]],
        actors=[SYSTEM_ACTOR, *actors],
    )


@pytest.fixture
def conn(world: World) -> Iterator[Connection]:
    """A transaction that is rolled back: the shared world keeps its cases."""
    with world.rt.engine.connect() as c:
        tx = c.begin()
        try:
            yield c
        finally:
            tx.rollback()


def instants(days_back: st.SearchStrategy[int]) -> st.SearchStrategy[datetime]:
    return st.builds(
        lambda d, off: MIDNIGHT - timedelta(days=d) + off, days_back, st.sampled_from(OFFSETS)
    )


def case_rows(place: Place) -> st.SearchStrategy[CaseRow]:
    when = instants(st.integers(-1, 40))
    maybe = st.none() | when
    return st.builds(
        CaseRow,
        state=st.sampled_from(STATES),
        category_code=st.sampled_from(CATEGORIES),
        location_path=st.sampled_from(place.paths),
        reporter=st.sampled_from(place.reporters),
        department_id=st.sampled_from(place.departments),
        created_at=instants(st.integers(-1, 40) | st.just(400)),
        closed_at=maybe,
        due_at=maybe,
        overdue_since=maybe,
        lapsed=st.lists(st.booleans(), max_size=2).map(tuple),
        rework_count=st.integers(0, 2),
        satisfaction=st.none() | st.integers(1, 5),
    )


def insert_cases(conn: Connection, rows: list[CaseRow]) -> None:
    for r in rows:
        case_id = conn.execute(
            insert(cases).values(
                tracking_no=f"KPI{uuid.uuid4().hex[:20]}",
                state=r.state,
                category_code=r.category_code,
                urgency="routine",
                title="kpi",
                description="kpi",
                lng=120.75,
                lat=30.75,
                grid_code=r.location_path.rsplit(".", 1)[-1],
                location_path=r.location_path,
                owner_path=r.location_path,
                department_id=r.department_id,
                reporter_id=r.reporter,
                channel="app",
                version=1,
                rework_count=r.rework_count,
                satisfaction=r.satisfaction,
                due_at=r.due_at,
                overdue_since=r.overdue_since,
                created_at=r.created_at,
                updated_at=r.created_at,
                closed_at=r.closed_at,
            )
        ).inserted_primary_key[0]
        for i, lapsed in enumerate(r.lapsed):
            conn.execute(
                insert(deadlines).values(
                    case_id=case_id,
                    stage=f"stage{i}",
                    clock="work",
                    limit_seconds=3600.0,
                    started_at=r.created_at,
                    due_at=r.created_at + timedelta(hours=1),
                    warn_at=r.created_at + timedelta(minutes=45),
                    status="lapsed" if lapsed else "met",
                    owner_path=r.location_path,
                    lapsed_at=r.created_at + timedelta(hours=1) if lapsed else None,
                )
            )


@dataclass(frozen=True)
class Figures:
    tiles: kpis.Tiles
    by_unit: dict[str, kpis.UnitCounts]
    by_major: dict[str, int]
    trend: list[kpis.TrendDay]


def window(now: datetime, days: int) -> tuple[datetime, datetime, date, date]:
    """(since, day_start, first day, last day) as the KPI endpoint computes them."""
    today = now.astimezone(CST).date()
    day_start = datetime.combine(today, time(0), CST)
    since = day_start - timedelta(days=days - 1)
    return since, day_start, since.date(), today


def by_sql(conn: Connection, actor: Actor, unit: str | None, now: datetime, days: int) -> Figures:
    since, day_start, first, last = window(now, days)
    facts = FactSet(actor, unit, since, now)
    counts = kpi_queries.count_cases(conn, facts, day_start)
    return Figures(
        counts.tiles(),
        counts.by_child_unit(unit or ""),
        counts.by_major_category(),
        kpi_queries.daily_trend(conn, facts, first, last),
    )


def by_definition(
    conn: Connection, actor: Actor, unit: str | None, now: datetime, days: int
) -> Figures:
    since, day_start, first, last = window(now, days)
    facts = case_facts(conn, actor, unit, since, now)
    return Figures(
        kpis.tiles(facts, day_start),
        kpis.by_child_unit(facts, unit or ""),
        kpis.by_major_category(facts),
        kpis.daily_trend(facts, first, last),
    )


def assert_same_figures(
    conn: Connection, actor: Actor, unit: str | None, now: datetime, days: int
) -> Figures:
    expected = by_definition(conn, actor, unit, now, days)
    assert by_sql(conn, actor, unit, now, days) == expected, (actor.username, unit, now, days)
    return expected


def edge_cases(place: Place) -> list[CaseRow]:
    """One case on each edge, in the sample grid worker's grid (or its town)."""
    grid = place.grid
    town = grid.rsplit(".", 2)[0]
    citizen = next(a.user_id for a in place.actors if a.role is Role.CITIZEN)

    def row(state: str, created: datetime, **kw: object) -> CaseRow:
        base: dict[str, object] = {
            "state": state,
            "category_code": "E0102",
            "location_path": grid,
            "reporter": citizen,
            "department_id": place.departments[1],
            "created_at": created,
            "closed_at": None,
            "due_at": None,
            "overdue_since": None,
            "lapsed": (),
            "rework_count": 0,
            "satisfaction": None,
        }
        return CaseRow(**{**base, **kw})  # type: ignore[arg-type]

    week_start = MIDNIGHT - timedelta(days=6)
    utc_midnight = MIDNIGHT + timedelta(hours=8)
    return [
        row("closed", week_start - US, closed_at=week_start + US),  # before the window
        row("closed", week_start, closed_at=MIDNIGHT - US, lapsed=(True,)),
        row("evaluated", MIDNIGHT - US, closed_at=MIDNIGHT, satisfaction=4),
        row("evaluated", MIDNIGHT, closed_at=utc_midnight - US, satisfaction=3, rework_count=1),
        row("rejected", MIDNIGHT + US),
        row("merged", utc_midnight),
        row("filed", utc_midnight - US, due_at=MIDNIGHT + timedelta(seconds=29)),
        row("accepted", MIDNIGHT - US, due_at=MIDNIGHT + timedelta(seconds=31)),
        row("dispatched", MIDNIGHT - timedelta(days=300), overdue_since=MIDNIGHT),
        row("suspended", MIDNIGHT - timedelta(days=300), closed_at=MIDNIGHT + US),
        row("rework", MIDNIGHT - timedelta(days=2), rework_count=2, lapsed=(False, True)),
        row("handled", MIDNIGHT - timedelta(days=1), location_path=town),
        row("verified", MIDNIGHT - timedelta(days=1), category_code="S0302"),
        row("closed", MIDNIGHT - timedelta(days=3), closed_at=MIDNIGHT - timedelta(days=2)),
    ]


def test_sql_figures_equal_the_definitions_on_the_edges_for_every_caller(
    world: World, place: Place, conn: Connection
) -> None:
    insert_cases(conn, edge_cases(place))
    for now, days in WINDOWS:
        for actor in place.actors:
            for unit in place.units_for(actor):
                assert_same_figures(conn, actor, unit, now, days)
    # The edges are really exercised: the city sees every rule at work.
    city = next(a for a in place.actors if a.username == "cmd.330400")
    f = assert_same_figures(conn, city, city.jurisdiction, *WINDOWS[0])
    t = f.tiles
    assert t.today and t.overdue and t.closed
    assert t.on_time_rate and t.on_time_rate < 1 and t.satisfied_rate and t.satisfied_rate < 1
    assert t.rework_rate and t.satisfaction
    assert sum(d.reported for d in f.trend) and sum(d.closed for d in f.trend)
    assert len(f.by_major) > 1 and any(c.overdue for c in f.by_unit.values())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_sql_figures_equal_the_definitions_on_generated_cases(
    world: World, place: Place, conn: Connection, data: st.DataObject
) -> None:
    rows = data.draw(st.lists(case_rows(place), min_size=1, max_size=30), label="cases")
    nested = conn.begin_nested()
    try:
        insert_cases(conn, rows)
        for _ in range(3):
            actor = data.draw(st.sampled_from(place.actors), label="actor")
            unit = data.draw(st.sampled_from(place.units_for(actor)), label="unit")
            now, days = data.draw(st.sampled_from(WINDOWS), label="window")
            assert_same_figures(conn, actor, unit, now, days)
    finally:
        nested.rollback()


def test_the_endpoint_serves_the_figures_of_the_definitions(world: World, place: Place) -> None:
    city = next(a for a in place.actors if a.username == "cmd.330400")
    body = world.client(city.username).get("/api/v1/stats/kpis", params={"days": 7}).json()
    with world.rt.engine.connect() as conn:
        expected = by_definition(conn, city, city.jurisdiction, world.clock.now, 7)
    assert body["tiles"] == asdict(expected.tiles)
    assert body["by_unit"] and all(
        {k: u[k] for k in ("total", "open", "overdue", "closed")}
        == asdict(expected.by_unit.get(u["path"], kpis.UnitCounts()))
        for u in body["by_unit"]
    )
    assert {c["major_code"]: c["count"] for c in body["by_category"]} == expected.by_major
    assert [(d["day"], d["reported"], d["closed"]) for d in body["trend"]] == [
        (d.day.isoformat(), d.reported, d.closed) for d in expected.trend
    ]
