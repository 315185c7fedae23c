"""Repositories for the administrative tree, grids and departments."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from pingan.adapters.db.scope import within
from pingan.adapters.db.tables import departments, units
from pingan.domain.geo import AdminUnit, UnitLevel


@dataclass(frozen=True, slots=True)
class UnitRecord:
    unit: AdminUnit
    geom_wkb: bytes | None
    bbox: tuple[float, float, float, float] | None
    center: tuple[float, float] | None
    worker_id: int | None


@dataclass(frozen=True, slots=True)
class Department:
    id: str
    kind: str
    name: str
    name_en: str
    unit_path: str


def _unit(row: Any) -> AdminUnit:
    return AdminUnit(
        code=row.code,
        name=row.name,
        level=UnitLevel(row.level),
        path=row.path,
        name_en=row.name_en or "",
        generated=bool(row.generated),
    )


def _record(row: Any) -> UnitRecord:
    bbox = None if row.min_lng is None else (row.min_lng, row.min_lat, row.max_lng, row.max_lat)
    center = None if row.center_lng is None else (row.center_lng, row.center_lat)
    return UnitRecord(_unit(row), getattr(row, "geom_wkb", None), bbox, center, row.worker_id)


def _escape(char: str) -> str:
    return "\\" + char if char in "%_\\" else char


class UnitRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, code: str) -> AdminUnit | None:
        row = self.conn.execute(select(units).where(units.c.code == code)).first()
        return _unit(row) if row else None

    def get_by_path(self, path: str) -> AdminUnit | None:
        row = self.conn.execute(select(units).where(units.c.path == path)).first()
        return _unit(row) if row else None

    def record(self, code: str) -> UnitRecord | None:
        row = self.conn.execute(select(units).where(units.c.code == code)).first()
        return _record(row) if row else None

    def children(self, code: str) -> list[AdminUnit]:
        rows = self.conn.execute(
            select(units).where(units.c.parent_code == code).order_by(units.c.code)
        )
        return [_unit(r) for r in rows]

    def roots(self) -> list[AdminUnit]:
        rows = self.conn.execute(select(units).where(units.c.parent_code.is_(None)))
        return [_unit(r) for r in rows]

    def records(
        self, scope: str, level: UnitLevel | None = None, with_geometry: bool = True
    ) -> Iterator[UnitRecord]:
        cols = [c for c in units.c if with_geometry or c.name != "geom_wkb"]
        stmt = select(*cols).where(within(units.c.path, scope)).order_by(units.c.path)
        if level is not None:
            stmt = stmt.where(units.c.level == level.value)
        for row in self.conn.execute(stmt):
            yield _record(row)

    def named(self, levels: Sequence[UnitLevel], scope: str, key: str) -> list[UnitRecord]:
        """Units of these levels within `scope` (without geometry) whose stored name may read
        `key` once normalised (`domain.addresses.normalise`): its non-ASCII characters in that
        order with anything between. Everything ASCII in a key may have been something else when
        stored (full-width letters and signs, 十 or ⑫ for digits, bracketed notes dropped), so
        only the characters normalising keeps as they are narrow the search. A coarse filter, so
        the database sends the few candidates rather than every unit; callers compare the
        normalised names themselves."""
        pattern = "%" + "%".join(_escape(c) for c in key if not c.isascii())
        cols = [c for c in units.c if c.name != "geom_wkb"]
        stmt = (
            select(*cols)
            .where(
                within(units.c.path, scope),
                units.c.level.in_([level.value for level in levels]),
                units.c.name.like(pattern + "%", escape="\\"),
            )
            .order_by(units.c.path)
        )
        return [_record(row) for row in self.conn.execute(stmt)]

    def count(self, level: UnitLevel | None = None) -> int:
        stmt = select(func.count()).select_from(units)
        if level is not None:
            stmt = stmt.where(units.c.level == level.value)
        return int(self.conn.execute(stmt).scalar_one())

    def upsert_many(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert new units, replace the fields of existing ones; returns how many were written."""
        n = 0
        for row in rows:
            exists = self.conn.execute(
                select(units.c.code).where(units.c.code == row["code"])
            ).first()
            if exists:
                self.conn.execute(update(units).where(units.c.code == row["code"]).values(**row))
            else:
                self.conn.execute(insert(units).values(**row))
            n += 1
        return n

    def insert_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(units), rows)

    def set_worker(self, code: str, user_id: int) -> None:
        self.conn.execute(update(units).where(units.c.code == code).values(worker_id=user_id))

    def worker_of(self, grid_code: str) -> int | None:
        return self.conn.execute(
            select(units.c.worker_id).where(units.c.code == grid_code)
        ).scalar_one_or_none()


class DepartmentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, dept_id: str) -> Department | None:
        row = self.conn.execute(select(departments).where(departments.c.id == dept_id)).first()
        return Department(**row._mapping) if row else None

    def all(self, scope: str = "") -> list[Department]:
        rows = self.conn.execute(select(departments).order_by(departments.c.id))
        return [
            Department(**r._mapping)
            for r in rows
            if not scope or r.unit_path.startswith(scope) or scope.startswith(r.unit_path)
        ]

    def insert_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(departments), rows)
