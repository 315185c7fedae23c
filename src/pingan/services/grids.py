"""Importing the administrative tree and grids, and answering "which grid is this point in?".

Geometry parsing and validation happen in the spatial adapter; this use case places each unit under
its parent, derives its path, and refuses a tree that does not hang together.
"""

from __future__ import annotations

from dataclasses import dataclass

from pingan.domain.access import Actor, Role
from pingan.domain.errors import Forbidden, InvalidInput
from pingan.domain.geo import UnitLevel, child_path, is_within
from pingan.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class ImportedUnit:
    code: str
    name: str
    name_en: str
    level: UnitLevel | None
    parent_code: str | None
    geom_wkb: bytes
    bbox: tuple[float, float, float, float]
    center: tuple[float, float]
    generated: bool = False


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int


def import_units(uow: UnitOfWork, actor: Actor, items: list[ImportedUnit]) -> ImportResult:
    """Store units parents-first; all or nothing."""
    if actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise Forbidden("units.import_not_permitted")
    by_code = {u.code: u for u in items}
    if len(by_code) != len(items):
        raise InvalidInput("units.duplicate_code")
    paths: dict[str, tuple[str, UnitLevel]] = {}

    def resolve(u: ImportedUnit, seen: frozenset[str] = frozenset()) -> tuple[str, UnitLevel]:
        if u.code in paths:
            return paths[u.code]
        if u.code in seen:
            raise InvalidInput("units.cycle", code=u.code)
        if u.parent_code is None:
            level = u.level or UnitLevel.CITY
            result = (u.code, level)
        else:
            parent = by_code.get(u.parent_code)
            if parent is not None:
                ppath, plevel = resolve(parent, seen | {u.code})
            else:
                stored = uow.units.get(u.parent_code)
                if stored is None:
                    raise InvalidInput("units.unknown_parent", code=u.code, parent=u.parent_code)
                ppath, plevel = stored.path, stored.level
            expected = plevel.child()
            if expected is None:
                raise InvalidInput("units.below_grid", code=u.code)
            if u.level is not None and u.level.depth <= plevel.depth:
                raise InvalidInput("units.level_order", code=u.code, level=u.level.value)
            result = (child_path(ppath, u.code), u.level or expected)
        if actor.role is not Role.SYSTEM and not is_within(result[0], actor.jurisdiction):
            raise Forbidden("units.outside_jurisdiction", code=u.code)
        paths[u.code] = result
        return result

    rows = []
    for u in items:
        path, level = resolve(u)
        rows.append(
            {
                "code": u.code,
                "path": path,
                "parent_code": u.parent_code,
                "level": level.value,
                "name": u.name,
                "name_en": u.name_en,
                "generated": u.generated,
                "geom_wkb": u.geom_wkb,
                "min_lng": u.bbox[0],
                "min_lat": u.bbox[1],
                "max_lng": u.bbox[2],
                "max_lat": u.bbox[3],
                "center_lng": u.center[0],
                "center_lat": u.center[1],
            }
        )
    rows.sort(key=lambda r: str(r["path"]).count("."))
    existing = sum(1 for r in rows if uow.units.get(str(r["code"])) is not None)
    uow.units.upsert_many(rows)
    uow.commit()
    return ImportResult(created=len(rows) - existing, updated=existing)
