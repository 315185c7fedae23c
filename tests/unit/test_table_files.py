"""Reading the tables people export from spreadsheets: one reader for every import file (cases,
devices, addresses, labelled data), so they all accept and refuse the same files."""

from __future__ import annotations

from datetime import datetime

import pytest

from pingan.adapters.spreadsheet import workbook
from pingan.adapters.table_files import SNIFFED, read_table
from pingan.domain.errors import InvalidInput

CSV = "地址,经度,纬度\n中山路1号,120.75,30.75\n\n , ,\n建设路2号,120.76,30.76\n"


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("gbk", "gb18030")],
)
def test_utf8_with_or_without_a_byte_order_mark_and_gbk_read_alike(
    encoding: str, reported: str
) -> None:
    table = read_table(CSV.encode(encoding), "addresses.csv")
    assert table.encoding == reported
    assert table.header == ("地址", "经度", "纬度")  # no byte-order mark left on the first name
    assert table.rows == [
        (2, ("中山路1号", "120.75", "30.75")),
        (5, ("建设路2号", "120.76", "30.76")),  # blank rows left out, lines as in the file
    ]


def test_the_first_sheet_of_a_workbook_reads_like_a_csv_with_its_cells_typed() -> None:
    data = workbook(
        "地址",
        [" 地址 ", "经度", "纬度", "登记时间"],
        [
            ["中山路1号", 120.75, 30.75, datetime(2025, 4, 1, 10)],
            [None, None, None, None],
            ["建设路2号", 120.76, 30.76, None],
        ],
    )
    table = read_table(data, "addresses.xlsx")
    assert table.encoding == "xlsx"
    assert table.header == ("地址", "经度", "纬度", "登记时间")
    assert table.rows == [
        (2, ("中山路1号", 120.75, 30.75, datetime(2025, 4, 1, 10))),
        (4, ("建设路2号", 120.76, 30.76, None)),
    ]
    assert table.texts()[1] == (4, ["建设路2号", "120.76", "30.76", ""])


def test_a_workbook_is_recognised_by_its_bytes_whatever_its_name() -> None:
    data = workbook("devices", ["id", "kind"], [["d-1", "gas"]])
    assert read_table(data, "devices.csv").records() == [(2, {"id": "d-1", "kind": "gas"})]


def test_a_short_row_has_none_for_its_missing_cells_and_a_long_one_drops_the_extra() -> None:
    table = read_table(b"id,kind,lng\nd-1,gas\nd-2,gas,120,extra\n", "devices.csv")
    assert table.records() == [
        (2, {"id": "d-1", "kind": "gas", "lng": None}),
        (3, {"id": "d-2", "kind": "gas", "lng": "120"}),
    ]


def test_other_separators_are_sniffed_only_where_offered() -> None:
    data = "text\tcategory\n路灯不亮,晚上很黑\tP0110\n".encode()
    assert read_table(data, "labelled.tsv", delimiters=SNIFFED).rows == [
        (2, ("路灯不亮,晚上很黑", "P0110"))
    ]
    assert read_table(data, "labelled.csv").header == ("text\tcategory",)


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        pytest.param(
            b"id,kind\n\xff\xfe\x00\x81\x30\xff", "x.csv", "import.bad_encoding", id="enc"
        ),
        pytest.param(b'id\n"' + b"x" * 200_000 + b'"\n', "x.csv", "import.bad_csv", id="csv"),
        pytest.param(b"", "x.csv", "import.empty", id="empty-csv"),
        pytest.param(b"not a workbook", "x.xlsx", "import.bad_xlsx", id="named-xlsx"),
        pytest.param(b"PK\x03\x04 broken zip", "x.csv", "import.bad_xlsx", id="zip-bytes"),
        pytest.param(workbook("empty", [], []), "x.xlsx", "import.empty", id="empty-sheet"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_its_code(
    data: bytes, name: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_table(data, name)
    assert refused.value.code == code
