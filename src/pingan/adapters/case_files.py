"""Reading historic case lists: CSV in UTF-8 or GBK (as Chinese spreadsheets export them; the
encoding is detected) or an xlsx workbook's first sheet. Rows come back with the line number a
person sees in the file, so a report can point at them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from pingan.domain.errors import InvalidInput

# Chinese headers a department's export may carry, and the column each one means.
ALIASES = {
    "外部编号": "external_id",
    "编号": "external_id",
    "标题": "title",
    "描述": "description",
    "问题描述": "description",
    "类别编码": "category_code",
    "类别": "category_code",
    "经度": "lng",
    "纬度": "lat",
    "坐标系": "crs",
    "上报时间": "reported_at",
    "结案时间": "closed_at",
    "状态": "state",
    "满意度": "satisfaction",
    "紧急程度": "urgency",
    "地址": "address",
    "处置部门": "department_id",
}


@dataclass(frozen=True, slots=True)
class Sheet:
    encoding: str  # utf-8, gb18030 or xlsx
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, Any]]]  # (line in the file, values by column)


def _column(name: Any) -> str:
    text = str(name or "").strip().lstrip("\ufeff")
    return ALIASES.get(text, text.lower())


def _decode(data: bytes) -> tuple[str, str]:
    for encoding, label in (("utf-8-sig", "utf-8"), ("gb18030", "gb18030")):
        try:
            return data.decode(encoding), label
        except UnicodeDecodeError:
            continue
    raise InvalidInput("import.bad_encoding")


def _xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged or foreign file
        raise InvalidInput("import.bad_xlsx") from None
    sheet = book.active
    if sheet is None:
        raise InvalidInput("import.empty")
    values = list(sheet.iter_rows(values_only=True))
    if not values:
        raise InvalidInput("import.empty")
    header = tuple(_column(h) for h in values[0])
    rows = [
        (n, dict(zip(header, row, strict=False)))
        for n, row in enumerate(values[1:], start=2)
        if any(v not in (None, "") for v in row)
    ]
    return Sheet("xlsx", header, rows)


def read_case_sheet(data: bytes, filename: str) -> Sheet:
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _xlsx(data)
    text, encoding = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header_row = next(reader, None)
        if header_row is None:
            raise InvalidInput("import.empty")
        header = tuple(_column(h) for h in header_row)
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            rows.append((reader.line_num, dict(zip(header, values, strict=False))))
    except csv.Error as exc:
        raise InvalidInput("import.bad_csv", reason=str(exc)) from None
    return Sheet(encoding, header, rows)
