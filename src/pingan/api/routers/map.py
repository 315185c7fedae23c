"""The map settings every web app reads before drawing: an optional tile layer and its datum."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from pingan.api.deps import RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["map"])


class MapConfigOut(BaseModel):
    tile_url: str | None = Field(
        description="XYZ tile template under the boundaries; null: the boundaries are the base map"
    )
    tile_crs: Literal["wgs84", "gcj02"] = Field(
        description="datum of the tiles; with gcj02 the apps shift every overlay to match"
    )
    attribution: str


@router.get("/map/config", response_model=MapConfigOut)
def map_config(rt: RuntimeDep) -> MapConfigOut:
    """Public: the citizen page draws a map before anyone signs in."""
    s = rt.settings
    return MapConfigOut(tile_url=s.tile_url, tile_crs=s.tile_crs, attribution=s.tile_attribution)
