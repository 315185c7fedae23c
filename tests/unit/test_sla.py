"""SLA clocks as a specification: working hours on China's official calendar, natural hours,
warnings at 80% of the allowed time, and clocks that resume with only the time they had left.

The calendar is built from the `chinese_calendar` package (the State Council schedules), which is
also where `pingan.adapters.calendar` takes it from. Working hours are 08:30-12:00 and
13:30-17:30 CST.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingan.domain.sla import (
    CST,
    DEFAULT_HOURS,
    STAGE_LIMITS,
    WARN_FRACTION,
    ClockKind,
    Stage,
    TimeLimit,
    Urgency,
    WorkCalendar,
    remaining_seconds,
    resume_deadline,
    start_deadline,
)

HOUR = 3600.0
WORKDAY = 7.5 * HOUR
FIRST_DAY, LAST_DAY = date(2025, 1, 1), date(2026, 12, 31)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


@cache
def official_calendar() -> WorkCalendar:
    """2025-2026 as published: statutory days off, and weekend days worked in exchange (调休)."""
    span = days(FIRST_DAY, LAST_DAY)
    holidays = frozenset(d for d in span if chinese_calendar.is_holiday(d) and d.weekday() < 5)
    workdays = frozenset(d for d in span if chinese_calendar.is_workday(d) and d.weekday() >= 5)
    return WorkCalendar(holidays=holidays, workdays=workdays)


@pytest.fixture
def calendar() -> WorkCalendar:
    return official_calendar()


def cst(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=CST)


# --- the calendar data ---------------------------------------------------------------------------


def test_calendar_agrees_with_the_official_schedule_every_day_of_2025_and_2026(
    calendar: WorkCalendar,
) -> None:
    for day in days(FIRST_DAY, LAST_DAY):
        assert calendar.is_workday(day) is chinese_calendar.is_workday(day), day


@pytest.mark.parametrize(
    "day",
    [date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)],
    ids=str,
)
def test_2026_make_up_days_fall_on_weekends_and_are_worked(
    calendar: WorkCalendar, day: date
) -> None:
    assert day.weekday() >= 5
    assert chinese_calendar.is_workday(day)
    assert calendar.is_workday(day)


def test_2026_national_day_and_spring_festival_are_off(calendar: WorkCalendar) -> None:
    national_day = days(date(2026, 10, 1), date(2026, 10, 7))
    spring_festival = days(date(2026, 2, 15), date(2026, 2, 23))
    for day in national_day + spring_festival:
        assert chinese_calendar.is_holiday(day), day
        assert not calendar.is_workday(day), day
    assert calendar.is_workday(date(2026, 10, 8))
    assert calendar.is_workday(date(2026, 2, 24))


def test_a_bare_calendar_knows_only_weekends() -> None:
    bare = WorkCalendar()
    assert bare.is_workday(date(2026, 10, 1))  # a Thursday; no holidays were handed in
    assert not bare.is_workday(date(2026, 10, 10))  # a Saturday


def test_a_make_up_day_wins_over_a_holiday_listing_the_same_date() -> None:
    day = date(2026, 10, 10)
    assert WorkCalendar(holidays=frozenset({day}), workdays=frozenset({day})).is_workday(day)


# --- adding working time -------------------------------------------------------------------------


def test_one_working_hour_from_friday_evening_lands_monday_morning(calendar: WorkCalendar) -> None:
    friday = cst(2026, 3, 13, 17, 0)
    assert friday.weekday() == 4
    assert calendar.add(friday, HOUR) == cst(2026, 3, 16, 9, 0)


def test_lunch_break_is_skipped(calendar: WorkCalendar) -> None:
    assert calendar.add(cst(2026, 3, 16, 11, 30), HOUR) == cst(2026, 3, 16, 14, 0)


def test_time_ending_exactly_at_noon_stops_at_noon(calendar: WorkCalendar) -> None:
    assert calendar.add(cst(2026, 3, 16, 11, 0), HOUR) == cst(2026, 3, 16, 12, 0)


def test_a_full_working_day_from_opening_ends_at_closing(calendar: WorkCalendar) -> None:
    assert calendar.add(cst(2026, 3, 16, 8, 30), WORKDAY) == cst(2026, 3, 16, 17, 30)
    assert calendar.add(cst(2026, 3, 16, 8, 30), WORKDAY + 60) == cst(2026, 3, 17, 8, 31)


def test_three_days_and_a_bit_run_through_the_week(calendar: WorkCalendar) -> None:
    # 24 h = 3 x 7.5 h + 1.5 h: Monday, Tuesday, Wednesday, then Thursday until 10:00
    assert calendar.add(cst(2026, 3, 16, 8, 30), 24 * HOUR) == cst(2026, 3, 19, 10, 0)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (cst(2026, 3, 16, 6, 0), cst(2026, 3, 16, 9, 30)),  # before opening
        (cst(2026, 3, 16, 0, 0), cst(2026, 3, 16, 9, 30)),  # at midnight
        (cst(2026, 3, 16, 12, 45), cst(2026, 3, 16, 14, 30)),  # in the lunch break
        (cst(2026, 3, 16, 17, 30), cst(2026, 3, 17, 9, 30)),  # at closing
        (cst(2026, 3, 16, 21, 0), cst(2026, 3, 17, 9, 30)),  # in the evening
        (cst(2026, 3, 14, 10, 0), cst(2026, 3, 16, 9, 30)),  # on a Saturday
        (cst(2026, 3, 15, 23, 59), cst(2026, 3, 16, 9, 30)),  # late on a Sunday
    ],
    ids=["before-opening", "midnight", "lunch", "closing", "evening", "saturday", "sunday"],
)
def test_time_starts_counting_at_the_next_working_instant(
    calendar: WorkCalendar, start: datetime, due: datetime
) -> None:
    assert calendar.add(start, HOUR) == due


def test_zero_time_outside_working_hours_means_the_next_opening(calendar: WorkCalendar) -> None:
    assert calendar.add(cst(2026, 3, 13, 19, 0), 0) == cst(2026, 3, 16, 8, 30)
    assert calendar.add(cst(2026, 3, 16, 10, 0), 0) == cst(2026, 3, 16, 10, 0)


def test_national_day_2026_is_skipped(calendar: WorkCalendar) -> None:
    # Wednesday 30 September 17:00: half an hour that day, then 1-7 October off
    assert calendar.add(cst(2026, 9, 30, 17, 0), HOUR) == cst(2026, 10, 8, 9, 0)


def test_make_up_saturday_2026_10_10_is_worked(calendar: WorkCalendar) -> None:
    assert calendar.add(cst(2026, 10, 9, 17, 0), HOUR) == cst(2026, 10, 10, 9, 0)
    saturday = calendar.working_seconds(cst(2026, 10, 10), cst(2026, 10, 11))
    assert saturday == WORKDAY


def test_make_up_sunday_before_national_day_is_worked(calendar: WorkCalendar) -> None:
    assert calendar.add(cst(2026, 9, 19, 10, 0), HOUR) == cst(2026, 9, 20, 9, 30)


def test_spring_festival_2026_is_skipped_around_its_make_up_saturdays(
    calendar: WorkCalendar,
) -> None:
    # Friday 13 Feb 17:00 -> make-up Saturday 14 Feb; its last half hour -> Tuesday 24 Feb
    assert calendar.add(cst(2026, 2, 13, 17, 0), HOUR) == cst(2026, 2, 14, 9, 0)
    assert calendar.add(cst(2026, 2, 14, 17, 0), HOUR) == cst(2026, 2, 24, 9, 0)
    festival = calendar.working_seconds(cst(2026, 2, 15), cst(2026, 2, 24))
    assert festival == 0


def test_mid_autumn_festival_2026_friday_is_off(calendar: WorkCalendar) -> None:
    assert calendar.add(cst(2026, 9, 24, 17, 0), HOUR) == cst(2026, 9, 28, 9, 0)


def test_utc_in_gives_utc_out(calendar: WorkCalendar) -> None:
    friday_five_pm_cst = datetime(2026, 3, 13, 9, 0, tzinfo=UTC)
    due = calendar.add(friday_five_pm_cst, HOUR)
    assert due.tzinfo == UTC
    assert due == datetime(2026, 3, 16, 1, 0, tzinfo=UTC)


def test_any_timezone_in_is_the_same_timezone_out(calendar: WorkCalendar) -> None:
    new_york = timezone(timedelta(hours=-4))
    start = datetime(2026, 3, 13, 5, 0, tzinfo=new_york)  # Friday 17:00 CST
    due = calendar.add(start, HOUR)
    assert due.tzinfo == new_york
    assert due == cst(2026, 3, 16, 9, 0)


def test_the_local_day_is_the_china_day_not_the_utc_day(calendar: WorkCalendar) -> None:
    # 2026-10-07 23:00 UTC is already 8 October 07:00 in China, a working day
    assert calendar.add(datetime(2026, 10, 7, 23, 0, tzinfo=UTC), HOUR) == cst(2026, 10, 8, 9, 30)


def test_other_working_hours_can_be_handed_in() -> None:
    shifts = WorkCalendar(hours=((time(9, 0), time(18, 0)),))
    assert shifts.add(cst(2026, 3, 16, 17, 0), 2 * HOUR) == cst(2026, 3, 17, 10, 0)
    assert shifts.working_seconds(cst(2026, 3, 16), cst(2026, 3, 17)) == 9 * HOUR


def test_default_hours_are_seven_and_a_half_a_day() -> None:
    assert ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))) == DEFAULT_HOURS
    assert WorkCalendar().working_seconds(cst(2026, 3, 16), cst(2026, 3, 17)) == WORKDAY


# --- measuring working time ----------------------------------------------------------------------


def test_working_seconds_over_a_plain_week(calendar: WorkCalendar) -> None:
    assert calendar.working_seconds(cst(2026, 3, 16), cst(2026, 3, 23)) == 5 * WORKDAY


def test_working_seconds_counts_only_hours_inside_the_day(calendar: WorkCalendar) -> None:
    assert calendar.working_seconds(cst(2026, 3, 16, 11, 0), cst(2026, 3, 16, 14, 0)) == 1.5 * HOUR
    assert calendar.working_seconds(cst(2026, 3, 16, 12, 5), cst(2026, 3, 16, 13, 25)) == 0


def test_working_seconds_backwards_is_negative(calendar: WorkCalendar) -> None:
    a, b = cst(2026, 3, 16, 9, 0), cst(2026, 3, 16, 10, 0)
    assert calendar.working_seconds(b, a) == -HOUR
    assert calendar.working_seconds(a, a) == 0


def test_working_seconds_across_timezones(calendar: WorkCalendar) -> None:
    a = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)  # 09:00 CST
    b = cst(2026, 3, 16, 10, 0)
    assert calendar.working_seconds(a, b) == HOUR


BOUNDARIES = [time(0, 0), time(8, 30), time(12, 0), time(13, 30), time(17, 30), time(23, 59, 59)]
STARTS = st.one_of(
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC)
    ),
    st.builds(
        lambda day, at: datetime.combine(day, at, CST).astimezone(UTC),
        st.dates(min_value=FIRST_DAY, max_value=date(2026, 11, 30)),
        st.sampled_from(BOUNDARIES),
    ),
)
DURATIONS = st.one_of(
    st.floats(min_value=0, max_value=200 * HOUR, allow_nan=False),
    st.integers(min_value=0, max_value=40).map(lambda n: n * 1800.0),  # exact half hours
)


@settings(max_examples=250, deadline=None)
@given(start=STARTS, seconds=DURATIONS)
def test_working_seconds_undoes_add(start: datetime, seconds: float) -> None:
    calendar = official_calendar()
    due = calendar.add(start, seconds)
    assert abs(calendar.working_seconds(start, due) - seconds) < 1e-3
    assert due >= start
    assert due.tzinfo == start.tzinfo


@settings(max_examples=100, deadline=None)
@given(start=STARTS, seconds=st.floats(min_value=1, max_value=200 * HOUR, allow_nan=False))
def test_a_due_time_always_falls_inside_working_hours(start: datetime, seconds: float) -> None:
    calendar = official_calendar()
    local = calendar.add(start, seconds).astimezone(CST)
    assert calendar.is_workday(local.date())
    assert any(begin <= local.time() <= end for begin, end in DEFAULT_HOURS), local


@settings(max_examples=100, deadline=None)
@given(
    start=STARTS,
    first=st.floats(min_value=0, max_value=100 * HOUR),
    second=st.floats(min_value=0, max_value=100 * HOUR),
)
def test_adding_in_two_steps_lands_where_adding_at_once_does(
    start: datetime, first: float, second: float
) -> None:
    calendar = official_calendar()
    at_once = calendar.add(start, first + second)
    in_steps = calendar.add(calendar.add(start, first), second)
    assert abs((at_once - in_steps).total_seconds()) < 1e-3


# --- deadlines -----------------------------------------------------------------------------------


def test_working_deadline_is_due_after_the_limit_and_warns_at_eighty_percent(
    calendar: WorkCalendar,
) -> None:
    start = cst(2026, 3, 16, 8, 30)
    deadline = start_deadline(7, Stage.HANDLING, start, TimeLimit(10), calendar)
    assert WARN_FRACTION == 0.8
    assert (deadline.case_id, deadline.stage, deadline.clock) == (
        7,
        Stage.HANDLING,
        ClockKind.WORKING,
    )
    assert deadline.started_at == start
    assert deadline.limit_seconds == 10 * HOUR
    assert deadline.due_at == cst(2026, 3, 17, 11, 0)  # 7.5 h Monday + 2.5 h Tuesday
    assert deadline.warn_at == cst(2026, 3, 17, 9, 0)  # 8 h
    assert calendar.working_seconds(start, deadline.warn_at) == 0.8 * 10 * HOUR


def test_natural_clock_ignores_the_calendar(calendar: WorkCalendar) -> None:
    start = cst(2026, 10, 3, 22, 0)  # a Saturday night in the National Day holiday
    deadline = start_deadline(7, Stage.HANDLING, start, TimeLimit(2, ClockKind.NATURAL), calendar)
    assert deadline.due_at == cst(2026, 10, 4, 0, 0)
    assert deadline.warn_at == start + timedelta(minutes=96)
    assert deadline.clock is ClockKind.NATURAL


def test_remaining_time_on_each_clock(calendar: WorkCalendar) -> None:
    start = cst(2026, 3, 16, 8, 30)
    working = start_deadline(1, Stage.VERIFY, start, TimeLimit(4), calendar)
    assert working.due_at == cst(2026, 3, 16, 14, 0)
    assert remaining_seconds(working, cst(2026, 3, 16, 10, 30), calendar) == 2 * HOUR
    assert remaining_seconds(working, cst(2026, 3, 16, 15, 0), calendar) == -HOUR

    natural = start_deadline(1, Stage.VERIFY, start, TimeLimit(4, ClockKind.NATURAL), calendar)
    assert remaining_seconds(natural, cst(2026, 3, 16, 10, 30), calendar) == 2 * HOUR
    assert remaining_seconds(natural, cst(2026, 3, 16, 14, 30), calendar) == -2 * HOUR


def test_resumed_deadline_keeps_only_the_remaining_time(calendar: WorkCalendar) -> None:
    start = cst(2026, 3, 16, 8, 30)
    original = start_deadline(1, Stage.HANDLING, start, TimeLimit(4), calendar)
    suspended_at = cst(2026, 3, 16, 10, 30)
    left = remaining_seconds(original, suspended_at, calendar)
    assert left == 2 * HOUR

    resumed_at = cst(2026, 3, 18, 9, 0)
    resumed = resume_deadline(1, Stage.HANDLING, resumed_at, left, ClockKind.WORKING, calendar)
    assert resumed.started_at == resumed_at
    assert resumed.limit_seconds == 2 * HOUR
    assert resumed.due_at == cst(2026, 3, 18, 11, 0)
    assert resumed.warn_at == cst(2026, 3, 18, 10, 36)  # 80% of what was left


def test_resumed_natural_deadline_keeps_only_the_remaining_time(calendar: WorkCalendar) -> None:
    resumed_at = cst(2026, 10, 1, 12, 0)
    resumed = resume_deadline(1, Stage.HANDLING, resumed_at, HOUR, ClockKind.NATURAL, calendar)
    assert resumed.due_at == cst(2026, 10, 1, 13, 0)


def test_a_clock_that_had_run_out_resumes_already_due(calendar: WorkCalendar) -> None:
    resumed_at = cst(2026, 3, 16, 10, 0)
    resumed = resume_deadline(1, Stage.HANDLING, resumed_at, -5 * HOUR, ClockKind.WORKING, calendar)
    assert resumed.limit_seconds == 0
    assert resumed.due_at == resumed.warn_at == resumed_at


# --- the stage limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("stage", sorted(set(Stage) - {Stage.HANDLING}), ids=str)
def test_every_stage_but_handling_has_a_limit_for_every_urgency(stage: Stage) -> None:
    assert set(STAGE_LIMITS[stage]) == set(Urgency)
    assert all(limit.hours > 0 for limit in STAGE_LIMITS[stage].values())


def test_handling_limits_come_from_the_category() -> None:
    assert Stage.HANDLING not in STAGE_LIMITS


@pytest.mark.parametrize("stage", sorted(STAGE_LIMITS), ids=str)
def test_more_urgent_cases_never_get_more_hours(stage: Stage) -> None:
    limits = STAGE_LIMITS[stage]
    assert limits[Urgency.CRITICAL].hours <= limits[Urgency.URGENT].hours
    assert limits[Urgency.URGENT].hours <= limits[Urgency.ROUTINE].hours


def test_time_limit_in_seconds() -> None:
    assert TimeLimit(1.5).seconds == 5400.0
    assert TimeLimit(1).clock is ClockKind.WORKING
