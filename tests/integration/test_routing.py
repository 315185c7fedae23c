"""Routing rules operators edit, and the working calendar they can update."""

from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

from pingan.cli import app
from tests.integration.conftest import World


def test_an_edited_rule_changes_where_a_category_is_dispatched(world: World) -> None:
    commander = world.client("cmd.330400")
    district = world.district()
    town = world.town()
    before = world.report(world.client(f"op.{town.unit.code}"), category_code="E0104")
    assert (
        world.client("op.330400")
        .get(f"/api/v1/cases/{before['id']}/dispatch-suggestion")
        .json()["department_id"]
        .endswith("-cgj")
    )
    r = commander.post(
        "/api/v1/dispatch-rules",
        json={
            "category_prefix": "E0104",
            "unit_path": town.unit.path,
            "department_id": f"{district.unit.code}-jtj",
            "priority": 10,
        },
    )
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    try:
        s = (
            world.client("op.330400")
            .get(f"/api/v1/cases/{before['id']}/dispatch-suggestion")
            .json()
        )
        assert s == {"department_id": f"{district.unit.code}-jtj", "reason": f"rule:{rule_id}"}
        operator = world.client(f"op.{town.unit.code}")
        filed = world.act(operator, before, "file").json()
        assert (
            world.act(operator, filed, "dispatch").json()["department_id"]
            == f"{district.unit.code}-jtj"
        )
    finally:
        assert commander.delete(f"/api/v1/dispatch-rules/{rule_id}").status_code == 204


def test_operators_cannot_edit_rules_and_commanders_only_in_their_area(world: World) -> None:
    body = {
        "category_prefix": "E01",
        "unit_path": world.town(1).unit.path,
        "department_id": f"{world.district().unit.code}-cgj",
    }
    assert (
        world.client(f"op.{world.town().unit.code}")
        .post("/api/v1/dispatch-rules", json=body)
        .status_code
        == 403
    )
    town_commander = world.client(f"cmd.{world.town().unit.code}")
    assert town_commander.post("/api/v1/dispatch-rules", json=body).status_code == 403


def test_a_holiday_declared_later_is_honoured_by_new_deadlines(world: World) -> None:
    runner = CliRunner()
    day = date(2027, 5, 6)  # a Thursday the bundled calendar knows nothing about
    assert world.rt.env.calendar.is_workday(day)
    result = runner.invoke(
        app, ["calendar", "set", day.isoformat(), "holiday", "--name", "test", "--url", world.url]
    )
    assert result.exit_code == 0, result.output
    world.rt.reload_calendar()
    assert not world.rt.env.calendar.is_workday(day)
    shown = runner.invoke(app, ["calendar", "show", "--year", "2027", "--url", world.url])
    assert "2027-05-06" in shown.output
