"""Reading an address list for the registry: CSV (UTF-8 or GBK) or xlsx (`table_files`) with the
full address and its coordinates — `address,lng,lat[,crs]` or the Chinese headers
地址,经度,纬度[,坐标系]."""

from __future__ import annotations

from pathlib import Path

from pingan.adapters.table_files import SNIFFED, read_table_file
from pingan.domain.errors import DomainError, InvalidInput
from pingan.domain.geo import CRS, to_wgs84
from pingan.services.geocoding import AddressRow


def read_addresses(
    path: Path, default_crs: CRS = CRS.WGS84
) -> tuple[list[AddressRow], list[tuple[int, str, str]]]:
    """The rows, converted to WGS-84, and the rows that could not be read (row, text, code)."""
    table = read_table_file(path, delimiters=SNIFFED)
    ti = table.column(None, ("address", "full_text", "地址", "详细地址", "门牌地址"))
    xi = table.column(None, ("lng", "lon", "longitude", "x", "经度"))
    yi = table.column(None, ("lat", "latitude", "y", "纬度"))
    ci = table.column(None, ("crs", "坐标系"))
    if ti is None or xi is None or yi is None:
        raise InvalidInput("dataset.columns_unknown", columns=", ".join(table.header))
    rows: list[AddressRow] = []
    errors: list[tuple[int, str, str]] = []
    for n, (_line, row) in enumerate(table.texts(), start=1):
        text = row[ti].strip() if ti < len(row) else ""
        try:
            crs = (
                CRS(row[ci].strip().lower()) if ci is not None and row[ci].strip() else default_crs
            )
            point = to_wgs84(float(row[xi]), float(row[yi]), crs)
        except (IndexError, ValueError):
            errors.append((n, text, "geo.not_finite"))
            continue
        except DomainError as exc:
            errors.append((n, text, exc.code))
            continue
        rows.append(AddressRow(text, point.lng, point.lat))
    return rows, errors
