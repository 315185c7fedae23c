"""Suggesting category and department from a report's text, with a model trained on the case
history by `pingan train`."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pingan.cli import app
from tests.integration.conftest import World

runner = CliRunner()


@pytest.fixture
def model_dir(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(world.rt.settings, "model_dir", tmp_path / "models")
    return tmp_path / "models"


def test_without_a_trained_model_suggest_answers_409_and_says_to_train(
    world: World, model_dir: Path
) -> None:
    r = world.client("citizen01").post("/api/v1/intake/suggest", json={"text": "路灯不亮"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "intake.no_model"
    assert "pingan train" in r.json()["error"]["message"]


def test_trained_model_suggests_categories_majors_and_the_local_office(
    world: World, model_dir: Path
) -> None:
    result = runner.invoke(app, ["train", "--url", world.url, "--out", str(model_dir)])
    assert result.exit_code == 0, result.output
    assert (model_dir / "classifier.json").exists()
    grid = world.grids()[0]
    with world.rt.uows(snapshot=True) as uow:
        sample = next(iter(uow.case_texts.labelled()))
    r = world.client("citizen01").post(
        "/api/v1/intake/suggest",
        json={"text": sample.title, "lat": grid.lat, "lon": grid.lng},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["categories"][0]["code"] == sample.category_code
    assert body["categories"][0]["major"] == sample.category_code[:3]
    assert 0 < body["categories"][0]["confidence"] <= 1
    assert len(body["categories"]) <= 3 and body["majors"]
    assert body["location_path"] == grid.unit.path
    office = body["departments"][0]
    assert office["department_id"].endswith("-" + office["kind"])
    with world.rt.uows(readonly=True) as uow:
        dept = uow.departments.get(office["department_id"])
    assert dept is not None and grid.unit.path.startswith(dept.unit_path + ".")
    assert body["model"]["n_samples"] > 0 and "category" in body["model"]["metrics"]


def test_suggest_refuses_a_point_with_only_one_coordinate(world: World, model_dir: Path) -> None:
    r = world.client("citizen01").post("/api/v1/intake/suggest", json={"text": "x", "lat": 30.7})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "intake.point_incomplete"


def test_auditors_who_cannot_report_get_no_suggestions(world: World, model_dir: Path) -> None:
    runner.invoke(app, ["train", "--url", world.url, "--out", str(model_dir)])
    r = world.client("auditor").post("/api/v1/intake/suggest", json={"text": "路灯不亮"})
    assert r.status_code == 403


def test_exported_history_has_one_row_per_labelled_case(world: World, tmp_path: Path) -> None:
    out = tmp_path / "history.csv"
    result = runner.invoke(app, ["export", "training-data", str(out), "--url", world.url])
    assert result.exit_code == 0, result.output
    with world.rt.uows(snapshot=True) as uow:
        expected = sum(1 for _ in uow.case_texts.labelled())
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["text", "description", "category", "major", "department"]
    assert len(rows) - 1 == expected
    assert all(r[3] == r[2][:3] and r[0].endswith(r[1]) for r in rows[1:])
