"""Reading labelled complaint data from files as people export them (CSV in UTF-8 or GBK, or xlsx:
`adapters.table_files`), with column names in Chinese or English."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pingan.adapters.table_files import SNIFFED, read_table_file
from pingan.domain.errors import InvalidInput

# Lower-cased header names tried, in order, when a column is not named on the command line.
TEXT_COLUMNS = (
    "text", "content", "description", "complaint", "body", "诉求内容", "内容", "问题描述",
    "描述", "事件描述", "案件描述", "诉求", "工单内容", "来电内容", "文本", "title", "标题",
)  # fmt: skip
CATEGORY_COLUMNS = (
    "category", "label", "class", "type", "category_code", "小类", "类别", "分类", "事件类型",
    "问题类型", "案件类别", "诉求类型", "工单类型", "大类",
)  # fmt: skip
DEPARTMENT_COLUMNS = (
    "department", "dept", "agency", "department_kind", "部门", "承办单位", "处置部门",
    "责任部门", "承办部门", "办理单位",
)  # fmt: skip


@dataclass(frozen=True)
class Labelled:
    """Texts with their category and (where the file has one) department labels."""

    texts: list[str]
    categories: list[str]
    departments: list[str] | None
    columns: dict[str, str]
    encoding: str
    skipped: int


def read_labelled(
    path: Path,
    text: str | None = None,
    category: str | None = None,
    department: str | None = None,
) -> Labelled:
    """Rows with an empty text or category are skipped and counted, never guessed."""
    table = read_table_file(path, delimiters=SNIFFED)
    ti = table.column(text, TEXT_COLUMNS)
    ci = table.column(category, CATEGORY_COLUMNS)
    if ti is None or ci is None:
        raise InvalidInput("dataset.columns_unknown", columns=", ".join(table.header))
    if ti == ci:
        raise InvalidInput("dataset.columns_unknown", columns=", ".join(table.header))
    di = table.column(department, DEPARTMENT_COLUMNS)
    if di in (ti, ci):
        di = None
    texts: list[str] = []
    cats: list[str] = []
    depts: list[str] = []
    skipped = 0
    for _line, row in table.texts():
        t = row[ti].strip() if ti < len(row) else ""
        c = row[ci].strip() if ci < len(row) else ""
        if not t or not c:
            skipped += 1
            continue
        texts.append(t)
        cats.append(c)
        if di is not None:
            d = row[di].strip() if di < len(row) else ""
            depts.append(d or "(none)")
    if not texts:
        raise InvalidInput("dataset.empty")
    columns = {"text": table.header[ti], "category": table.header[ci]}
    if di is not None:
        columns["department"] = table.header[di]
    return Labelled(
        texts, cats, depts if di is not None else None, columns, table.encoding, skipped
    )
