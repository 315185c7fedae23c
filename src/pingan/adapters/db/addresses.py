"""Repository of the address registry: exact look-ups by road + number and by compound +
building, within a unit of the administrative tree, and the loading of imported rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from pingan.adapters.db.address_tables import addresses
from pingan.adapters.db.scope import within


@dataclass(frozen=True, slots=True)
class AddressRecord:
    id: int
    kind: str
    road: str | None
    number: str | None
    compound: str | None
    building: str | None
    full_text: str
    lng: float
    lat: float
    grid_path: str | None
    unit_path: str
    generated: bool


def _record(row: Any) -> AddressRecord:
    return AddressRecord(
        row.id,
        row.kind,
        row.road,
        row.number,
        row.compound,
        row.building,
        row.full_text,
        row.lng,
        row.lat,
        row.grid_path,
        row.unit_path,
        bool(row.generated),
    )


class AddressRepository:
    """Not scoped to the reader: where a door number lies is not confidential."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def on_road(self, road: str, scope: str = "", number: str | None = None) -> list[AddressRecord]:
        stmt = select(addresses).where(
            addresses.c.road == road,
            addresses.c.kind == "door",
            within(addresses.c.unit_path, scope),
        )
        if number is not None:
            stmt = stmt.where(addresses.c.number == number)
        return [_record(r) for r in self.conn.execute(stmt.order_by(addresses.c.id))]

    def in_compound(
        self, compound: str, scope: str = "", building: str | None = None
    ) -> list[AddressRecord]:
        stmt = select(addresses).where(
            addresses.c.compound == compound, within(addresses.c.unit_path, scope)
        )
        if building is not None:
            stmt = stmt.where(addresses.c.building == building)
        return [_record(r) for r in self.conn.execute(stmt.order_by(addresses.c.id))]

    def names(self, column: str, scope: str = "") -> list[str]:
        """Distinct road or compound names within a unit, for fuzzy matching."""
        col = addresses.c[column]
        stmt = select(col).where(col.is_not(None), within(addresses.c.unit_path, scope)).distinct()
        return [str(r[0]) for r in self.conn.execute(stmt)]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(addresses)).scalar_one())

    def replace_many(self, rows: Iterable[dict[str, Any]]) -> int:
        """Store rows; a row with the same full text replaces the stored one."""
        batch = list(rows)
        texts = [r["full_text"] for r in batch]
        for start in range(0, len(texts), 500):
            chunk = texts[start : start + 500]
            self.conn.execute(delete(addresses).where(addresses.c.full_text.in_(chunk)))
        for start in range(0, len(batch), 1000):
            self.conn.execute(insert(addresses), batch[start : start + 1000])
        return len(batch)
