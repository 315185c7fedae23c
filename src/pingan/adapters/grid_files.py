"""Reading boundary and grid files: GeoJSON in any of the three datums becomes units ready to
import, with every geometry problem found (invalid shapes, overlaps, gaps, spills outside the
parent) listed before anything is stored."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pingan.adapters.spatial import (
    GeometryIssue,
    UnitFeature,
    bbox,
    from_wkb,
    parse_geojson_units,
    to_wkb,
    validate_siblings,
)
from pingan.domain.geo import CRS
from pingan.services.grids import ImportedUnit
from pingan.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class ImportPlan:
    items: list[ImportedUnit]
    issues: list[GeometryIssue]


def plan_import(
    uow: UnitOfWork, data: Any, crs: CRS, default_parent: str | None = None
) -> ImportPlan:
    features = parse_geojson_units(data, crs)
    by_parent: dict[str | None, list[UnitFeature]] = defaultdict(list)
    for f in features:
        by_parent[f.parent_code or default_parent].append(f)
    local = {f.code: f.geometry for f in features}
    issues: list[GeometryIssue] = []
    for parent_code, children in by_parent.items():
        parent_geom = local.get(parent_code) if parent_code else None
        if parent_geom is None and parent_code:
            stored = uow.units.record(parent_code)
            parent_geom = from_wkb(stored.geom_wkb) if stored and stored.geom_wkb else None
        issues.extend(validate_siblings(parent_geom, children))
    items = [
        ImportedUnit(
            code=f.code,
            name=f.name,
            name_en=f.name_en,
            level=f.level,
            parent_code=f.parent_code or default_parent,
            geom_wkb=to_wkb(f.geometry),
            bbox=bbox(f.geometry),
            center=_label(f.geometry),
        )
        for f in features
    ]
    return ImportPlan(items, issues)


def _label(geometry: Any) -> tuple[float, float]:
    p = geometry.representative_point()
    return (float(p.x), float(p.y))
