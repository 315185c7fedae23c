"""The administrative tree, grids, point location, categories and departments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from pingan.adapters.db.places import UnitRecord
from pingan.adapters.spatial import from_wkb, to_geojson, transform_from_wgs84
from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import documented
from pingan.api.schemas import CategoryOut, DepartmentOut, LocateOut, UnitOut
from pingan.domain.categories import CATEGORIES, MAJORS
from pingan.domain.errors import InvalidInput, NotFound
from pingan.domain.geo import CRS, UnitLevel, ancestors, to_wgs84
from pingan.services.intake import owner_of

router = APIRouter(prefix="/api/v1", tags=["places"], responses=documented(401, 422))


def unit_out(r: UnitRecord, parent_code: str | None = None) -> UnitOut:
    u = r.unit
    return UnitOut(
        code=u.code,
        name=u.name,
        name_en=u.name_en,
        level=u.level.value,
        path=u.path,
        parent_code=parent_code if parent_code is not None else u.parent_code,
        generated=u.generated,
        bbox=r.bbox,
        center=r.center,
    )


@router.get(
    "/units", response_model=list[UnitOut], summary="Units: the roots, or a unit's children"
)
def list_units(rt: RuntimeDep, _actor: ActorDep, parent: str | None = None) -> list[UnitOut]:
    with rt.uows(readonly=True) as uow:
        units = uow.units.children(parent) if parent else uow.units.roots()
        records = [uow.units.record(u.code) for u in units]
    return [unit_out(r) for r in records if r is not None]


@router.get(
    "/units/{code}", response_model=UnitOut, responses={404: {"description": "No such unit"}}
)
def get_unit(code: str, rt: RuntimeDep, _actor: ActorDep) -> UnitOut:
    with rt.uows(readonly=True) as uow:
        r = uow.units.record(code)
    if r is None:
        raise NotFound("unit.not_found", code=code)
    return unit_out(r)


@router.get(
    "/units/{code}/geojson",
    summary="Boundaries of a unit's descendants at one level, as a GeoJSON FeatureCollection",
    responses={404: {"description": "No such unit"}},
)
def unit_geojson(
    code: str,
    rt: RuntimeDep,
    _actor: ActorDep,
    level: UnitLevel | None = None,
    crs: CRS = CRS.WGS84,
    simplify: Annotated[float, Query(ge=0, le=0.01, description="tolerance in degrees")] = 0.0,
) -> dict[str, Any]:
    with rt.uows(readonly=True) as uow:
        root = uow.units.get(code)
        if root is None:
            raise NotFound("unit.not_found", code=code)
        child = level or root.level.child() or root.level
        features = []
        for r in uow.units.records(root.path, child):
            if not r.geom_wkb:
                continue
            geom = from_wkb(r.geom_wkb)
            if simplify:
                geom = geom.simplify(simplify, preserve_topology=True)
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "code": r.unit.code,
                        "name": r.unit.name,
                        "name_en": r.unit.name_en,
                        "level": r.unit.level.value,
                        "path": r.unit.path,
                        "generated": r.unit.generated,
                    },
                    "geometry": to_geojson(transform_from_wgs84(geom, crs)),
                }
            )
    return {"type": "FeatureCollection", "features": features}


@router.get(
    "/locate",
    response_model=LocateOut,
    responses={422: {"description": "Bad coordinates or outside every grid"}},
    summary="Which grid a point lies in (accepts WGS-84, GCJ-02 and BD-09)",
)
def locate(
    lng: float, lat: float, rt: RuntimeDep, _actor: ActorDep, crs: CRS = CRS.WGS84
) -> LocateOut:
    point = to_wgs84(lng, lat, crs)
    path = rt.locator.locate(point.lng, point.lat)
    if path is None:
        raise InvalidInput("geo.outside_grids", lng=lng, lat=lat)
    with rt.uows(readonly=True) as uow:
        chain = [uow.units.get_by_path(p) for p in [*ancestors(path), path]]
        records = [uow.units.record(u.code) for u in chain if u is not None]
    outs = [unit_out(r) for r in records if r is not None]
    return LocateOut(
        lng=point.lng, lat=point.lat, grid=outs[-1], chain=outs[:-1], owner_path=owner_of(path)
    )


@router.get("/categories", response_model=list[CategoryOut], summary="The case classification")
def categories() -> list[CategoryOut]:
    return [
        CategoryOut(
            code=c.code,
            name=c.name,
            name_en=c.name_en,
            kind=c.kind.value,
            major_code=c.major_code,
            major_name=MAJORS[c.major_code][0],
            major_name_en=MAJORS[c.major_code][1],
            department_kind=c.department,
            limits={u.value: {"hours": lim.hours, "clock": lim.clock.value} for u, lim in c.limits},
        )
        for c in CATEGORIES.values()
    ]


@router.get("/departments", response_model=list[DepartmentOut], summary="Departments")
def departments(rt: RuntimeDep, actor: ActorDep) -> list[DepartmentOut]:
    with rt.uows(readonly=True) as uow:
        depts = uow.departments.all(actor.jurisdiction)
    return [
        DepartmentOut(id=d.id, kind=d.kind, name=d.name, name_en=d.name_en, unit_path=d.unit_path)
        for d in depts
    ]
