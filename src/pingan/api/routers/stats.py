"""Dashboard figures: KPIs, compact map points and the xlsx export, all within the caller's
jurisdiction (the case scope of every repository read)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from pingan.adapters.db import kpi_queries
from pingan.adapters.db.case_facts import POINT_FIELDS, case_points
from pingan.adapters.db.uow import SqlUnitOfWork
from pingan.adapters.spreadsheet import workbook
from pingan.analytics import kpis
from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import documented
from pingan.domain.access import Actor
from pingan.domain.cases import CaseState
from pingan.domain.categories import CATEGORIES, MAJORS
from pingan.domain.errors import NotFound
from pingan.domain.sla import CST
from pingan.messages import pick_language
from pingan.services.ports import CaseFilter

router = APIRouter(prefix="/api/v1/stats", tags=["stats"], responses=documented(401, 422))

EXPORT_LIMIT = 20_000


class UnitRef(BaseModel):
    code: str
    name: str
    name_en: str
    path: str
    level: str


class UnitFigures(UnitRef):
    total: int
    open: int
    overdue: int
    closed: int


class CategoryFigures(BaseModel):
    major_code: str
    name: str
    name_en: str
    count: int


class TrendOut(BaseModel):
    day: str
    reported: int
    closed: int


class KpisOut(BaseModel):
    unit: UnitRef
    days: int
    tiles: dict[str, float | int | None]
    by_unit: list[UnitFigures]
    by_category: list[CategoryFigures]
    trend: list[TrendOut]


class PointsOut(BaseModel):
    fields: list[str]
    rows: list[list[int | float | str | bool]]  # [id, lng, lat, state, urgency, overdue]
    total: int


def _unit_in_scope(uow: SqlUnitOfWork, actor: Actor, code: str | None) -> UnitRef:
    """The unit asked for, or the caller's jurisdiction; a unit outside it is 'not found'."""
    unit = uow.units.get(code) if code else uow.units.get_by_path(actor.jurisdiction)
    if unit is None or not actor.sees(unit.path):
        raise NotFound("unit.not_found", code=code or actor.jurisdiction)
    return UnitRef(
        code=unit.code, name=unit.name, name_en=unit.name_en, path=unit.path, level=unit.level.value
    )


@router.get("/kpis", response_model=KpisOut, responses=documented(401, 404, 422))
def get_kpis(
    rt: RuntimeDep,
    actor: ActorDep,
    unit: Annotated[str | None, Query(max_length=32, description="unit code")] = None,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> KpisOut:
    """Tiles, per child unit, per major category and the daily trend over the last `days`,
    counted by the database (`kpi_queries`) to the definitions of `analytics/kpis.py`."""
    now = rt.env.now()
    today = now.astimezone(CST).date()
    day_start = datetime.combine(today, time(0), CST)
    since = day_start - timedelta(days=days - 1)
    with rt.uows(actor, snapshot=True) as uow:  # tiles and trend counted from one moment
        ref = _unit_in_scope(uow, actor, unit)
        conn, facts = uow.connection, kpi_queries.FactSet(actor, ref.path, since, now)
        counts = kpi_queries.count_cases(conn, facts, day_start)
        trend = kpi_queries.daily_trend(conn, facts, since.date(), today)
        children = {u.path: u for u in uow.units.children(ref.code)}
    t, per_unit = counts.tiles(), counts.by_child_unit(ref.path)
    return KpisOut(
        unit=ref,
        days=days,
        tiles=asdict(t),
        by_unit=[
            UnitFigures(
                code=u.code,
                name=u.name,
                name_en=u.name_en,
                path=u.path,
                level=u.level.value,
                **asdict(per_unit.get(path, kpis.UnitCounts())),
            )
            for path, u in children.items()
        ],
        by_category=[
            CategoryFigures(
                major_code=code,
                name=MAJORS.get(code, (code, code))[0],
                name_en=MAJORS.get(code, (code, code))[1],
                count=n,
            )
            for code, n in sorted(counts.by_major_category().items(), key=lambda x: (-x[1], x[0]))
        ],
        trend=[
            TrendOut(day=d.day.isoformat(), reported=d.reported, closed=d.closed) for d in trend
        ],
    )


@router.get(
    "/points",
    response_model=PointsOut,
    response_class=JSONResponse,
    responses=documented(401, 404, 422),
)
def get_points(
    rt: RuntimeDep,
    actor: ActorDep,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    state: Annotated[list[CaseState] | None, Query()] = None,
    overdue: bool | None = None,
) -> JSONResponse:
    """Every case in scope as `[id, lng, lat, state, urgency, overdue]` (WGS-84): one request
    draws 100,000 markers, where pages of full cases would take hundreds."""
    now = rt.env.now()
    with rt.uows(actor, readonly=True) as uow:
        ref = _unit_in_scope(uow, actor, unit)
        rows = case_points(
            uow.connection, actor, ref.path, now, tuple(s.value for s in state or ()), overdue
        )
    # Plain JSON: validating 100,000 tuples through the response model would double the time.
    return JSONResponse({"fields": list(POINT_FIELDS), "rows": rows, "total": len(rows)})


_HEADERS = {
    "zh-CN": (
        "受理编号",
        "状态",
        "类别",
        "紧急程度",
        "标题",
        "地址",
        "网格",
        "处置部门",
        "上报时间",
        "期限",
        "超期",
        "结案时间",
        "满意度",
    ),
    "en": (
        "Tracking no.",
        "State",
        "Category",
        "Urgency",
        "Title",
        "Address",
        "Grid",
        "Department",
        "Reported",
        "Due",
        "Overdue",
        "Closed",
        "Satisfaction",
    ),
}


def _local(value: datetime | None) -> str:
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M") if value else ""


@router.get(
    "/cases.xlsx",
    response_class=Response,
    responses={
        200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}
    },
    summary="The filtered case list as an Excel workbook",
)
def export_cases(
    rt: RuntimeDep,
    actor: ActorDep,
    state: Annotated[list[CaseState] | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=8)] = None,
    unit: Annotated[str | None, Query(max_length=255, description="unit path")] = None,
    overdue: bool | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """Same filters as `GET /cases`; at most 20,000 rows, newest first. Text that a spreadsheet
    would run as a formula is neutralised."""
    flt = CaseFilter(
        states=tuple(s.value for s in state or ()),
        category=category,
        unit_path=unit,
        overdue=overdue,
        created_from=created_from,
        created_to=created_to,
        q=q,
    )
    now = rt.env.now()
    with rt.uows(actor, readonly=True) as uow:
        items, _total = uow.cases.list(flt, now, limit=EXPORT_LIMIT)
    language = pick_language(lang)
    en = language == "en"
    rows = []
    for c in items:
        cat = CATEGORIES.get(c.category_code)
        overdue_now = c.overdue_since is not None or (c.due_at is not None and c.due_at < now)
        rows.append(
            (
                c.tracking_no,
                c.state.value,
                (cat.name_en if en else cat.name) if cat else c.category_code,
                c.urgency.value,
                c.title,
                c.address,
                c.grid_code,
                c.department_id or "",
                _local(c.created_at),
                _local(c.due_at),
                ("yes" if en else "是") if overdue_now else "",
                _local(c.closed_at),
                c.satisfaction if c.satisfaction is not None else "",
            )
        )
    body = workbook("cases", _HEADERS[language], rows)
    stamp = now.astimezone(CST).strftime("%Y%m%d-%H%M")
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="pingan-cases-{stamp}.xlsx"'},
    )
