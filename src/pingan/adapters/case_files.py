"""Reading historic case lists (CSV in UTF-8 or GBK, or an xlsx workbook's first sheet; see
`table_files`), with the Chinese headers a department's export may carry read as our column
names. Rows come back with the line number a person sees in the file, so a report can point at
them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pingan.adapters.table_files import read_table

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


def _column(name: str) -> str:
    return ALIASES.get(name, name.lower())


def read_case_sheet(data: bytes, filename: str) -> Sheet:
    table = read_table(data, filename)
    columns = tuple(_column(h) for h in table.header)
    return Sheet(table.encoding, columns, table.records(columns))
