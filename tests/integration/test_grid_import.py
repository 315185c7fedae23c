"""Importing grids from GeoJSON with `pingan import grids`: problems are reported, not stored."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pingan.adapters.db.migrate import upgrade
from pingan.cli import app

runner = CliRunner()


def _square(x: float, y: float, size: float = 0.01) -> list[list[list[float]]]:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def _fc(*features: dict) -> dict:  # type: ignore[type-arg]
    return {"type": "FeatureCollection", "features": list(features)}


def _feature(code: str, parent: str | None, coords: list, level: str | None = None) -> dict:  # type: ignore[type-arg]
    props = {"code": code, "name": f"单元{code}", "parent": parent}
    if level:
        props["level"] = level
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": coords},
    }


def _db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/import.db"
    upgrade(url)
    return url


def _tree() -> dict:  # type: ignore[type-arg]
    """A city, one district, one town, one community at (120.70, 30.70) with side 0.02°."""
    return _fc(
        _feature("990000", None, _square(120.70, 30.70, 0.02), "city"),
        _feature("990001", "990000", _square(120.70, 30.70, 0.02)),
        _feature("990001001", "990001", _square(120.70, 30.70, 0.02)),
        _feature("990001001001", "990001001", _square(120.70, 30.70, 0.02)),
    )


def test_valid_grids_are_stored_and_points_are_placed_in_them(tmp_path: Path) -> None:
    url = _db(tmp_path)
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps(_tree()))
    assert runner.invoke(app, ["import", "grids", str(tree), "--url", url]).exit_code == 0
    grids = _fc(
        _feature(
            "990001001001001",
            "990001001001",
            _square(120.70, 30.70, 0.02)
            and [
                [
                    [120.70, 30.70],
                    [120.71, 30.70],
                    [120.71, 30.72],
                    [120.70, 30.72],
                    [120.70, 30.70],
                ]
            ],
        ),
        _feature(
            "990001001001002",
            "990001001001",
            [[[120.71, 30.70], [120.72, 30.70], [120.72, 30.72], [120.71, 30.72], [120.71, 30.70]]],
        ),
    )
    path = tmp_path / "grids.json"
    path.write_text(json.dumps(grids))
    result = runner.invoke(app, ["import", "grids", str(path), "--url", url])
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    located = runner.invoke(app, ["locate", "120.715", "30.71", "--url", url])
    assert located.exit_code == 0 and "990001001001002" in located.output


def test_overlapping_and_self_intersecting_grids_are_reported_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    url = _db(tmp_path)
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps(_tree()))
    runner.invoke(app, ["import", "grids", str(tree), "--url", url])
    bowtie = [[[120.70, 30.70], [120.71, 30.71], [120.71, 30.70], [120.70, 30.71], [120.70, 30.70]]]
    bad = _fc(
        _feature(
            "990001001001001",
            "990001001001",
            [
                [
                    [120.70, 30.70],
                    [120.715, 30.70],
                    [120.715, 30.72],
                    [120.70, 30.72],
                    [120.70, 30.70],
                ]
            ],
        ),
        _feature(
            "990001001001002",
            "990001001001",
            [[[120.71, 30.70], [120.72, 30.70], [120.72, 30.72], [120.71, 30.72], [120.71, 30.70]]],
        ),
        _feature("990001001001003", "990001001001", bowtie),
    )
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = runner.invoke(app, ["import", "grids", str(path), "--url", url])
    assert result.exit_code == 1
    assert "grid.overlap" in result.output and "geometry.self_intersection" in result.output
    assert "nothing stored" in result.output
    located = runner.invoke(app, ["locate", "120.715", "30.71", "--url", url])
    assert located.exit_code == 1  # no grid was stored


def test_gaps_between_grids_are_reported(tmp_path: Path) -> None:
    url = _db(tmp_path)
    tree = tmp_path / "tree.json"
    tree.write_text(json.dumps(_tree()))
    runner.invoke(app, ["import", "grids", str(tree), "--url", url])
    half = _fc(
        _feature(
            "990001001001001",
            "990001001001",
            [[[120.70, 30.70], [120.71, 30.70], [120.71, 30.72], [120.70, 30.72], [120.70, 30.70]]],
        )
    )
    path = tmp_path / "half.json"
    path.write_text(json.dumps(half))
    dry = runner.invoke(app, ["import", "grids", str(path), "--url", url, "--dry-run"])
    assert dry.exit_code == 1 and "grid.gap" in dry.output
    allowed = runner.invoke(app, ["import", "grids", str(path), "--url", url, "--allow-gaps"])
    assert allowed.exit_code == 0, allowed.output


def test_invalid_geojson_gets_a_clear_message(tmp_path: Path) -> None:
    url = _db(tmp_path)
    path = tmp_path / "junk.json"
    path.write_text('{"type": "Point", "coordinates": [1, 2]}')
    result = runner.invoke(app, ["import", "grids", str(path), "--url", url])
    assert result.exit_code == 2 and "geojson" in result.output
    path.write_bytes(b"\xff\xfe not json")
    assert runner.invoke(app, ["import", "grids", str(path), "--url", url]).exit_code == 2
