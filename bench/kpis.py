"""The dashboard's KPI request with 100,000 cases, on SQLite and PostgreSQL.

Seeds the small demo city, adds N case rows reported over the last 30 days (every state; closed
ones with a closing time, one in ten with a lapsed stage clock, ratings on evaluated ones), so every
case is in the default window, and times `GET /api/v1/stats/kpis` for the city commander on a live
server. Next to it, the same figures made in process both ways: counted by the database
(`adapters/db/kpi_queries.py`, what the endpoint runs) and from every case's facts in Python
(`analytics/kpis.py` over `case_facts`, what it ran before). Figures only; run with
`python -m bench.kpis [N]`.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select
from tests.conftest import PG_ADMIN_URL, fresh_database_url
from tests.e2e.conftest import seeded_env, start_server

from pingan.adapters.db import kpi_queries
from pingan.adapters.db.case_facts import case_facts
from pingan.adapters.db.engine import make_engine
from pingan.adapters.db.tables import cases, deadlines, units, users
from pingan.analytics import kpis
from pingan.demo.seed import DEMO_PASSWORD
from pingan.domain.access import Actor, Role
from pingan.domain.sla import CST

COMMANDER = "cmd.330400"
STATES = ["reported", "filed", "dispatched", "accepted", "handled", "rework", "verified"]
STATES += ["closed", "evaluated"] * 3 + ["rejected", "merged", "suspended"]
CATEGORIES = ["E0102", "E0201", "E0305", "P0101", "P0203", "S0101", "S0302"]
RUNS = 5


def add_cases(url: str, n: int, now: datetime, seed: int = 11) -> None:
    """N varied cases in the seeded city, reported in the 30 days before `now`."""
    rng = random.Random(seed)
    engine = make_engine(url)
    with engine.begin() as conn:
        template = conn.execute(select(cases).limit(1)).one()._asdict()
        del template["id"]
        grids = conn.execute(
            select(units.c.path, units.c.code, units.c.center_lng, units.c.center_lat).where(
                units.c.level == "grid"
            )
        ).all()
        rows = [_case(template, rng.choice(grids), i, now, rng) for i in range(n)]
        conn.execute(insert(cases), rows)
        closed = conn.execute(
            select(cases.c.id, cases.c.created_at, cases.c.owner_path).where(
                cases.c.tracking_no.like("KPI%"), cases.c.closed_at.is_not(None)
            )
        ).all()
        conn.execute(insert(deadlines), [_lapsed(*c) for c in closed if rng.random() < 0.1])
    engine.dispose()


def _case(template: dict[str, Any], grid: Any, i: int, now: datetime, rng: random.Random) -> Any:
    state = rng.choice(STATES)
    created = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
    closed = state in ("closed", "evaluated")
    return {
        **template,
        "tracking_no": f"KPI{i:08d}",
        "state": state,
        "category_code": rng.choice(CATEGORIES),
        "grid_code": grid.code,
        "location_path": grid.path,
        "owner_path": grid.path.rsplit(".", 2)[0],
        "lng": grid.center_lng,
        "lat": grid.center_lat,
        "created_at": created,
        "updated_at": created,
        "closed_at": min(now, created + timedelta(hours=rng.uniform(1, 240))) if closed else None,
        "due_at": created + timedelta(days=rng.choice((1, 3, 10, 40))),
        "overdue_since": None,
        "rework_count": rng.choice((0, 0, 0, 1, 2)),
        "satisfaction": rng.randint(1, 5) if state == "evaluated" else None,
    }


def _lapsed(case_id: int, created: datetime, owner_path: str) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "stage": "handle",
        "clock": "work",
        "limit_seconds": 3600.0,
        "started_at": created,
        "due_at": created + timedelta(hours=1),
        "warn_at": created + timedelta(minutes=45),
        "status": "lapsed",
        "owner_path": owner_path,
        "lapsed_at": created + timedelta(hours=1),
    }


def _median_ms(fn: Callable[[], object], runs: int = RUNS) -> float:
    fn()  # warm up: caches, the query plan, the connection
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


def in_process(url: str, now: datetime) -> dict[str, float]:
    """Median ms of the four figures for the city, counted in SQL and from facts in Python."""
    today = now.astimezone(CST).date()
    day_start = datetime.combine(today, datetime.min.time(), CST)
    since = day_start - timedelta(days=29)
    engine = make_engine(url)
    with engine.connect() as conn:
        u = conn.execute(select(users).where(users.c.username == COMMANDER)).one()
        actor = Actor(u.id, u.username, Role(u.role), u.jurisdiction)
        facts = kpi_queries.FactSet(actor, actor.jurisdiction, since, now)

        def sql() -> object:
            counts = kpi_queries.count_cases(conn, facts, day_start)
            return (
                counts.tiles(),
                counts.by_child_unit(actor.jurisdiction),
                counts.by_major_category(),
                kpi_queries.daily_trend(conn, facts, since.date(), today),
            )

        def python() -> object:
            rows = case_facts(conn, actor, actor.jurisdiction, since, now)
            return (
                kpis.tiles(rows, day_start),
                kpis.by_child_unit(rows, actor.jurisdiction),
                kpis.by_major_category(rows),
                kpis.daily_trend(rows, since.date(), today),
            )

        assert sql() == python(), "the SQL figures differ from the definitions"
        figures = {"sql_ms": _median_ms(sql), "python_ms": _median_ms(python)}
        figures["facts"] = len(case_facts(conn, actor, actor.jurisdiction, since, now))
    engine.dispose()
    return figures


def over_http(env: dict[str, str]) -> float:
    """Median ms of `GET /api/v1/stats/kpis` as the city commander on a live server."""
    server, base = start_server(env)
    try:
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": COMMANDER, "password": DEMO_PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def get() -> object:
            r = httpx.get(f"{base}/api/v1/stats/kpis", headers=headers, timeout=120)
            r.raise_for_status()
            return r

        return _median_ms(get)
    finally:
        server.terminate()
        server.wait()


def measure(kind: str, n: int = 100_000) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = fresh_database_url(kind, tmp, PG_ADMIN_URL if kind == "postgres" else None)
        try:
            env = seeded_env(Path(tmp), PINGAN_DATABASE_URL=url)
            now = datetime.now(UTC)
            add_cases(url, n, now)
            figures = in_process(url, now)
            figures["http_ms"] = over_http(env)
        finally:
            drop()  # type: ignore[operator]
    return figures


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    for kind in sys.argv[2:] or ["sqlite", "postgres"]:
        f = measure(kind, count)
        print(
            f"KPIs, {count:,} cases on {kind} ({f['facts']:,.0f} in the window or open), "
            f"median of {RUNS}: GET /api/v1/stats/kpis {f['http_ms']:,.0f} ms; in process: "
            f"counted in SQL {f['sql_ms']:,.0f} ms, facts in Python {f['python_ms']:,.0f} ms"
        )
