"""Concurrent writers spread over two `pingan serve` processes on one database, SQLite file and
PostgreSQL alike: the in-process writer lock does not reach across processes, so what keeps
optimistic locking and idempotent intake right here is the database alone (SQLite's
`BEGIN IMMEDIATE` with its busy timeout, PostgreSQL's row lock and unique keys). Nothing may
answer 500 or time out."""

from __future__ import annotations

import os
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import fresh_database_url
from tests.reliability.crash_battery import (
    CATEGORY,
    CITIZEN,
    CITY_OPERATOR,
    Proc,
    free_port,
    prepare_database,
    sign_in,
)
from tests.reliability.test_concurrency import WRITERS, all_at_once

PROCESSES = 2


@dataclass
class Cluster:
    """API processes serving one database, and a signed-in client for each."""

    url: str
    grid: tuple[float, float]
    clients: dict[str, list[httpx.Client]]  # username → one client per process

    def spread(self, user: str, i: int) -> httpx.Client:
        """Request `i` goes to process `i mod PROCESSES`, so every race crosses processes."""
        return self.clients[user][i % PROCESSES]

    def report(self) -> dict[str, Any]:
        body = {
            "category_code": CATEGORY,
            "title": "井盖缺失",
            "lng": self.grid[0],
            "lat": self.grid[1],
        }
        r = self.clients[CITIZEN][0].post("/api/v1/cases", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    kind = str(request.param)
    pg = request.getfixturevalue("pg_server") if kind == "postgres" else None
    root = tmp_path_factory.mktemp(f"cluster-{kind}")
    url, drop = fresh_database_url(kind, str(root), pg)
    procs: list[Proc] = []
    try:
        grids, _, _ = prepare_database(url)
        env = {
            **os.environ,
            "PINGAN_DATABASE_URL": url,
            "PINGAN_MEDIA_DIR": str(root / "media"),
            "PINGAN_BUS_URL": "memory://",
        }
        env.pop("PINGAN_MQTT_URL", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        pingan = str(Path(sys.executable).parent / "pingan")
        for i in range(PROCESSES):
            port = free_port()
            argv = [pingan, "serve", "--port", str(port), "--no-workers"]
            procs.append(
                Proc(f"api{i}", argv, env, root / f"api{i}.log", f"http://127.0.0.1:{port}")
            )
            procs[-1].start()
        tokens = sign_in(str(procs[0].base), [CITIZEN, CITY_OPERATOR])
        clients = {
            user: [
                httpx.Client(base_url=str(p.base), headers=tokens.header(user), timeout=60)
                for p in procs
            ]
            for user in (CITIZEN, CITY_OPERATOR)
        }
        yield Cluster(url, grids[0], clients)
        for per_process in clients.values():
            for client in per_process:
                client.close()
    finally:
        for p in procs:
            p.stop()
        drop()  # type: ignore[operator]


def test_fifty_writers_over_two_processes_with_one_etag_one_wins(cluster: Cluster) -> None:
    case = cluster.report()
    url = f"/api/v1/cases/{case['id']}/actions/file"
    etag = f'"{case["version"]}"'

    replies = all_at_once(
        WRITERS,
        lambda i: cluster.spread(CITY_OPERATOR, i).post(url, json={}, headers={"If-Match": etag}),
    )

    statuses = Counter(r.status_code for r in replies)
    assert statuses == {200: 1, 412: WRITERS - 1}, statuses
    operator = cluster.spread(CITY_OPERATOR, 1)
    after = operator.get(f"/api/v1/cases/{case['id']}").json()
    assert after["version"] == case["version"] + 1 and after["state"] == "filed"
    timeline = operator.get(f"/api/v1/cases/{case['id']}/timeline").json()
    assert [t["action"] for t in timeline] == ["report", "file"]


def test_if_match_star_over_two_processes_serialises_without_errors(cluster: Cluster) -> None:
    case = cluster.report()
    url = f"/api/v1/cases/{case['id']}/actions/file"

    replies = all_at_once(
        WRITERS,
        lambda i: cluster.spread(CITY_OPERATOR, i).post(url, json={}, headers={"If-Match": "*"}),
    )

    assert Counter(r.status_code for r in replies) == {200: 1, 409: WRITERS - 1}
    after = cluster.spread(CITY_OPERATOR, 0).get(f"/api/v1/cases/{case['id']}").json()
    assert after["version"] == case["version"] + 1


def test_fifty_retries_of_one_key_over_two_processes_make_one_case(cluster: Cluster) -> None:
    key = f"retry-{uuid.uuid4().hex}"
    lng, lat = cluster.grid
    body = {"category_code": CATEGORY, "title": key, "lng": lng, "lat": lat}

    replies = all_at_once(
        WRITERS,
        lambda i: cluster.spread(CITIZEN, i).post(
            "/api/v1/cases", json=body, headers={"Idempotency-Key": key}
        ),
    )

    assert Counter(r.status_code for r in replies) == {201: WRITERS}
    assert len({r.json()["id"] for r in replies}) == 1
    replayed = [r for r in replies if r.headers.get("Idempotency-Replayed") == "true"]
    assert len(replayed) == WRITERS - 1
    assert _cases_titled(cluster.url, key) == 1


def _cases_titled(url: str, title: str) -> int:
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.tables import cases

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(cases).where(cases.c.title == title)
                ).scalar_one()
            )
    finally:
        engine.dispose()
