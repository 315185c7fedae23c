"""Intake suggestions: a category (小类 and 大类) and a department for a report's free text, from
the model `pingan train` learned on the case history. Without a trained model the endpoint says
so (409 `intake.no_model`: not possible in the current state); reporting never needs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import ApiError, documented
from pingan.api.schemas import Strict
from pingan.domain.errors import InvalidInput
from pingan.domain.geo import CRS, to_wgs84
from pingan.intelligence.model_files import ModelHolder
from pingan.services.suggestions import MAX_TEXT, suggest_for_text

router = APIRouter(prefix="/api/v1/intake", tags=["intake"], responses=documented(401, 422))
_holders: dict[Path, ModelHolder] = {}


def holder(directory: Path) -> ModelHolder:
    """One holder per model directory per process; it reloads when the model file changes."""
    key = directory.resolve()
    if key not in _holders:
        _holders[key] = ModelHolder(key)
    return _holders[key]


class SuggestIn(Strict):
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="Title and/or description")
    lat: float | None = Field(default=None, description="Latitude, to name the local office")
    lon: float | None = Field(default=None, description="Longitude, to name the local office")
    crs: CRS = CRS.WGS84


class CategoryOut(BaseModel):
    code: str = Field(description="小类 code, e.g. E0102")
    name_zh: str
    name_en: str
    major: str = Field(description="大类 code, e.g. E01")
    major_name_zh: str
    major_name_en: str
    confidence: float = Field(ge=0, le=1)


class MajorOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    confidence: float = Field(ge=0, le=1, description="Sum over its 小类")


class DepartmentOut(BaseModel):
    kind: str = Field(description="Line of government, e.g. cgj (城管)")
    name_zh: str
    name_en: str
    confidence: float = Field(ge=0, le=1)
    department_id: str | None = Field(
        description="The office of that kind covering the point, when one was given"
    )


class SuggestOut(BaseModel):
    categories: list[CategoryOut]
    majors: list[MajorOut]
    departments: list[DepartmentOut]
    location_path: str | None = Field(description="Grid path of the point, if given and inside")
    model: dict[str, Any] = Field(description="trained_at, n_samples and held-out metrics")


@router.post(
    "/suggest",
    response_model=SuggestOut,
    summary="Suggest category and department for a report's text (top 3, with confidences)",
    responses=documented(400, 403, 409),
)
async def suggest(body: SuggestIn, rt: RuntimeDep, actor: ActorDep) -> SuggestOut:
    return await run_in_threadpool(_suggest, body, rt, actor)


def _suggest(body: SuggestIn, rt: Any, actor: Any) -> SuggestOut:
    if (body.lat is None) != (body.lon is None):
        raise InvalidInput("intake.point_incomplete")
    try:
        stored = holder(rt.settings.model_dir).current()
    except (OSError, ValueError, KeyError):
        raise ApiError(409, "intake.model_unreadable") from None
    if stored is None:
        raise ApiError(409, "intake.no_model")
    point = None
    if body.lat is not None and body.lon is not None:
        p = to_wgs84(body.lon, body.lat, body.crs)
        point = (p.lng, p.lat)
    with rt.uows(actor, readonly=True) as uow:
        found = suggest_for_text(uow, actor, stored.model, body.text, point, rt.env)
    meta = {k: stored.meta.get(k) for k in ("trained_at", "n_samples", "n_features", "source")}
    meta["metrics"] = stored.meta.get("metrics", {}).get("targets", {})
    return SuggestOut(
        categories=[CategoryOut(**vars_of(c)) for c in found.categories],
        majors=[MajorOut(**vars_of(m)) for m in found.majors],
        departments=[DepartmentOut(**vars_of(d)) for d in found.departments],
        location_path=found.location_path,
        model=meta,
    )


def vars_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}
