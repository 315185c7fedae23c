"""Cases: report, read, list, act. Creates take an Idempotency-Key; actions need If-Match."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.concurrency import run_in_threadpool

from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import ApiError, documented
from pingan.api.schemas import (
    ActionBody,
    CaseCreate,
    CaseOut,
    CasePage,
    DeadlineOut,
    DraftIn,
    IdPath,
    SimilarOut,
    SuggestionOut,
    TimelineOut,
)
from pingan.domain.cases import RULES, Action, CaseState, Command
from pingan.domain.errors import NotFound
from pingan.domain.geo import CRS, Point, to_wgs84
from pingan.domain.similarity import Report
from pingan.services import dispatch
from pingan.services.duplicates import similar_open_cases
from pingan.services.intake import CaseDraft, report_case
from pingan.services.ports import CaseFilter
from pingan.services.transitions import transition

router = APIRouter(prefix="/api/v1", tags=["cases"], responses=documented(401, 422))


def etag(version: int) -> str:
    return f'"{version}"'


def _operation(path: str, method: str) -> str:
    """An OpenAPI `operationRef` (a JSON pointer into this document's paths)."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


_CASE = "/api/v1/cases/{case_id}"
_ETAG = {
    "ETag": {
        "description": "the case's version, to send back as If-Match with the next action",
        "schema": {"type": "string"},
    }
}


_CASE_ID = "$response.body#/id"
# What a client can do next with the case an answer holds (OpenAPI links), so generated clients
# and stateful API tests follow the closed loop from one answer to the next.
_CASE_LINKS = {
    "GetCase": {
        "operationRef": _operation(_CASE, "get"),
        "parameters": {"case_id": _CASE_ID},
        "description": "read the case again",
    },
    "GetTimeline": {
        "operationRef": _operation(_CASE + "/timeline", "get"),
        "parameters": {"case_id": _CASE_ID},
        "description": "its history",
    },
    "GetDeadlines": {
        "operationRef": _operation(_CASE + "/deadlines", "get"),
        "parameters": {"case_id": _CASE_ID},
        "description": "its SLA clocks",
    },
    "TakeAction": {
        "operationRef": _operation(_CASE + "/actions/{action}", "post"),
        "parameters": {"path.case_id": _CASE_ID, "header.If-Match": "$response.header.ETag"},
        "description": "move it on, on the version just read",
    },
}


def _case_answer(description: str) -> dict[str, Any]:
    return {"description": description, "headers": _ETAG, "links": _CASE_LINKS}


def parse_if_match(value: str | None) -> int | None:
    """The version in an If-Match header; None for `*`. Raises 428 when absent."""
    if value is None or not value.strip():
        raise ApiError(428, "case.precondition_required")
    value = value.strip()
    if value == "*":
        return None
    tag = value.split(",")[0].strip().removeprefix("W/").strip('"')
    try:
        return int(tag)
    except ValueError:
        return -1  # matches nothing: answered as a stale version


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseOut,
    responses={
        **documented(400, 401, 403, 413, 422),
        201: _case_answer("The case, reported"),
        200: _case_answer("Idempotent replay: the case this key reported before"),
    },
    summary="Report a case (上报)",
)
async def create_case(
    body: CaseCreate,
    rt: RuntimeDep,
    actor: ActorDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> CaseOut:
    draft = CaseDraft(
        category_code=body.category_code,
        title=body.title,
        description=body.description,
        lng=body.lng,
        lat=body.lat,
        crs=body.crs,
        urgency=body.urgency,
        address=body.address,
        photo_ids=tuple(body.photo_ids),
    )
    result = await run_in_threadpool(report_case, rt.uows, actor, draft, rt.env, idempotency_key)
    response.headers["ETag"] = etag(result.case.version)
    response.headers["Location"] = f"/api/v1/cases/{result.case.id}"
    if result.replayed:
        response.headers["Idempotency-Replayed"] = "true"
    return CaseOut.of(result.case, actor, rt.env.now(), body.crs)


@router.get("/cases", response_model=CasePage, responses=documented(401, 422), summary="List cases")
def list_cases(
    rt: RuntimeDep,
    actor: ActorDep,
    state: Annotated[list[CaseState] | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=8, description="code or prefix")] = None,
    unit: Annotated[str | None, Query(max_length=255, description="unit path")] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    bbox: Annotated[
        str | None,
        Query(pattern=r"^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){3}$", description="w,s,e,n (WGS-84)"),
    ] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    crs: CRS = CRS.WGS84,
) -> CasePage:
    box = tuple(float(x) for x in bbox.split(",")) if bbox else None
    flt = CaseFilter(
        states=tuple(s.value for s in state or ()),
        category=category,
        unit_path=unit,
        department_id=department,
        overdue=overdue,
        created_from=created_from,
        created_to=created_to,
        bbox=box,  # type: ignore[arg-type]
        q=q,
    )
    now = rt.env.now()
    with rt.uows(actor, readonly=True) as uow:
        items, total = uow.cases.list(flt, now, limit=limit, offset=offset)
    return CasePage(
        items=[CaseOut.of(c, actor, now, crs) for c in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/cases/by-tracking-no/{tracking_no}",
    response_model=CaseOut,
    responses=documented(401, 404),
    summary="Find a case by its tracking number",
)
def get_by_tracking_no(
    tracking_no: str, rt: RuntimeDep, actor: ActorDep, response: Response
) -> CaseOut:
    with rt.uows(actor, readonly=True) as uow:
        case = uow.cases.get_by_tracking_no(tracking_no)
    if case is None:
        raise NotFound("case.not_found", case_id=tracking_no)
    response.headers["ETag"] = etag(case.version)
    return CaseOut.of(case, actor, rt.env.now())


@router.get(
    "/cases/{case_id}",
    response_model=CaseOut,
    responses={**documented(401, 404), 200: _case_answer("The case")},
    summary="One case",
)
def get_case(
    case_id: IdPath, rt: RuntimeDep, actor: ActorDep, response: Response, crs: CRS = CRS.WGS84
) -> CaseOut:
    with rt.uows(actor, readonly=True) as uow:
        case = uow.cases.get(case_id)
    if case is None:
        raise NotFound("case.not_found", case_id=case_id)
    response.headers["ETag"] = etag(case.version)
    return CaseOut.of(case, actor, rt.env.now(), crs)


@router.get(
    "/cases/{case_id}/timeline",
    response_model=list[TimelineOut],
    responses=documented(401, 404),
    summary="Everything that happened to a case",
)
def get_timeline(case_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> list[TimelineOut]:
    with rt.uows(actor, readonly=True) as uow:
        if uow.cases.get(case_id) is None:
            raise NotFound("case.not_found", case_id=case_id)
        entries = uow.cases.timeline(case_id)
    return [TimelineOut.of(seq, e, actor) for seq, e in entries]


@router.get(
    "/cases/{case_id}/deadlines",
    response_model=list[DeadlineOut],
    responses=documented(401, 404),
    summary="The case's SLA clocks, past and live",
)
def get_deadlines(case_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> list[DeadlineOut]:
    with rt.uows(actor, readonly=True) as uow:
        if uow.cases.get(case_id) is None:
            raise NotFound("case.not_found", case_id=case_id)
        stored = uow.deadlines.for_case(case_id)
    return [
        DeadlineOut(
            stage=s.deadline.stage.value,
            clock=s.deadline.clock.value,
            started_at=s.deadline.started_at,
            due_at=s.deadline.due_at,
            warn_at=s.deadline.warn_at,
            status=s.status,
            warned_at=s.warned_at,
            lapsed_at=s.lapsed_at,
            remaining_seconds=s.remaining_seconds,
        )
        for s in stored
    ]


@router.get(
    "/cases/{case_id}/dispatch-suggestion",
    response_model=SuggestionOut | None,
    responses=documented(401, 404),
    summary="Which department the routing rules would send this case to",
)
def get_suggestion(case_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> SuggestionOut | None:
    with rt.uows(actor, readonly=True) as uow:
        case = uow.cases.get(case_id)
        if case is None:
            raise NotFound("case.not_found", case_id=case_id)
        s = dispatch.suggest(uow, case.category_code, case.location_path)
    return SuggestionOut(department_id=s.department_id, reason=s.reason) if s else None


@router.post(
    "/cases/{case_id}/actions/{action}",
    response_model=CaseOut,
    responses={
        **documented(400, 401, 403, 404, 409, 412, 413, 422, 428),
        200: _case_answer("The case after the action"),
    },
    summary="Take an action on a case (file, dispatch, handle, verify, ...)",
    description="Who may act, from which states, carrying what: GET /api/v1/transitions.",
)
async def act(
    case_id: IdPath,
    action: Action,
    body: ActionBody,
    rt: RuntimeDep,
    actor: ActorDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> CaseOut:
    expected = parse_if_match(if_match)
    command = Command(
        action=action,
        note=body.note,
        reason=body.reason,
        department_id=body.department_id,
        photo_ids=tuple(body.photo_ids),
        passed=body.passed,
        satisfaction=body.satisfaction,
        target_case_id=body.target_case_id,
    )

    def run() -> Any:
        with rt.uows(actor) as uow:
            return transition(uow, actor, case_id, command, rt.env, expected)

    case = await run_in_threadpool(run)
    response.headers["ETag"] = etag(case.version)
    return CaseOut.of(case, actor, rt.env.now())


@router.get("/transitions", summary="The rules of the closed loop: who may do what, from where")
def get_rules() -> list[dict[str, Any]]:
    return [rule.describe() for rule in RULES.values()]


def _similar(rt: Any, actor: Any, report: Report, exclude: int | None) -> list[SimilarOut]:
    now = rt.env.now()
    with rt.uows(actor, readonly=True) as uow:
        found = similar_open_cases(uow, actor, report, rt.env, exclude=exclude)
    return [SimilarOut(score=f.score, case=CaseOut.of(f.case, actor, now)) for f in found]


@router.get(
    "/cases/{case_id}/similar",
    response_model=list[SimilarOut],
    responses=documented(401, 404),
    summary="Open cases that may describe the same problem (offered for merging, never merged)",
)
def similar_to_case(case_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> list[SimilarOut]:
    with rt.uows(actor, readonly=True) as uow:
        case = uow.cases.get(case_id)
    if case is None:
        raise NotFound("case.not_found", case_id=case_id)
    text = f"{case.title} {case.description}"
    report = Report(case.category_code, text, Point(case.lng, case.lat), case.created_at)
    return _similar(rt, actor, report, case.id)


@router.post(
    "/cases/similar",
    response_model=list[SimilarOut],
    responses=documented(400, 401, 422),
    summary="Before filing: open cases a report being taken may duplicate (hotline desk)",
)
def similar_to_draft(body: DraftIn, rt: RuntimeDep, actor: ActorDep) -> list[SimilarOut]:
    point = to_wgs84(body.lng, body.lat, body.crs)
    report = Report(body.category_code, f"{body.title} {body.description}", point, rt.env.now())
    return _similar(rt, actor, report, None)
