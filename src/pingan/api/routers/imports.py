"""Bulk import of historic cases from CSV (UTF-8 or GBK) or xlsx, for administrators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from pingan.adapters.case_files import read_case_sheet
from pingan.api.deps import ActorDep, RuntimeDep, language
from pingan.api.errors import documented, error_body
from pingan.domain.access import Actor
from pingan.domain.errors import InvalidInput
from pingan.domain.geo import CRS
from pingan.messages import message
from pingan.services import case_import

router = APIRouter(prefix="/api/v1", tags=["import"])


class ReadyRowOut(BaseModel):
    line: int
    external_id: str
    grid_code: str
    state: str
    reported_at: datetime
    closed_at: datetime


class SkippedRowOut(BaseModel):
    line: int
    external_id: str


class ProblemOut(BaseModel):
    line: int
    external_id: str
    code: str
    message: str


class ImportReportOut(BaseModel):
    source: str
    encoding: str
    dry_run: bool
    rows: int
    ready: list[ReadyRowOut]
    already_imported: list[SkippedRowOut]
    problems: list[ProblemOut]
    imported: int


def report_out(report: case_import.ImportReport, lang: str) -> ImportReportOut:
    return ImportReportOut(
        source=report.source,
        encoding=report.encoding,
        dry_run=report.dry_run,
        rows=report.rows,
        ready=[
            ReadyRowOut(
                line=r.line,
                external_id=r.external_id,
                grid_code=r.grid_path.rpartition(".")[2],
                state=r.state.value,
                reported_at=r.reported_at,
                closed_at=r.closed_at,
            )
            for r in report.ready
        ],
        already_imported=[SkippedRowOut(line=n, external_id=e) for n, e in report.already],
        problems=[
            ProblemOut(
                line=p.line,
                external_id=p.external_id,
                code=p.code,
                message=message(p.code, lang, p.params),
            )
            for p in report.problems
        ],
        imported=report.imported,
    )


@router.post(
    "/imports/cases",
    response_model=ImportReportOut,
    responses={
        **documented(400, 401, 403, 413),
        422: {
            "description": "Unreadable file, missing columns, or bad rows (nothing stored); "
            "`error.report` lists every bad row with its line and reason",
        },
    },
    summary="Import historic cases (CSV in UTF-8 or GBK, or xlsx); dry_run reports only",
)
async def import_cases(
    rt: RuntimeDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="CSV or xlsx; columns in docs/import.md")],
    lang: Annotated[str, Depends(language)],
    dry_run: Annotated[bool, Query(description="check every row, store nothing")] = True,
    crs: Annotated[CRS, Query(description="datum of lng/lat when a row names none")] = CRS.WGS84,
) -> Any:
    limit = rt.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput("attachment.too_large", max_bytes=limit)
    name = file.filename or "upload.csv"
    report = await run_in_threadpool(_run, rt, actor, data, name, crs, dry_run)
    out = report_out(report, lang)
    if report.problems and not dry_run:
        body = error_body("import.bad_rows", lang, {"count": len(report.problems)})
        body["error"]["report"] = out.model_dump(mode="json")
        return JSONResponse(body, 422)
    return out


def _run(
    rt: Any, actor: Actor, data: bytes, name: str, crs: CRS, dry_run: bool
) -> case_import.ImportReport:
    sheet = read_case_sheet(data, name)
    return case_import.import_cases(
        rt.uows, actor, sheet, rt.env, source=name, crs=crs, dry_run=dry_run
    )
