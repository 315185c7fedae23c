"""SLA clocks: limits counted in working hours on China's official calendar, or natural hours.

The working calendar knows weekends, statutory holidays (法定节假日) and make-up working days
(调休上班日); the schedule itself is data handed in, so a new year's State Council notice is a data
update, not a release. Times are aware datetimes; the calendar works in China Standard Time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum

CST = timezone(timedelta(hours=8), "CST")
DEFAULT_HOURS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(13, 30), time(17, 30)),
)


class ClockKind(StrEnum):
    WORKING = "working"  # 工作时
    NATURAL = "natural"  # 自然时


class Urgency(StrEnum):
    ROUTINE = "routine"  # 一般
    URGENT = "urgent"  # 紧急
    CRITICAL = "critical"  # 特急


class Stage(StrEnum):
    """Which step of the loop a live deadline is waiting for."""

    FILING = "filing"  # 受理立案
    DISPATCH = "dispatch"  # 派遣
    HANDLING = "handling"  # 处置
    VERIFY = "verify"  # 核查
    CLOSING = "closing"  # 结案


@dataclass(frozen=True, slots=True)
class TimeLimit:
    hours: float
    clock: ClockKind = ClockKind.WORKING

    @property
    def seconds(self) -> float:
        return self.hours * 3600.0


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and hours; `holidays` are days off, `workdays` are make-up days on weekends."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    hours: tuple[tuple[time, time], ...] = DEFAULT_HOURS
    tz: timezone = CST
    _day_seconds: float = field(init=False, repr=False, default=0.0)

    def __post_init__(self) -> None:
        total = sum(_seconds_of(end) - _seconds_of(start) for start, end in self.hours)
        object.__setattr__(self, "_day_seconds", float(total))

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant after `seconds` of working time have passed from `start`."""
        local = start.astimezone(self.tz)
        remaining = seconds
        day = local.date()
        cursor = local
        while True:
            if self.is_workday(day):
                if (
                    remaining > 0
                    and cursor.time() <= self.hours[0][0]
                    and remaining > self._day_seconds
                ):
                    remaining -= self._day_seconds
                else:
                    for begin, end in self.hours:
                        s = datetime.combine(day, begin, self.tz)
                        e = datetime.combine(day, end, self.tz)
                        if cursor >= e:
                            continue
                        frm = max(cursor, s)
                        span = (e - frm).total_seconds()
                        if remaining <= span:
                            return (frm + timedelta(seconds=remaining)).astimezone(start.tzinfo)
                        remaining -= span
                        cursor = e
            day = day + timedelta(days=1)
            cursor = datetime.combine(day, time(0, 0), self.tz)

    def working_seconds(self, a: datetime, b: datetime) -> float:
        """Working time between two instants; negative when `b` is before `a`."""
        if b < a:
            return -self.working_seconds(b, a)
        la, lb = a.astimezone(self.tz), b.astimezone(self.tz)
        total = 0.0
        day = la.date()
        while day <= lb.date():
            if self.is_workday(day):
                for begin, end in self.hours:
                    s = max(datetime.combine(day, begin, self.tz), la)
                    e = min(datetime.combine(day, end, self.tz), lb)
                    if e > s:
                        total += (e - s).total_seconds()
            day += timedelta(days=1)
        return total


def _seconds_of(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True, slots=True)
class Deadline:
    """One live SLA clock of a case; `warn_at` comes when 80% of the allowed time is used."""

    case_id: int
    stage: Stage
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    clock: ClockKind
    limit_seconds: float


WARN_FRACTION = 0.8


def start_deadline(
    case_id: int, stage: Stage, start: datetime, limit: TimeLimit, calendar: WorkCalendar
) -> Deadline:
    return _deadline(case_id, stage, start, limit.seconds, limit.clock, calendar)


def resume_deadline(
    case_id: int,
    stage: Stage,
    start: datetime,
    remaining_seconds: float,
    clock: ClockKind,
    calendar: WorkCalendar,
) -> Deadline:
    """A clock restarted after suspension keeps only the time it had left."""
    return _deadline(case_id, stage, start, max(remaining_seconds, 0.0), clock, calendar)


def remaining_seconds(deadline: Deadline, now: datetime, calendar: WorkCalendar) -> float:
    if deadline.clock is ClockKind.NATURAL:
        return (deadline.due_at - now).total_seconds()
    return calendar.working_seconds(now, deadline.due_at)


def _deadline(
    case_id: int,
    stage: Stage,
    start: datetime,
    seconds: float,
    clock: ClockKind,
    calendar: WorkCalendar,
) -> Deadline:
    if clock is ClockKind.NATURAL:
        due = start + timedelta(seconds=seconds)
        warn = start + timedelta(seconds=seconds * WARN_FRACTION)
    else:
        due = calendar.add(start, seconds)
        warn = calendar.add(start, seconds * WARN_FRACTION)
    return Deadline(case_id, stage, start, due, warn, clock, seconds)


# Stage limits that do not depend on the category; handling limits come from the category.
STAGE_LIMITS: dict[Stage, dict[Urgency, TimeLimit]] = {
    Stage.FILING: {
        Urgency.ROUTINE: TimeLimit(1),
        Urgency.URGENT: TimeLimit(0.5, ClockKind.NATURAL),
        Urgency.CRITICAL: TimeLimit(0.25, ClockKind.NATURAL),
    },
    Stage.DISPATCH: {
        Urgency.ROUTINE: TimeLimit(1),
        Urgency.URGENT: TimeLimit(0.5, ClockKind.NATURAL),
        Urgency.CRITICAL: TimeLimit(0.25, ClockKind.NATURAL),
    },
    Stage.VERIFY: {
        Urgency.ROUTINE: TimeLimit(4),
        Urgency.URGENT: TimeLimit(2, ClockKind.NATURAL),
        Urgency.CRITICAL: TimeLimit(1, ClockKind.NATURAL),
    },
    Stage.CLOSING: {
        Urgency.ROUTINE: TimeLimit(2),
        Urgency.URGENT: TimeLimit(2),
        Urgency.CRITICAL: TimeLimit(1, ClockKind.NATURAL),
    },
}
