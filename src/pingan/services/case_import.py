"""Importing historic cases (历史案件导入) from a department's or an earlier system's export.

Every row is checked first — category, place (placed in its grid), times, final state — and a dry
run stops there with the report. A real import stores nothing if any row is bad, and skips rows
whose external id was imported before, so the same file can be imported twice safely. Historic
cases are finished cases: they start no SLA clock and publish no events (the live feed and the
department notifications are for news, not history).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from pingan.domain.access import Actor, Role
from pingan.domain.cases import Case, CaseState, TimelineEntry
from pingan.domain.categories import CATEGORIES
from pingan.domain.errors import DomainError, Forbidden, InvalidInput
from pingan.domain.geo import CRS, PATH_SEP, is_within, to_wgs84
from pingan.domain.sla import CST, Urgency
from pingan.services.intake import add_numbered, owner_of
from pingan.services.ports import Env, UnitOfWorkFactory

REQUIRED = ("external_id", "category_code", "lng", "lat", "reported_at")
STATES = {
    "closed": CaseState.CLOSED,
    "结案": CaseState.CLOSED,
    "已结案": CaseState.CLOSED,
    "evaluated": CaseState.EVALUATED,
    "已评价": CaseState.EVALUATED,
    "rejected": CaseState.REJECTED,
    "不予立案": CaseState.REJECTED,
}
URGENCIES = {"一般": Urgency.ROUTINE, "紧急": Urgency.URGENT, "特急": Urgency.CRITICAL}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
IMPORTERS = frozenset({Role.ADMIN, Role.SYSTEM})


@dataclass(frozen=True, slots=True)
class HistoricCase:
    line: int
    external_id: str
    category_code: str
    title: str
    description: str
    lng: float
    lat: float
    grid_path: str
    reported_at: datetime
    closed_at: datetime
    state: CaseState
    satisfaction: int | None
    urgency: Urgency
    address: str
    department_id: str | None


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    external_id: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportReport:
    source: str
    encoding: str
    dry_run: bool
    rows: int = 0
    ready: list[HistoricCase] = field(default_factory=list)
    already: list[tuple[int, str]] = field(default_factory=list)  # (line, external id)
    problems: list[RowProblem] = field(default_factory=list)
    imported: int = 0


class _Bad(Exception):
    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _text(row: dict[str, Any], name: str, limit: int) -> str:
    value = row.get(name)
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        raise _Bad("import.case.too_long", field=name, max=limit)
    return text


def _number(row: dict[str, Any], name: str) -> float:
    value = row.get(name)
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    except ValueError:
        raise _Bad("import.case.bad_number", field=name) from None
    if not math.isfinite(number):
        raise _Bad("import.case.bad_number", field=name)
    return number


def parse_time(value: Any) -> datetime:
    """A time as spreadsheets write it; without an offset it is China time (UTC+8)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip().replace("/", "-").replace("T", " ")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            for fmt in TIME_FORMATS:
                try:
                    moment = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                raise ValueError(text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CST)
    return moment.astimezone(UTC)


def _time(row: dict[str, Any], name: str) -> datetime:
    try:
        return parse_time(row.get(name))
    except (ValueError, OverflowError):
        raise _Bad("import.case.bad_time", field=name) from None


def _row(
    line: int,
    row: dict[str, Any],
    crs: CRS,
    env: Env,
    scope: str,
    departments: set[str],
) -> HistoricCase:
    for name in REQUIRED:
        if row.get(name) is None or str(row.get(name)).strip() == "":
            raise _Bad("import.case.missing_field", field=name)
    external_id = _text(row, "external_id", 128)
    code = _text(row, "category_code", 8).upper()
    if code not in CATEGORIES:
        raise _Bad("import.case.unknown_category", code=code)
    title = _text(row, "title", 200)
    description = _text(row, "description", 5000)
    if not title and not description:
        raise _Bad("import.case.missing_field", field="title")
    title = title or description[:60]
    row_crs = _text(row, "crs", 8).lower()
    try:
        point = to_wgs84(_number(row, "lng"), _number(row, "lat"), CRS(row_crs) if row_crs else crs)
    except ValueError:
        raise _Bad("import.case.bad_crs", crs=row_crs) from None
    except DomainError as exc:
        raise _Bad("import.case.bad_place", reason=exc.code) from None
    grid_path = env.locator.locate(point.lng, point.lat)
    if grid_path is None:
        raise _Bad("import.case.outside_grids", lng=point.lng, lat=point.lat)
    if scope and not is_within(grid_path, scope):
        raise _Bad("import.case.outside_jurisdiction")
    reported = _time(row, "reported_at")
    raw_state = _text(row, "state", 16).lower() or "closed"
    state = STATES.get(raw_state)
    if state is None:
        raise _Bad("import.case.bad_state", state=raw_state)
    has_closed = str(row.get("closed_at") or "").strip() != ""
    if not has_closed and state is not CaseState.REJECTED:
        raise _Bad("import.case.missing_field", field="closed_at")
    closed = _time(row, "closed_at") if has_closed else reported
    if closed < reported:
        raise _Bad("import.case.closed_before_reported")
    if closed > env.now():
        raise _Bad("import.case.in_future")
    satisfaction = None
    if str(row.get("satisfaction") or "").strip():
        score = _number(row, "satisfaction")
        if score != int(score) or not 1 <= score <= 5 or state is CaseState.REJECTED:
            raise _Bad("import.case.bad_satisfaction")
        satisfaction = int(score)
        state = CaseState.EVALUATED
    elif state is CaseState.EVALUATED:
        raise _Bad("import.case.missing_field", field="satisfaction")
    raw_urgency = _text(row, "urgency", 16)
    try:
        urgency = URGENCIES.get(raw_urgency) or Urgency(raw_urgency.lower() or "routine")
    except ValueError:
        raise _Bad("import.case.bad_urgency", urgency=raw_urgency) from None
    department_id = _text(row, "department_id", 64) or None
    if department_id is not None and department_id not in departments:
        raise _Bad("import.case.unknown_department", department_id=department_id)
    return HistoricCase(
        line=line,
        external_id=external_id,
        category_code=code,
        title=title,
        description=description,
        lng=point.lng,
        lat=point.lat,
        grid_path=grid_path,
        reported_at=reported,
        closed_at=closed,
        state=state,
        satisfaction=satisfaction,
        urgency=urgency,
        address=_text(row, "address", 300),
        department_id=department_id,
    )


