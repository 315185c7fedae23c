"""Reading a table from a file as people export it from a spreadsheet: CSV in UTF-8 (with or
without a byte-order mark) or GBK/GB18030, as Excel and WPS save it on a Chinese system (the
encoding is detected), or the first sheet of an xlsx workbook.

Every file of rows (historic cases, devices, addresses, labelled training data) is read here, so
they all accept the same files and refuse the same ones with the same codes: `import.bad_encoding`,
`import.bad_csv`, `import.bad_xlsx`, `import.empty`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pingan.domain.errors import InvalidInput

XLSX_MAGIC = b"PK\x03\x04"  # an xlsx workbook is a zip archive
SNIFF_CHARS = 20_000
SNIFFED = ",\t;|"  # the separators told apart in files that need not be comma-separated


@dataclass(frozen=True, slots=True)
class Table:
    """A header and the rows under it, each with the line a person sees it on in the file.

    CSV cells are text; xlsx cells are what the sheet holds (text, numbers, dates, or None).
    Blank rows are left out; a row may be shorter or longer than the header.
    """

    encoding: str  # utf-8, gb18030 or xlsx
    header: tuple[str, ...]  # trimmed, without a byte-order mark
    rows: list[tuple[int, tuple[Any, ...]]]

    def records(self, columns: Sequence[str] | None = None) -> list[tuple[int, dict[str, Any]]]:
        """Each row as values by column name (the header's unless `columns` renames them): None
        where a short row has no cell, cells beyond the header dropped."""
        names = self.header if columns is None else columns
        return [
            (line, {name: cells[i] if i < len(cells) else None for i, name in enumerate(names)})
            for line, cells in self.rows
        ]

    def column(self, wanted: str | None, candidates: Sequence[str]) -> int | None:
        """The index of the column named `wanted` (refused when absent), else of the first
        header that is one of the common `candidates`, compared case-insensitively."""
        lowered = [h.strip().lower() for h in self.header]
        if wanted is not None:
            if wanted.lower() in lowered:
                return lowered.index(wanted.lower())
            raise InvalidInput("dataset.no_column", column=wanted, columns=", ".join(self.header))
        for name in candidates:
            if name in lowered:
                return lowered.index(name)
        return None

    def texts(self) -> list[tuple[int, list[str]]]:
        """Each row with its cells as text, an empty cell as ''."""
        return [(line, ["" if v is None else str(v) for v in cells]) for line, cells in self.rows]


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 (a byte-order mark dropped), else GB18030,
    which contains GBK."""
    for encoding, label in (("utf-8-sig", "utf-8"), ("gb18030", "gb18030")):
        try:
            return data.decode(encoding), label
        except UnicodeDecodeError:
            continue
    raise InvalidInput("import.bad_encoding")


def read_table(data: bytes, filename: str, *, delimiters: str = ",") -> Table:
    """The table in `data`: an xlsx workbook when the name says so or the bytes are a zip
    archive, otherwise CSV separated by `delimiters`: the one given or, where several are offered,
    the one sniffed from the start of the file (the first when sniffing fails)."""
    if filename.lower().endswith(".xlsx") or data.startswith(XLSX_MAGIC):
        return _xlsx(data)
    text, encoding = decode(data)
    reader = _reader(text, delimiters)
    try:
        first = next(reader, None)
        if first is None:
            raise InvalidInput("import.empty")
        rows = [
            (reader.line_num, tuple(values)) for values in reader if any(v.strip() for v in values)
        ]
    except csv.Error as exc:
        raise InvalidInput("import.bad_csv", reason=str(exc)) from None
    return Table(encoding, _header(first), rows)


def read_table_file(path: Path, *, delimiters: str = ",") -> Table:
    return read_table(path.read_bytes(), path.name, delimiters=delimiters)


def _reader(text: str, delimiters: str) -> Any:
    stream = io.StringIO(text, newline="")
    if len(delimiters) > 1:
        try:
            return csv.reader(stream, csv.Sniffer().sniff(text[:SNIFF_CHARS], delimiters))
        except csv.Error:
            pass
    return csv.reader(stream, delimiter=delimiters[0])


def _xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged or foreign file
        raise InvalidInput("import.bad_xlsx") from None
    try:
        sheet = book.active
        if sheet is None:
            raise InvalidInput("import.empty")
        values = iter(sheet.iter_rows(values_only=True))
        first = next(values, None)
        if first is None:
            raise InvalidInput("import.empty")
        rows = [(n, tuple(row)) for n, row in enumerate(values, start=2) if not _blank(row)]
    finally:
        book.close()
    return Table("xlsx", _header(first), rows)


def _header(cells: Sequence[Any]) -> tuple[str, ...]:
    return tuple(("" if h is None else str(h)).strip().lstrip("\ufeff").strip() for h in cells)


def _blank(cells: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in cells)
