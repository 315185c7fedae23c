"""SIGKILL the API, the outbox relay and the SLA clock at random moments under load, on SQLite
(WAL, synchronous=FULL) and PostgreSQL: nothing acknowledged is lost or changed, no key makes two
cases, no acknowledged transition goes backwards, every event's effect and every escalation happens
exactly once, the database stays consistent, and each process is ready again within 5 s.

The short version runs here (`CRASH_KILLS`, default 10 per database, tens in all); `make soak`
runs hundreds.
Restarts must be ready within `CRASH_READY_LIMIT_S`, 5 s here as in `make soak` (measured: about
1 s on SQLite and 1.2–1.5 s on PostgreSQL under the battery's own load; docs/reliability.md). The
report is kept beside the ledger and the process logs (`run/report.json` in the test's directory).
See `crash_battery.py` for the harness.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import fresh_database_url
from tests.reliability.crash_battery import Battery

KILLS = int(os.environ.get("CRASH_KILLS", "10"))
READY_LIMIT_S = float(os.environ.get("CRASH_READY_LIMIT_S", "5"))


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sigkilled_processes_lose_nothing_acknowledged_and_do_everything_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pg = request.getfixturevalue("pg_server") if kind == "postgres" else None
    url, drop = fresh_database_url(kind, str(tmp_path), pg)
    try:
        report = Battery(
            kind, url, tmp_path / "run", kills=KILLS, ready_limit_s=READY_LIMIT_S
        ).run()
    finally:
        drop()  # type: ignore[operator]
    summary = json.dumps(report.as_dict(), indent=1, default=str)
    (tmp_path / "run" / "report.json").write_text(summary)  # beside the ledger and the logs
    print(summary)
    assert report.violations == []
    assert report.slow_restarts == []
    assert sum(report.kills.values()) == KILLS and len(report.kills) == 3
    # The run exercised what it claims to: acknowledged writes, transitions, events and lapses.
    assert report.cases > 0 and report.acknowledged_transitions > 0
    assert report.notifications > 0 and report.lapsed_deadlines > 0


def test_the_checks_notice_a_lost_transition_a_doubled_effect_and_an_undelivered_event(
    tmp_path: Path,
) -> None:
    """The battery's checks themselves: clean after an honest run, loud after tampering."""
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from pingan.api.app import create_app
    from pingan.api.runtime import Runtime
    from pingan.config import Settings
    from tests.reliability.crash_battery import (
        CITIZEN,
        CITY_OPERATOR,
        PASSWORD,
        Report,
        check_database,
        prepare_database,
    )

    url = f"sqlite:///{tmp_path}/checks.db"
    grids, _devices, _handlers = prepare_database(url)
    rt = Runtime.build(Settings(database_url=url, media_dir=tmp_path / "media", run_workers=False))
    key = "crash-selftest"
    body = {"category_code": "E0102", "title": key, "lng": grids[0][0], "lat": grids[0][1]}
    entries: list[dict[str, object]] = []
    with TestClient(create_app(runtime=rt, start_workers=False)) as http:

        def auth(user: str) -> dict[str, str]:
            r = http.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        case = http.post(
            "/api/v1/cases", json=body, headers={**auth(CITIZEN), "Idempotency-Key": key}
        )
        entries.append({"op": "create", "key": key, "outcome": "ok", "case": case.json()})
        case_id = case.json()["id"]
        for version, action in enumerate(("file", "dispatch"), start=1):
            r = http.post(
                f"/api/v1/cases/{case_id}/actions/{action}",
                json={},
                headers={**auth(CITY_OPERATOR), "If-Match": f'"{version}"'},
            )
            assert r.status_code == 200, r.text
            entries.append(
                {
                    "op": "act",
                    "case_id": case_id,
                    "action": action,
                    "if_match": version,
                    "outcome": "ok",
                    "version": r.json()["version"],
                    "to_state": r.json()["state"],
                }
            )
    rt.relay.drain()
    clean = Report("sqlite")
    check_database(url, "sqlite", {key: case_id}, entries, clean)
    assert clean.violations == [] and clean.notifications == 1

    with rt.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM case_timeline WHERE case_id = :c AND seq = 3"), {"c": case_id}
        )
        conn.execute(
            text(
                "INSERT INTO notifications (recipient_kind, recipient, case_id, event_id, kind,"
                " created_at) SELECT recipient_kind, recipient, case_id, event_id, kind,"
                " created_at FROM notifications"
            )
        )
        conn.execute(text("UPDATE outbox SET published_at = NULL WHERE type = 'case.filed'"))
    rt.engine.dispose()
    broken = Report("sqlite")
    check_database(url, "sqlite", {key: case_id}, entries, broken)
    found = "\n".join(broken.violations)
    assert "dispatch acknowledged as version 3, timeline has None" in found
    assert "notifications: 1 extra" in found
    assert "1 events never delivered" in found
