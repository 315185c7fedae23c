"""Every parser of outside data, fed arbitrary input: it returns a result or refuses with a
domain error carrying a stable code — never another exception."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.adapters.address_files import read_addresses
from pingan.adapters.calendar import read_calendar_file
from pingan.adapters.case_files import read_case_sheet
from pingan.adapters.device_files import read_devices
from pingan.adapters.spatial import parse_geojson_units
from pingan.adapters.table_files import read_table
from pingan.domain.errors import DomainError
from pingan.domain.geo import CRS
from pingan.services.evidence import safe_filename, sniff
from pingan.services.telemetry import Incoming, parse
from tests.reliability.conftest import budget

ALL = list(HealthCheck)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _polygonish() -> st.SearchStrategy[Any]:
    coord = st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=3)
    ring = st.lists(coord, max_size=6)
    geometry = st.fixed_dictionaries(
        {
            "type": st.sampled_from(["Polygon", "MultiPolygon", "Point", "Nonsense"]),
            "coordinates": st.lists(ring, max_size=3) | json_values,
        }
    )
    props = st.fixed_dictionaries(
        {"code": st.text(max_size=12) | st.integers(), "name": st.text(max_size=6)},
        optional={"parent": json_values, "level": json_values},
    )
    feature = st.fixed_dictionaries(
        {"type": st.just("Feature"), "properties": props, "geometry": geometry}
    )
    return (
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["FeatureCollection", "Feature"]),
                "features": st.lists(feature, max_size=3),
            }
        )
        | json_values
    )


@FAST
@given(data=_polygonish(), crs=st.sampled_from(list(CRS)))
def test_geojson_import_never_fails_with_anything_but_a_domain_error(data: Any, crs: CRS) -> None:
    try:
        parse_geojson_units(data, crs)
    except DomainError as exc:
        assert exc.code.startswith(("geojson.", "geo.", "geometry."))


@FAST
@given(
    payload=st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    channel=st.sampled_from(["telemetry", "events"]),
    device=st.text(max_size=70),
)
def test_mqtt_payloads_parse_or_are_refused_with_a_reason(
    payload: bytes, channel: str, device: str
) -> None:
    try:
        parse(Incoming(device, channel, payload))  # type: ignore[arg-type]
    except DomainError as exc:
        assert exc.code.startswith("iot.")


@FAST
@given(data=json_values)
def test_mqtt_payload_objects_with_any_shape_are_handled(data: Any) -> None:
    body = {"ts": "2026-11-29T08:00:00+08:00", "metrics": data, "type": data}
    for channel in ("telemetry", "events"):
        try:
            parse(Incoming("dev-1", channel, body))  # type: ignore[arg-type]
        except DomainError as exc:
            assert exc.code.startswith("iot.")


@FAST
@given(name=st.text(max_size=300))
def test_upload_names_never_keep_a_path_or_control_characters(name: str) -> None:
    safe = safe_filename(name)
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert 0 < len(safe) <= 200 and safe not in ("..", ".")


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "..\\..\\boot.ini", "photo.jpg.exe", "a\x00b.png", ""]
)
def test_hostile_upload_names_are_neutralised(name: str) -> None:
    safe = safe_filename(name)
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe and safe


@FAST
@given(data=st.binary(max_size=64))
def test_only_real_image_signatures_are_accepted(data: bytes) -> None:
    kind = sniff(data)
    assert kind is None or data[:2] == b"\xff\xd8" or data[:4] in (b"\x89PNG", b"RIFF")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_calendar_files_are_read_or_refused_cleanly(
    raw: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("cal") / "days.json"
    path.write_bytes(raw)
    try:
        read_calendar_file(path)
    except DomainError as exc:
        assert exc.code == "calendar.bad_file"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=300))
def test_device_files_in_any_encoding_are_read_or_refused_with_a_code(
    raw: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path: Path = tmp_path_factory.mktemp("dev") / "devices.csv"
    path.write_bytes(b"id,kind,lng,lat\n" + raw)
    try:
        read_devices(path)
    except DomainError as exc:
        assert exc.code.startswith("import.")


# --- spreadsheets brought in by operators: historic cases, devices, addresses, training data ---

TABLE_NAMES = st.sampled_from(["cases.csv", "cases.xlsx", "地址.CSV", "history.txt"])


@settings(max_examples=budget("FUZZ_EXAMPLES", 60), deadline=None, suppress_health_check=ALL)
@given(raw=st.binary(max_size=400), name=TABLE_NAMES, sniffed=st.booleans())
def test_table_files_in_any_bytes_are_read_or_refused_with_a_code(
    raw: bytes, name: str, sniffed: bool
) -> None:
    try:
        table = read_table(raw, name, delimiters=",\t;|" if sniffed else ",")
    except DomainError as exc:
        assert exc.code.startswith("import."), exc.code
        return
    assert all(line >= 1 for line, _ in table.rows)


def _workbook(cells: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in cells:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


printable = st.characters(exclude_categories=("Cc", "Cs"))  # what a worksheet can hold
cell = (
    st.none()
    | st.text(printable, max_size=8)
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
)


@settings(max_examples=budget("FUZZ_EXAMPLES", 30), deadline=None, suppress_health_check=ALL)
@given(
    cells=st.lists(st.lists(cell, max_size=4), max_size=4),
    cut=st.integers(0, 4000),
    flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 255)), max_size=4),
)
def test_damaged_workbooks_are_read_or_refused_with_a_code(
    cells: list[list[Any]], cut: int, flips: list[tuple[int, int]]
) -> None:
    """A real workbook, truncated and with bytes flipped: what openpyxl raises on the way (while
    opening it or reading its rows) must come out as a named refusal, never as a crash."""
    data = bytearray(_workbook(cells))
    for at, xor in flips:
        data[at % len(data)] ^= xor
    damaged = bytes(data[: max(4, len(data) - cut)])
    try:
        read_case_sheet(damaged, "cases.xlsx")
    except DomainError as exc:
        assert exc.code.startswith("import."), exc.code


@settings(max_examples=budget("FUZZ_EXAMPLES", 40), deadline=None, suppress_health_check=ALL)
@given(raw=st.binary(max_size=300), name=st.sampled_from(["addresses.csv", "addresses.xlsx"]))
def test_address_files_are_read_or_refused_with_a_code(
    raw: bytes, name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("addr") / name
    path.write_bytes(b"address,lng,lat\n" + raw if name.endswith(".csv") else raw)
    try:
        _rows, errors = read_addresses(path)
    except DomainError as exc:
        assert exc.code.startswith(("import.", "dataset.")), exc.code
        return
    assert all(isinstance(code, str) and code for _n, _text, code in errors)
