"""Importing historic cases from CSV (UTF-8 or GBK) and xlsx, on SQLite and PostgreSQL: a dry run
reports every row, a real import is all-or-nothing and idempotent, and history is not news."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from pingan.adapters.db.tables import outbox
from pingan.adapters.spreadsheet import workbook
from pingan.domain.geo import wgs84_to_gcj02
from tests.integration.conftest import World

HEADER = (
    "external_id,title,description,category_code,lng,lat,reported_at,closed_at,state,satisfaction"
)


def _rows(world: World, prefix: str, n: int = 3) -> list[str]:
    grids = world.grids()
    return [
        f"{prefix}-{i},历史案件{i},路边垃圾堆积,E0102,{grids[i].lng},{grids[i].lat},"
        f"2025-03-0{i + 1} 09:30,2025-03-0{i + 1} 16:00,closed,{(i % 5) + 1}"
        for i in range(n)
    ]


def _csv(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode(encoding)


def _post(world: World, data: bytes, name: str, **params: Any) -> Any:
    admin = world.client("admin")
    return admin.post(
        "/api/v1/imports/cases",
        params={"dry_run": "false", **params},
        files={"file": (name, data, "text/csv")},
    )


def _imported(world: World, prefix: str) -> list[int]:
    from pingan.adapters.db.webhook_tables import case_imports

    with world.rt.uows(readonly=True) as uow:
        return list(
            uow.connection.execute(
                select(case_imports.c.case_id).where(
                    case_imports.c.external_id.startswith(prefix + "-")
                )
            ).scalars()
        )


def test_a_dry_run_reports_every_bad_row_with_its_line_and_reason_and_imports_nothing(
    world: World,
) -> None:
    prefix = uuid.uuid4().hex[:8]
    good = _rows(world, prefix, 2)
    grid = world.grids()[0]
    bad = [
        f"{prefix}-x1,t,d,Z9999,{grid.lng},{grid.lat},2025-03-01 09:00,2025-03-02 09:00,closed,",
        f"{prefix}-x2,t,d,E0102,120.5,95,2025-03-01 09:00,2025-03-02 09:00,closed,",
        f"{prefix}-x3,t,d,E0102,{grid.lng},{grid.lat},昨天,2025-03-02 09:00,closed,",
        f"{prefix}-x4,t,d,E0102,{grid.lng},{grid.lat},2025-03-05 09:00,2025-03-02 09:00,closed,",
        f"{prefix}-0,t,d,E0102,{grid.lng},{grid.lat},2025-03-01 09:00,2025-03-02 09:00,closed,",
        f"{prefix}-x5,t,d,E0102,{grid.lng},{grid.lat},2025-03-01 09:00,2025-03-02 09:00,closed,9",
        f"{prefix}-x6,t,d,E0102,{grid.lng},{grid.lat},2025-03-01 09:00,,dispatched,",
    ]
    r = _post(world, _csv(good + bad), "history.csv", dry_run="true")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["dry_run"] is True and report["encoding"] == "utf-8"
    assert [row["external_id"] for row in report["ready"]] == [f"{prefix}-0", f"{prefix}-1"]
    assert report["ready"][0]["grid_code"] == grid.unit.code
    assert [(p["line"], p["code"]) for p in report["problems"]] == [
        (4, "import.case.unknown_category"),
        (5, "import.case.bad_place"),
        (6, "import.case.bad_time"),
        (7, "import.case.closed_before_reported"),
        (8, "import.case.duplicate_in_file"),
        (9, "import.case.bad_satisfaction"),
        (10, "import.case.bad_state"),
    ]
    assert report["problems"][0]["message"] == "Unknown category: Z9999"
    assert report["imported"] == 0 and _imported(world, prefix) == []


def test_a_row_outside_every_grid_is_reported_as_such(world: World) -> None:
    prefix = uuid.uuid4().hex[:8]
    row = f"{prefix}-1,t,d,E0102,100.0,40.0,2025-03-01 09:00,2025-03-02 09:00,closed,"
    report = _post(world, _csv([row]), "far.csv", dry_run="true").json()
    assert [p["code"] for p in report["problems"]] == ["import.case.outside_grids"]


def test_a_gbk_file_is_imported_once_as_finished_cases_with_no_clock_and_no_news(
    world: World,
) -> None:
    prefix = uuid.uuid4().hex[:8]
    data = _csv(_rows(world, prefix), "gbk")
    with world.rt.uows(readonly=True) as uow:
        events_before = uow.connection.execute(select(func.count()).select_from(outbox)).scalar()
    r = _post(world, data, "历史.csv")
    assert r.status_code == 200, r.text
    assert r.json()["encoding"] == "gb18030" and r.json()["imported"] == 3
    ids = _imported(world, prefix)
    assert len(ids) == 3

    again = _post(world, data, "历史.csv").json()
    assert again["imported"] == 0 and len(again["already_imported"]) == 3
    assert len(_imported(world, prefix)) == 3

    operator = world.client(f"op.{world.town().unit.code}")
    case = operator.get(f"/api/v1/cases/{min(ids)}").json()
    assert case["title"] == "历史案件0" and case["state"] == "evaluated"
    assert case["satisfaction"] == 1 and case["due_at"] is None
    assert case["created_at"].startswith("2025-03-01T01:30")  # 09:30 China time
    [entry] = operator.get(f"/api/v1/cases/{min(ids)}/timeline").json()
    assert entry["action"] == "import" and entry["data"]["external_id"] == f"{prefix}-0"
    with world.rt.uows(readonly=True) as uow:
        assert all(uow.deadlines.for_case(i) == [] for i in ids)
        events_after = uow.connection.execute(select(func.count()).select_from(outbox)).scalar()
        assert events_after == events_before


def test_an_xlsx_with_chinese_headers_and_gcj02_coordinates_is_placed_in_its_grids(
    world: World,
) -> None:
    prefix = uuid.uuid4().hex[:8]
    grid = world.grids()[1]
    lng, lat = wgs84_to_gcj02(grid.lng, grid.lat)
    data = workbook(
        "历史案件",
        ["外部编号", "标题", "类别编码", "经度", "纬度", "上报时间", "结案时间", "状态"],
        [
            [
                f"{prefix}-1",
                "占道经营",
                "E0501",
                lng,
                lat,
                "2025/4/1 10:00",
                "2025/4/2 11:00",
                "已结案",
            ]
        ],
    )
    r = _post(world, data, "history.xlsx", crs="gcj02")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["encoding"] == "xlsx" and report["imported"] == 1
    assert report["ready"][0]["grid_code"] == grid.unit.code
    assert report["ready"][0]["state"] == "closed"


def test_a_real_import_with_a_bad_row_stores_nothing(world: World) -> None:
    prefix = uuid.uuid4().hex[:8]
    grid = world.grids()[0]
    bad = f"{prefix}-9,t,d,E0102,{grid.lng},{grid.lat},2025-03-01 09:00,,closed,"
    r = _post(world, _csv([*_rows(world, prefix, 2), bad]), "h.csv")
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "import.bad_rows"
    assert [(p["line"], p["code"]) for p in error["report"]["problems"]] == [
        (4, "import.case.missing_field")
    ]
    assert _imported(world, prefix) == []


def test_a_file_without_the_required_columns_is_refused(world: World) -> None:
    r = _post(world, b"id,title\n1,x\n", "h.csv")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "import.missing_columns"


def test_only_administrators_import_cases(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    r = operator.post(
        "/api/v1/imports/cases", files={"file": ("h.csv", _csv(_rows(world, "x")), "text/csv")}
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "import.not_permitted"


def test_the_command_line_imports_a_file_once_and_a_dry_run_stores_nothing(
    world: World, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from pingan.cli import app

    prefix = uuid.uuid4().hex[:8]
    path = tmp_path / "history.csv"
    path.write_bytes(_csv(_rows(world, prefix), "gbk"))
    runner = CliRunner()
    dry = runner.invoke(app, ["import", "cases", str(path), "--dry-run", "--url", world.url])
    assert dry.exit_code == 0, dry.output
    assert "3 to import" in dry.output and _imported(world, prefix) == []
    real = runner.invoke(app, ["import", "cases", str(path), "--url", world.url])
    assert real.exit_code == 0, real.output
    assert "imported 3 case(s)" in real.output
    again = runner.invoke(app, ["import", "cases", str(path), "--url", world.url])
    assert "imported 0 case(s); 3 skipped" in again.output
    assert len(_imported(world, prefix)) == 3
