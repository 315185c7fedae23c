"""SLA clocks against the real store: working hours, warnings, escalation exactly once, restarts."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from pingan.api.runtime import Runtime
from pingan.domain.sla import CST
from pingan.services.clocks import run_clocks
from tests.integration.conftest import World


@pytest.fixture
def at_wednesday_nine(world: World) -> Iterator[World]:
    """Run with the world's clock at Wed 2026-11-25 09:00 CST, then put it back."""
    saved = world.clock.now
    world.clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=CST).astimezone(UTC)
    run_clocks(world.rt.uows, world.rt.env)  # settle whatever the seeded history left due
    yield world
    world.clock.now = saved


def _deadlines(world: World, user: str, case_id: int) -> list[dict]:  # type: ignore[type-arg]
    return list(world.client(user).get(f"/api/v1/cases/{case_id}/deadlines").json())


def test_a_report_on_friday_evening_is_due_on_monday_morning(at_wednesday_nine: World) -> None:
    world = at_wednesday_nine
    world.clock.now = datetime(2026, 11, 27, 17, 0, tzinfo=CST).astimezone(UTC)
    case = world.report(world.client(f"op.{world.town().unit.code}"))
    due = datetime.fromisoformat(case["due_at"]).astimezone(CST)
    # one working hour: Fri 17:00–17:30, then Mon 08:30–09:00
    assert due == datetime(2026, 11, 30, 9, 0, tzinfo=CST)


def test_overdue_case_warns_once_then_escalates_once_to_the_parent_centre(
    at_wednesday_nine: World,
) -> None:
    world = at_wednesday_nine
    town = world.town()
    operator = world.client(f"op.{town.unit.code}")
    case = world.report(operator)
    live = _deadlines(world, "op.330400", case["id"])
    assert [d["status"] for d in live] == ["live"] and live[0]["stage"] == "filing"

    world.clock.advance(minutes=50)  # past 80% of the hour
    run_clocks(world.rt.uows, world.rt.env)
    run_clocks(world.rt.uows, world.rt.env)
    warned = _deadlines(world, "op.330400", case["id"])[0]
    assert warned["warned_at"] is not None and warned["status"] == "live"

    world.clock.advance(minutes=15)  # 10:05, past due
    with ThreadPoolExecutor(4) as pool:  # several clocks at once still escalate exactly once
        list(pool.map(lambda _: run_clocks(world.rt.uows, world.rt.env), range(4)))
    after = world.client("op.330400").get(f"/api/v1/cases/{case['id']}").json()
    assert after["escalation_count"] == 1
    assert after["owner_path"] == world.district().unit.path
    assert after["overdue"] is True
    statuses = [d["status"] for d in _deadlines(world, "op.330400", case["id"])]
    assert statuses == ["lapsed", "live"]  # one fresh clock for the district centre
    timeline = world.client("op.330400").get(f"/api/v1/cases/{case['id']}/timeline").json()
    assert [t["action"] for t in timeline].count("escalate") == 1
    assert timeline[-1]["actor_role"] == "system"

    overdue = world.client(f"op.{world.district().unit.code}").get(
        "/api/v1/cases", params={"overdue": "true", "limit": 500}
    )
    assert case["id"] in [c["id"] for c in overdue.json()["items"]]


def test_progress_stops_the_clock_and_starts_the_next_stage(at_wednesday_nine: World) -> None:
    world = at_wednesday_nine
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(operator)
    world.clock.advance(minutes=10)
    case = world.act(operator, case, "file").json()
    stages = [(d["stage"], d["status"]) for d in _deadlines(world, "op.330400", case["id"])]
    assert stages == [("filing", "met"), ("dispatch", "live")]
    assert case["overdue"] is False


def test_a_suspended_case_keeps_only_the_time_it_had_left(at_wednesday_nine: World) -> None:
    world = at_wednesday_nine
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.act(
        operator, world.report(operator), "file"
    ).json()  # dispatch stage: 1 working hour
    world.clock.advance(minutes=20)
    case = world.act(operator, case, "suspend", reason="等待").json()
    world.clock.advance(hours=2)
    case = world.act(operator, case, "resume").json()
    due = datetime.fromisoformat(case["due_at"])
    assert abs((due - world.clock.now).total_seconds() - 40 * 60) < 1


def test_deadlines_survive_a_restart(at_wednesday_nine: World) -> None:
    world = at_wednesday_nine
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(operator)
    world.clock.advance(hours=1, minutes=5)
    restarted = Runtime.build(world.rt.settings, world.clock)  # a new process on the same database
    try:
        report = run_clocks(restarted.uows, restarted.env)
        assert report.escalated >= 1
    finally:
        restarted.engine.dispose()
    after = world.client("op.330400").get(f"/api/v1/cases/{case['id']}").json()
    assert after["escalation_count"] == 1
