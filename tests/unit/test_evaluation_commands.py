"""`pingan evaluate intake` and `pingan evaluate duplicates` on files as people would bring them."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pingan.cli import app
from pingan.domain.errors import InvalidInput
from pingan.domain.similarity import Window
from pingan.intelligence.duplicate_evaluation import read_pairs, score_pairs

runner = CliRunner()
EXAMPLE_PAIRS = Path(__file__).parents[2] / "examples" / "duplicate-pairs.csv"


def english_csv(path: Path, rows: int = 300) -> None:
    rng = random.Random(5)
    kinds = {
        "pothole": ("roads", ["a pothole on", "a hole in the road near", "broken asphalt at"]),
        "noise": ("police", ["loud music from", "people shouting at", "a party at"]),
        "light": ("works", ["a street light out on", "a dark lamp post at", "a broken lamp on"]),
    }
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Complaint", "Type", "Agency"])
        for _ in range(rows):
            label = rng.choice(list(kinds))
            agency, phrases = kinds[label]
            w.writerow([f"There is {rng.choice(phrases)} Elm Street", label, agency])


def test_evaluate_intake_works_for_any_labels_and_writes_report_and_charts(
    tmp_path: Path,
) -> None:
    data = tmp_path / "complaints.csv"
    english_csv(data)
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["evaluate", "intake", "--data", str(data), "--out", str(out), "--seed", "1"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["columns"] == {"text": "Complaint", "category": "Type", "department": "Agency"}
    category = report["targets"]["category"]
    assert category["top1_accuracy"] > 0.9
    assert {c["label"] for c in category["per_class"]} == {"pothole", "noise", "light"}
    assert "department" in report["targets"]
    assert (out / "confusion-category.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "confusion-department.png").exists()


def test_evaluate_intake_names_the_columns_when_it_cannot_find_them(tmp_path: Path) -> None:
    data = tmp_path / "odd.csv"
    data.write_text("foo,bar\nx,y\n", "utf-8")
    result = runner.invoke(app, ["evaluate", "intake", "--data", str(data)])
    assert result.exit_code == 2
    assert "dataset.columns_unknown" in result.output and "foo, bar" in result.output


def test_duplicate_evaluation_of_the_example_pairs_reports_precision_and_recall(
    tmp_path: Path,
) -> None:
    out = tmp_path / "dup"
    result = runner.invoke(
        app, ["evaluate", "duplicates", "--data", str(EXAMPLE_PAIRS), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text("utf-8"))
    at = report["at_threshold"]
    assert at["threshold"] == Window().min_score
    assert 0 < at["precision"] <= 1 and 0 < at["recall"] <= 1
    assert report["offered_by_kind"]["same_place_later"] == 0.0  # outside the time window
    assert (out / "duplicates-pr.png").exists()


def test_pairs_outside_the_window_score_zero_and_count_as_not_offered(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    header = "text_a,lat_a,lon_a,time_a,category_a,text_b,lat_b,lon_b,time_b,category_b,duplicate"
    path.write_text(
        f"{header}\n"
        "路灯不亮,30.75,120.75,2026-11-01T08:00,P0110,路灯坏了不亮,30.7501,120.75,"
        "2026-11-01T09:00,P0110,yes\n"
        "路灯不亮,30.75,120.75,2026-11-01T08:00,P0110,路灯不亮,30.75,120.75,"
        "2026-11-20T09:00,P0110,否\n",
        "utf-8",
    )
    scored = score_pairs(read_pairs(path), Window())
    assert scored.scores[0] >= Window().min_score and scored.scores[1] == 0.0
    assert scored.at(Window().min_score) == (1.0, 1.0, 1.0)


def test_a_pair_with_an_unreadable_label_is_refused_by_row(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    header = "text_a,lat_a,lon_a,time_a,category_a,text_b,lat_b,lon_b,time_b,category_b,label"
    path.write_text(f"{header}\na,1,2,2026-11-01,E,b,1,2,2026-11-01,E,maybe\n", "utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_pairs(path)
    assert caught.value.code == "dataset.bad_row" and caught.value.params["row"] == 2
