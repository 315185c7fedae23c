"""Reading device lists: CSV (UTF-8 or GBK, as Chinese spreadsheets export them) or xlsx, read by
`table_files`."""

from __future__ import annotations

from pathlib import Path

from pingan.adapters.table_files import read_table_file
from pingan.domain.errors import InvalidInput
from pingan.domain.geo import CRS
from pingan.services.devices import DeviceInput

REQUIRED = ("id", "kind", "lng", "lat")


def read_devices(path: Path) -> list[DeviceInput]:
    table = read_table_file(path)
    if not table.rows:
        raise InvalidInput("import.empty")
    missing = [c for c in REQUIRED if c not in table.header]
    if missing:
        raise InvalidInput("import.missing_columns", columns=missing)
    items = []
    for n, r in table.records():
        try:
            items.append(
                DeviceInput(
                    id=str(r["id"]).strip(),
                    kind=str(r["kind"]).strip(),
                    name=str(r.get("name") or "").strip(),
                    lng=float(r["lng"]),
                    lat=float(r["lat"]),
                    crs=CRS(str(r.get("crs") or "wgs84").strip().lower()),
                    owner=str(r.get("owner") or "").strip(),
                    facility_id=str(r["facility_id"]).strip() if r.get("facility_id") else None,
                    interval_s=int(float(r.get("interval_s") or 300)),
                )
            )
        except (TypeError, ValueError):
            raise InvalidInput("import.bad_row", row=n) from None
    return items
