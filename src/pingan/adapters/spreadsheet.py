"""Case lists as .xlsx workbooks (openpyxl), safe to open in Excel or WPS."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from io import BytesIO
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters a worksheet cannot hold (XML 1.0 forbids them); reports may carry them.
UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (formula injection) gets a leading apostrophe;
    control characters a worksheet cannot hold are dropped, so one report never fails an export."""
    if not isinstance(value, str):
        return value
    value = UNWRITABLE.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook  # on first export, not at start-up

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    ws.append([neutralise(h) for h in headers])
    for row in rows:
        ws.append([neutralise(v) for v in row])
    ws.freeze_panes = "A2"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
