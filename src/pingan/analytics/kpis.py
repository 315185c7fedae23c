"""The command centre's key figures (考核指标), as pure functions over case facts.

The definitions are the domain rules, kept here in one place so the dashboard, exports and any
report agree:

- cases today (今日受理): reported since local midnight (China Standard Time);
- open (在办): in any open state, suspended included;
- overdue (超期): open, and its current stage's deadline has passed;
- closure rate (结案率): closed or evaluated / valid cases (rejected and merged ones are not cases
  the centre had to solve);
- on-time closure rate (按期结案率): closed cases none of whose stage clocks lapsed / closed cases;
- rework rate (返工率): cases sent back to rework at least once / cases that were handled;
- satisfaction (满意度): mean rating 1–5 of evaluated cases, and the share rated 4 or 5.

Rates are None when nothing was counted, so a new town shows "–" rather than a false 0 %.

The endpoint has the database make the same counts (`adapters/db/kpi_queries.py`); these
functions over each case's facts stay the readable definition, and that module's test oracle.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pingan.domain.cases import OPEN_STATES, CaseState
from pingan.domain.geo import PATH_SEP
from pingan.domain.sla import CST

CLOSED = frozenset({CaseState.CLOSED.value, CaseState.EVALUATED.value})
NOT_CASES = frozenset({CaseState.REJECTED.value, CaseState.MERGED.value})
OPEN = frozenset(s.value for s in OPEN_STATES)
# States a case can only be in after it was handled at least once.
AFTER_HANDLING = frozenset(
    {CaseState.HANDLED, CaseState.REWORK, CaseState.VERIFIED, CaseState.CLOSED}
    | {CaseState.EVALUATED}
)
_HANDLED = frozenset(s.value for s in AFTER_HANDLING)


@dataclass(frozen=True, slots=True)
class CaseFact:
    """What the figures need to know about one case."""

    state: str
    category_code: str
    location_path: str
    created_at: datetime
    closed_at: datetime | None
    overdue: bool  # open and past its current deadline now
    lapsed: bool  # some stage clock of the case ran out, at any time
    rework_count: int
    satisfaction: int | None


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


@dataclass(frozen=True, slots=True)
class TileCounts:
    """The counts behind the tiles; every rate and mean is a ratio of two of them."""

    total: int
    today: int
    open: int
    overdue: int
    closed: int
    on_time: int  # closed, and no stage clock lapsed
    handled: int  # valid cases handled at least once (or sent back to rework)
    reworked: int
    rated: int
    rating_sum: int
    satisfied: int  # rated 4 or 5


@dataclass(frozen=True, slots=True)
class Tiles:
    total: int
    today: int
    open: int
    overdue: int
    closed: int
    closure_rate: float | None
    on_time_rate: float | None
    rework_rate: float | None
    satisfaction: float | None
    satisfied_rate: float | None

    @classmethod
    def from_counts(cls, c: TileCounts) -> Tiles:
        """The rates, written once whoever counted: Python here, or the database."""
        return cls(
            total=c.total,
            today=c.today,
            open=c.open,
            overdue=c.overdue,
            closed=c.closed,
            closure_rate=_rate(c.closed, c.total),
            on_time_rate=_rate(c.on_time, c.closed),
            rework_rate=_rate(c.reworked, c.handled),
            satisfaction=round(c.rating_sum / c.rated, 2) if c.rated else None,
            satisfied_rate=_rate(c.satisfied, c.rated),
        )


def tiles(facts: Iterable[CaseFact], day_start: datetime) -> Tiles:
    total = today = open_ = overdue = closed = on_time = handled = reworked = 0
    rated = rating_sum = satisfied = 0
    for f in facts:
        if f.created_at >= day_start:
            today += 1
        if f.state in NOT_CASES:
            continue
        total += 1
        if f.state in OPEN:
            open_ += 1
            overdue += f.overdue
        if f.state in CLOSED:
            closed += 1
            on_time += not f.lapsed
        if f.state in _HANDLED or f.rework_count:
            handled += 1
            reworked += f.rework_count > 0
        if f.satisfaction is not None:
            rated += 1
            rating_sum += f.satisfaction
            satisfied += f.satisfaction >= 4
    return Tiles.from_counts(
        TileCounts(
            total=total,
            today=today,
            open=open_,
            overdue=overdue,
            closed=closed,
            on_time=on_time,
            handled=handled,
            reworked=reworked,
            rated=rated,
            rating_sum=rating_sum,
            satisfied=satisfied,
        )
    )


@dataclass(slots=True)
class UnitCounts:
    total: int = 0
    open: int = 0
    overdue: int = 0
    closed: int = 0


def child_path(location_path: str, parent_path: str) -> str | None:
    """The path of the child unit of `parent_path` that `location_path` lies in: its next path
    segment. None for a case located at the parent itself."""
    depth = parent_path.count(PATH_SEP) + 2 if parent_path else 1
    parts = location_path.split(PATH_SEP)
    return PATH_SEP.join(parts[:depth]) if len(parts) >= depth else None


def by_child_unit(facts: Iterable[CaseFact], parent_path: str) -> dict[str, UnitCounts]:
    """Counts per child unit of `parent_path` (drill-down), keyed by the child's path."""
    out: dict[str, UnitCounts] = defaultdict(UnitCounts)
    for f in facts:
        if f.state in NOT_CASES:
            continue
        child = child_path(f.location_path, parent_path)
        if child is None:
            continue
        c = out[child]
        c.total += 1
        c.open += f.state in OPEN
        c.overdue += f.state in OPEN and f.overdue
        c.closed += f.state in CLOSED
    return dict(out)


def by_major_category(facts: Iterable[CaseFact]) -> dict[str, int]:
    """Counts per major category (大类), the first three characters of the code."""
    return dict(Counter(f.category_code[:3] for f in facts if f.state not in NOT_CASES))


@dataclass(frozen=True, slots=True)
class TrendDay:
    day: date
    reported: int
    closed: int


@dataclass(slots=True)
class _Day:
    reported: int = 0
    closed: int = 0


def daily_trend(facts: Iterable[CaseFact], first_day: date, last_day: date) -> list[TrendDay]:
    """Reported and closed per local calendar day, every day present (zeros included)."""
    days: dict[date, _Day] = {}
    d = first_day
    while d <= last_day:
        days[d] = _Day()
        d += timedelta(days=1)
    for f in facts:
        reported = f.created_at.astimezone(CST).date()
        if reported in days:
            days[reported].reported += 1
        if f.closed_at is not None:
            closed = f.closed_at.astimezone(CST).date()
            if closed in days:
                days[closed].closed += 1
    return [TrendDay(day, v.reported, v.closed) for day, v in days.items()]
