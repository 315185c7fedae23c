"""The official working calendar: the `chinesecalendar` package's State Council schedules, overlaid
with days stored in the database (`pingan calendar set` / `pingan calendar import`), so a new
year's notice can be entered the day it is published, without a release."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import chinese_calendar

from pingan.domain.errors import InvalidInput
from pingan.domain.sla import WorkCalendar


def bundled_days() -> tuple[set[date], set[date]]:
    """Holidays and make-up working days that the bundled package knows."""
    return set(chinese_calendar.holidays), set(chinese_calendar.workdays) - _weekdays(
        chinese_calendar.workdays
    )


def _weekdays(days: Iterable[date]) -> set[date]:
    return {d for d in days if d.weekday() < 5}


def build_calendar(overrides: Iterable[tuple[date, str, str]] = ()) -> WorkCalendar:
    holidays, workdays = bundled_days()
    for day, kind, _name in overrides:
        if kind == "holiday":
            holidays.add(day)
            workdays.discard(day)
        elif kind == "workday":
            workdays.add(day)
            holidays.discard(day)
    return WorkCalendar(holidays=frozenset(holidays), workdays=frozenset(workdays))


def read_calendar_file(path: Path) -> list[tuple[date, str, str]]:
    """`{"holidays": {"2027-01-01": "元旦"}, "workdays": {"2027-02-07": "春节调休"}}`.

    A file that is not this shape is refused whole (`calendar.bad_file`): nothing half-read.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError("not an object")
        days: list[tuple[date, str, str]] = []
        for kind, key in (("holiday", "holidays"), ("workday", "workdays")):
            entries = data.get(key) or {}
            if not isinstance(entries, dict):
                raise TypeError(f"{key} is not an object")
            for day, name in entries.items():
                days.append((date.fromisoformat(day), kind, str(name)))
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput("calendar.bad_file", reason=str(exc)) from None
    return days


def covered_years() -> tuple[int, int]:
    years = sorted({d.year for d in chinese_calendar.holidays})
    return years[0], years[-1]
