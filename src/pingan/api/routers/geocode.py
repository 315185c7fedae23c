"""Address → place: `GET /api/v1/places/geocode?q=嘉兴市南湖区中山路88号`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import documented
from pingan.services.geocoding import MAX_QUERY, geocode

router = APIRouter(prefix="/api/v1/places", tags=["places"], responses=documented(401, 422))


class PlaceUnitOut(BaseModel):
    code: str
    name: str
    level: str
    path: str


class GeocodeOut(BaseModel):
    query: str
    components: dict[str, str] = Field(
        description="Parts found: province, city, district, town, community, road, number, "
        "compound, building, unit, room"
    )
    rest: str = Field(description="Text that could not be placed")
    level: str | None = Field(
        description="How precisely it matched: building | door | compound | road | community | "
        "town | district | city; null when nothing matched"
    )
    confidence: float = Field(ge=0, le=1)
    lng: float | None = Field(description="WGS-84")
    lat: float | None = Field(description="WGS-84")
    grid_path: str | None
    unit: PlaceUnitOut | None = Field(description="The unit (community, town...) of the place")
    address_id: int | None = Field(description="The registry entry matched, if any")
    address_text: str | None
    notes: list[str] = Field(
        description="unknown:<part>:<name>, ambiguous:<part>:<name>:<n>, nearest_number:<n>, "
        "registry:no_match"
    )


@router.get(
    "/geocode",
    response_model=GeocodeOut,
    summary="Parse a Chinese address and place it: point (WGS-84), grid, unit, match level",
)
async def geocode_address(
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
    rt: RuntimeDep,
    _actor: ActorDep,
) -> GeocodeOut:
    return await run_in_threadpool(_geocode, q, rt)


def _geocode(q: str, rt: Any) -> GeocodeOut:
    with rt.uows(readonly=True) as uow:
        g = geocode(uow, q, rt.env)
    return GeocodeOut(
        query=g.query,
        components=g.parsed.parts(),
        rest=g.parsed.rest,
        level=g.level,
        confidence=g.confidence,
        lng=g.lng,
        lat=g.lat,
        grid_path=g.grid_path,
        unit=PlaceUnitOut(**{k: getattr(g.unit, k) for k in ("code", "name", "level", "path")})
        if g.unit
        else None,
        address_id=g.address_id,
        address_text=g.address_text,
        notes=g.notes,
    )
