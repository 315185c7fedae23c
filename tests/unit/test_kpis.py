"""The dashboard's key figures follow the written definitions in analytics/kpis.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pingan.adapters.spreadsheet import neutralise
from pingan.analytics.kpis import CaseFact, by_child_unit, daily_trend, tiles

DAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
TOWN = "330400.330402.330402007"


def fact(state: str, **kw: object) -> CaseFact:
    base: dict[str, object] = {
        "state": state,
        "category_code": "E0102",
        "location_path": f"{TOWN}.330402007001.330402007001001",
        "created_at": DAY,
        "closed_at": None,
        "overdue": False,
        "lapsed": False,
        "rework_count": 0,
        "satisfaction": None,
    }
    base.update(kw)
    return CaseFact(**base)  # type: ignore[arg-type]


def test_rates_count_only_valid_cases_and_closed_ones_on_time() -> None:
    facts = [
        fact("evaluated", closed_at=DAY, satisfaction=5),
        fact("closed", closed_at=DAY, lapsed=True, rework_count=1),
        fact("handled"),
        fact("filed", overdue=True),
        fact("rejected"),
    ]
    t = tiles(facts, DAY)
    assert (t.total, t.open, t.overdue, t.closed) == (4, 2, 1, 2)
    assert t.closure_rate == 0.5
    assert t.on_time_rate == 0.5
    assert t.rework_rate == round(1 / 3, 4)
    assert t.satisfaction == 5.0
    assert t.today == 5


def test_rates_are_unknown_rather_than_zero_when_nothing_was_counted() -> None:
    t = tiles([], DAY)
    assert t.closure_rate is None and t.on_time_rate is None and t.satisfaction is None


def test_counts_roll_up_to_the_child_units_of_the_drilled_unit() -> None:
    out = by_child_unit([fact("filed", overdue=True), fact("closed")], TOWN)
    assert list(out) == [f"{TOWN}.330402007001"]
    counts = out[f"{TOWN}.330402007001"]
    assert (counts.total, counts.open, counts.overdue, counts.closed) == (2, 1, 1, 1)


def test_trend_has_every_day_in_china_time() -> None:
    late = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)  # 01:00 on 2 March in Beijing
    days = daily_trend([fact("filed", created_at=late)], date(2026, 3, 1), date(2026, 3, 3))
    assert [(d.day.day, d.reported) for d in days] == [(1, 0), (2, 1), (3, 0)]


def test_spreadsheet_cells_that_look_like_formulas_are_neutralised() -> None:
    assert neutralise('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert [neutralise(v) for v in ("+1", "-1", "@a", "ok", 3)] == ["'+1", "'-1", "'@a", "ok", 3]