def check(
    uows: UnitOfWorkFactory,
    actor: Actor,
    sheet: Any,
    env: Env,
    *,
    source: str,
    crs: CRS = CRS.WGS84,
    dry_run: bool = True,
) -> ImportReport:
    """Read every row and sort it into ready, already imported, or bad (with its reason)."""
    if actor.role not in IMPORTERS:
        raise Forbidden("import.not_permitted")
    missing = [c for c in REQUIRED if c not in sheet.columns]
    if missing:
        raise InvalidInput("import.missing_columns", columns=missing)
    with uows(actor, readonly=True) as uow:
        departments = {d.id for d in uow.departments.all()}
        known = uow.case_imports.known(
            str(r.get("external_id") or "").strip() for _n, r in sheet.rows
        )
    report = ImportReport(source=source, encoding=sheet.encoding, dry_run=dry_run)
    report.rows = len(sheet.rows)
    seen: set[str] = set()
    for line, row in sheet.rows:
        external_id = str(row.get("external_id") or "").strip()
        try:
            if external_id and external_id in seen:
                raise _Bad("import.case.duplicate_in_file")
            item = _row(line, row, crs, env, actor.jurisdiction, departments)
        except _Bad as bad:
            report.problems.append(RowProblem(line, external_id, bad.code, bad.params))
            continue
        finally:
            seen.add(external_id)
        if item.external_id in known:
            report.already.append((line, item.external_id))
        else:
            report.ready.append(item)
    return report


def import_cases(
    uows: UnitOfWorkFactory,
    actor: Actor,
    sheet: Any,
    env: Env,
    *,
    source: str,
    crs: CRS = CRS.WGS84,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    batch: int = 200,
) -> ImportReport:
    """Check, then (unless a dry run or any row is bad) store the ready rows in batches."""
    report = check(uows, actor, sheet, env, source=source, crs=crs, dry_run=dry_run)
    if dry_run or report.problems:
        return report
    return store(uows, actor, report, env, source=source, progress=progress, batch=batch)


def store(
    uows: UnitOfWorkFactory,
    actor: Actor,
    report: ImportReport,
    env: Env,
    *,
    source: str,
    progress: Callable[[int], None] | None = None,
    batch: int = 200,
) -> ImportReport:
    """Store the ready rows of a checked report that has no bad row, in batches, without clocks
    or live events."""
    if report.problems:
        raise InvalidInput("import.bad_rows", count=len(report.problems))
    now = env.now()
    for start in range(0, len(report.ready), batch):
        chunk = report.ready[start : start + batch]
        with uows(actor) as uow:
            for item in chunk:
                case = add_numbered(
                    uow,
                    partial(_case, item, actor, source, now),
                    partial(_historic_number, item.reported_at),
                )
                uow.case_imports.add(item.external_id, case.id, source, now)
            uow.discard_events()
            uow.commit()
        report.imported += len(chunk)
        if progress is not None:
            progress(len(chunk))
    return report


def _historic_number(reported_at: datetime) -> str:
    """H, the day it was reported and 32 random bits: never a live case's number."""
    return f"H{reported_at:%Y%m%d}{secrets.token_hex(4).upper()}"


def _case(item: HistoricCase, actor: Actor, source: str, now: datetime, tracking_no: str) -> Case:
    grid_code = item.grid_path.rpartition(PATH_SEP)[2]
    entry = TimelineEntry(
        action="import",
        from_state=None,
        to_state=item.state,
        actor_id=actor.user_id,
        actor_role=actor.role.value,
        at=item.closed_at,
        note=f"历史案件导入 Imported from {source}"[:500],
        data={
            "external_id": item.external_id,
            "reported_at": item.reported_at.isoformat(),
            "closed_at": item.closed_at.isoformat(),
            "imported_at": now.isoformat(),
        },
    )
    return Case(
        id=0,
        tracking_no=tracking_no,
        category_code=item.category_code,
        urgency=item.urgency,
        title=item.title,
        description=item.description,
        lng=item.lng,
        lat=item.lat,
        grid_code=grid_code,
        location_path=item.grid_path,
        owner_path=owner_of(item.grid_path),
        reporter_id=0,  # the platform's own account: the original reporter is not known
        channel="import",
        created_at=item.reported_at,
        updated_at=item.closed_at,
        address=item.address,
        state=item.state,
        department_id=item.department_id,
        satisfaction=item.satisfaction,
        closed_at=item.closed_at,
        pending_timeline=[entry],
    )
