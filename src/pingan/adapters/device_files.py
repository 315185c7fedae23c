"""Reading device lists from CSV (UTF-8 or GBK, as Chinese spreadsheets export them) or xlsx."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from pingan.domain.errors import InvalidInput
from pingan.domain.geo import CRS
from pingan.services.devices import DeviceInput

REQUIRED = ("id", "kind", "lng", "lat")


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("import.bad_encoding")


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).active
        if sheet is None:
            raise InvalidInput("import.empty")
        values = list(sheet.iter_rows(values_only=True))
        if not values:
            raise InvalidInput("import.empty")
        header = [str(h or "").strip() for h in values[0]]
        return [dict(zip(header, row, strict=False)) for row in values[1:] if any(row)]
    reader = csv.DictReader(io.StringIO(_text(path.read_bytes()), newline=""))
    try:
        return [dict(r) for r in reader]
    except csv.Error as exc:
        raise InvalidInput("import.bad_csv", reason=str(exc)) from None


def read_devices(path: Path) -> list[DeviceInput]:
    rows = _rows(path)
    if not rows:
        raise InvalidInput("import.empty")
    missing = [c for c in REQUIRED if c not in rows[0]]
    if missing:
        raise InvalidInput("import.missing_columns", columns=missing)
    items = []
    for n, r in enumerate(rows, start=2):
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
