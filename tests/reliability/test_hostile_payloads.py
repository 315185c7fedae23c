"""Hostile payloads against every public write endpoint: each is refused quickly with a
documented client error in the one error shape — never a 500, a hang or a half-written record —
and on SQLite exactly as on PostgreSQL.

Endpoints are declared once (`WRITES`) and crossed with the payloads (`PAYLOADS`), so a new write
endpoint joins the whole battery by adding one line.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from pingan.adapters.db.migrate import upgrade
from pingan.adapters.db.tables import cases, units
from pingan.adapters.device_files import read_devices
from pingan.cli import app
from pingan.domain.access import SYSTEM_ACTOR
from pingan.domain.errors import DomainError
from pingan.services.devices import register
from pingan.services.open311 import create_api_key
from tests.integration.conftest import World
from tests.reliability.conftest import budget

DEEP = 10_000


@dataclass(frozen=True)
class Write:
    """One JSON write endpoint: who calls it, a valid body, and which fields hold free text and
    which hold coordinates."""

    name: str
    user: str
    path: Callable[[World, dict[str, Any]], str]
    body: Callable[[World], Any]
    text: tuple[str, ...] = ()
    coords: tuple[str, ...] = ()
    needs_etag: bool = False
    row_errors: bool = False  # a batch answers 200 and names each refused row instead

    def send(self, world: World, fixture: dict[str, Any], raw: bytes) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.needs_etag:
            headers["If-Match"] = "*"
        return client(world, self.user).post(
            self.path(world, fixture), content=raw, headers=headers
        )


def _grid(world: World) -> Any:
    return world.grids()[1]


def _case_body(world: World) -> dict[str, Any]:
    g = _grid(world)
    return {
        "category_code": "E0102",
        "title": "井盖缺失",
        "description": "路口",
        "lng": g.lng,
        "lat": g.lat,
        "address": "路口",
    }


def _device_body(world: World) -> list[dict[str, Any]]:
    g = _grid(world)
    return [
        {"id": "hostile-dev-1", "kind": "gas", "name": "燃气探测器", "lng": g.lng, "lat": g.lat}
    ]


def _push_body(_world: World) -> dict[str, Any]:
    return {
        "messages": [
            {
                "device_id": "hostile-dev-1",
                "channel": "events",
                "payload": {"type": "gas_leak", "confidence": 0.9},
            }
        ]
    }


WRITES = [
    Write(
        "cases.create",
        "citizen04",
        lambda w, f: "/api/v1/cases",
        _case_body,
        text=("title", "description", "address"),
        coords=("lng", "lat"),
    ),
    Write(
        "cases.similar",
        "op.330400",
        lambda w, f: "/api/v1/cases/similar",
        lambda w: {k: v for k, v in _case_body(w).items() if k != "address"},
        text=("title", "description"),
        coords=("lng", "lat"),
    ),
    Write(
        "cases.action.reject",
        "op.330400",
        lambda w, f: f"/api/v1/cases/{f['case']['id']}/actions/reject",
        lambda w: {"reason": "不属于受理范围"},
        text=("reason",),
        needs_etag=True,
    ),
    Write(
        "cases.action.file",
        "op.330400",
        lambda w, f: f"/api/v1/cases/{f['case']['id']}/actions/file",
        lambda w: {"note": "立案"},
        text=("note",),
        needs_etag=True,
    ),
    Write(
        "devices.register",
        "admin",
        lambda w, f: "/api/v1/devices",
        _device_body,
        text=("0.name", "0.id", "0.owner"),
        coords=("0.lng", "0.lat"),
        row_errors=True,
    ),
    Write(
        "iot.messages",
        "op.330400",
        lambda w, f: "/api/v1/iot/messages",
        _push_body,
        text=("messages.0.device_id",),
    ),
    Write(
        "me.positions",
        "__grid_worker__",
        lambda w, f: "/api/v1/me/positions",
        lambda w: {"points": [{"lng": _grid(w).lng, "lat": _grid(w).lat}]},
        coords=("points.0.lng", "points.0.lat"),
    ),
    Write(
        "dispatch-rules",
        "admin",
        lambda w, f: "/api/v1/dispatch-rules",
        lambda w: {
            "category_prefix": "E01",
            "unit_path": w.district().unit.path,
            "department_id": "cgj",
        },
        text=("category_prefix", "unit_path", "department_id"),
    ),
    Write(
        "alarms.dismiss",
        "op.330400",
        lambda w, f: "/api/v1/alarms/1/dismiss",
        lambda w: {"reason": "误报"},
        text=("reason",),
    ),
]


def client(world: World, user: str) -> TestClient:
    if user == "__grid_worker__":
        user = f"gw.{_grid(world).unit.code}"
    return world.client(user)


def put(body: Any, dotted: str, value: Any) -> Any:
    """A copy of `body` with the field at a dotted path (`points.0.lng`) replaced."""
    body = json.loads(json.dumps(body))
    *parents, last = dotted.split(".")
    node = body
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return body


def encoded(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def raw_with(body: Any, dotted: str, literal: bytes) -> bytes:
    """The body with one field's JSON text replaced by raw bytes (NaN, bad UTF-8, …)."""
    marker = "\u2063hostile\u2063"
    return encoded(put(body, dotted, marker)).replace(
        json.dumps(marker, ensure_ascii=False).encode(), literal
    )


@pytest.fixture(scope="module")
def fixture(world: World) -> dict[str, Any]:
    case = world.report(world.client("citizen04"), _grid(world))
    return {"case": case}


def _refused(r: Any, started: float, allowed: tuple[int, ...] = (400, 422)) -> None:
    assert time.perf_counter() - started < 2.0, "refusing hostile input must be quick"
    assert r.status_code in allowed, (r.status_code, r.text[:300])
    error = r.json()["error"]
    assert error["code"] and error["message"]


def _payloads(write: Write) -> list[tuple[str, Callable[[World], bytes]]]:
    out: list[tuple[str, Callable[[World], bytes]]] = [
        ("nested-array-10k", lambda w: b"[" * DEEP + b"]" * DEEP),
        ("nested-object-10k", lambda w: b'{"a":' * DEEP + b"1" + b"}" * DEEP),
        (
            "invalid-utf8",
            lambda w: encoded(write.body(w))[:-2] + b"\xff\xfe\xfd" + encoded(write.body(w))[-2:],
        ),
        (
            "gbk-bytes",
            lambda w: (
                encoded(write.body(w)).replace("\u2063".encode(), b"") if False else _gbk(write, w)
            ),
        ),
    ]
    for field in write.text:
        out.append(
            (
                f"nested-in-{field}",
                lambda w, f=field: raw_with(write.body(w), f, b"[" * DEEP + b"]" * DEEP),
            )
        )
        out.append(
            (f"nul-in-{field}", lambda w, f=field: encoded(put(write.body(w), f, "a\u0000b")))
        )
    for field in write.coords:
        for label, literal in [
            ("NaN", b"NaN"),
            ("Infinity", b"Infinity"),
            ("-Infinity", b"-Infinity"),
            ("1e400", b"1e400"),
            ("string-nan", b'"nan"'),
            ("out-of-range", b"999.5"),
            ("null", b"null"),
        ]:
            out.append(
                (
                    f"{label}-{field}",
                    lambda w, f=field, lit=literal: raw_with(write.body(w), f, lit),
                )
            )
    return out


def _gbk(write: Write, world: World) -> bytes:
    """The body encoded as GBK, as an old Windows client would send it."""
    return json.dumps(write.body(world), ensure_ascii=False).encode("gbk", errors="replace")


CASES = [
    pytest.param(write, label, make, id=f"{write.name}:{label}")
    for write in WRITES
    for label, make in _payloads(write)
]


@pytest.mark.parametrize(("write", "label", "make"), CASES)
def test_hostile_json_is_refused_quickly_with_a_client_error(
    world: World, fixture: dict[str, Any], write: Write, label: str, make: Callable[[World], bytes]
) -> None:
    raw = make(world)
    started = time.perf_counter()
    r = write.send(world, fixture, raw)
    # a GBK body whose fields happen to be plain ASCII is valid UTF-8: it is an ordinary request,
    # answered like one; every other hostile body must be refused
    if label == "gbk-bytes" and raw.isascii():
        assert r.status_code < 500, r.text
        return
    if write.row_errors and r.status_code == 200:
        report = r.json()
        assert report["created"] == report["updated"] == 0 and report["errors"], report
        return
    _refused(r, started, (400, 404, 422))
    if label.startswith("nul-in-"):
        assert r.json()["error"]["code"] == "request.invalid"
        assert "NUL" in json.dumps(r.json()["error"]["details"])


@pytest.mark.parametrize("write", [pytest.param(w, id=w.name) for w in WRITES])
def test_an_oversized_body_is_413_before_it_is_read(
    world: World, fixture: dict[str, Any], write: Write
) -> None:
    limit = world.rt.settings.max_body_bytes
    raw = b'{"padding": "' + b"x" * (limit + 1) + b'"}'
    started = time.perf_counter()
    r = write.send(world, fixture, raw)
    assert time.perf_counter() - started < 2.0
    assert r.status_code == 413, r.text[:200]
    assert r.json()["error"]["code"] == "request.too_large"


def test_an_oversized_photo_is_refused_without_storing_it(world: World) -> None:
    limit = world.rt.settings.max_upload_bytes
    r = world.client("citizen04").post(
        "/api/v1/attachments",
        files={"file": ("huge.jpg", b"\xff\xd8\xff" + b"\x00" * (limit + 70_000), "image/jpeg")},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "request.too_large"


# --- Open311 (form-encoded, the GeoReport v2 way) ---------------------------------------------


@pytest.fixture(scope="module")
def open311_key(world: World) -> str:
    with world.rt.uows() as uow:
        return create_api_key(uow, "hostile form app", world.clock.now)


def _form(world: World, key: str, **fields: str) -> dict[str, str]:
    g = _grid(world)
    return {
        "api_key": key,
        "service_code": "E0102",
        "lat": str(g.lat),
        "long": str(g.lng),
        "description": "路灯不亮",
        **fields,
    }


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"lat": "NaN"}, id="lat-NaN"),
        pytest.param({"long": "inf"}, id="long-inf"),
        pytest.param({"long": "-Infinity"}, id="long-minus-infinity"),
        pytest.param({"lat": "1e400"}, id="lat-1e400"),
        pytest.param({"lat": "91"}, id="lat-91"),
        pytest.param({"long": "-181"}, id="long-minus-181"),
        pytest.param({"lat": "0x1p3"}, id="lat-hex"),
        pytest.param({"media_url": "javascript:window.__xss=1"}, id="javascript-media-url"),
        pytest.param(
            {"media_url": "data:text/html,<script>alert(1)</script>"}, id="data-media-url"
        ),
        pytest.param({"media_url": 'https://x.example/"><script>'}, id="quoted-media-url"),
        pytest.param({"description": "a\x00b"}, id="nul-in-description"),
        pytest.param({"address_string": "\x00"}, id="nul-in-address"),
        pytest.param({"service_code": "E01\x0002"}, id="nul-in-service-code"),
        pytest.param({"description": "[{" * 1500}, id="brackets-in-description"),
    ],
)
def test_hostile_open311_forms_are_refused_with_a_client_error(
    world: World, open311_key: str, fields: dict[str, str]
) -> None:
    before = _case_count(world)
    started = time.perf_counter()
    r = world.client().post("/open311/v2/requests.json", data=_form(world, open311_key, **fields))
    if fields.get("description", "").startswith("["):
        assert r.status_code == 200, r.text  # brackets are only text in a form
        return
    _georeport_refused(r, started)
    assert _case_count(world) == before


def _georeport_refused(r: Any, started: float) -> None:
    """GeoReport v2 errors are a list of {code, description}, with the HTTP status as code."""
    assert time.perf_counter() - started < 2.0
    assert r.status_code in (400, 404), (r.status_code, r.text[:300])
    error = r.json()[0]
    assert error["code"] == r.status_code and error["description"]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"description=\xff\xfe\xfd", id="invalid-utf8"),
        pytest.param("description=路灯不亮".encode("gbk"), id="gbk"),
        pytest.param(b"description=%FF%FE", id="percent-encoded-invalid-utf8"),
    ],
)
def test_open311_forms_that_are_not_utf8_are_refused(
    world: World, open311_key: str, raw: bytes
) -> None:
    g = _grid(world)
    body = f"api_key={open311_key}&service_code=E0102&lat={g.lat}&long={g.lng}&".encode() + raw
    before = _case_count(world)
    started = time.perf_counter()
    r = world.client("", lang="en").post(
        "/open311/v2/requests.json",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _georeport_refused(r, started)
    assert _case_count(world) == before
    assert "UTF-8" in r.json()[0]["description"]


def test_open311_form_text_percent_encoded_as_utf8_is_kept_exactly(
    world: World, open311_key: str
) -> None:
    text = "路灯不亮 <b>&amp; ' \" ✓"
    r = world.client().post(
        "/open311/v2/requests.json", data=_form(world, open311_key, description=text)
    )
    assert r.status_code == 200, r.text
    with world.rt.uows(readonly=True) as uow:
        case = uow.cases.get_by_tracking_no(r.json()[0]["service_request_id"])
    assert case is not None and case.description == text


OPEN311_FIELDS = (
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "email",
    "first_name",
    "last_name",
    "phone",
    "device_id",
    "account_id",
    "media_url",
    "attribute[urgency]",
    "jurisdiction_id",
)
form_text = st.text(max_size=40) | st.sampled_from(["", "NaN", "1e400", "-0", "30.75", "E0102"])


@settings(
    max_examples=budget("FUZZ_EXAMPLES", 25),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    fields=st.dictionaries(st.sampled_from(OPEN311_FIELDS), form_text, max_size=6),
    drop=st.lists(st.sampled_from(["service_code", "lat", "long", "description"]), max_size=2),
)
def test_any_open311_form_files_a_case_or_is_refused_in_the_georeport_shape(
    world: World, open311_key: str, fields: dict[str, str], drop: list[str]
) -> None:
    """Any value in any field, required ones missing: a case, or a GeoReport error (a list of
    {code, description}) with nothing filed; never a server error."""
    form = {k: v for k, v in _form(world, open311_key, **fields).items() if k not in drop}
    before = _case_count(world)
    r = world.client().post("/open311/v2/requests.json", data=form)
    if r.status_code == 200:
        assert r.json()[0]["service_request_id"]
        assert _case_count(world) == before + 1
        return
    assert r.status_code in (400, 403, 404), (r.status_code, r.text[:300])
    error = r.json()[0]
    assert error["code"] == r.status_code and error["description"]
    assert _case_count(world) == before


def _case_count(world: World) -> int:
    with world.rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(cases)).scalar_one())


# --- exported spreadsheets -----------------------------------------------------------------------

FORMULAS = [
    "=cmd|' /C calc'!A0",
    '+HYPERLINK("http://evil.example","click")',
    "-2+3+cmd|' /C notepad'!'A1'",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
]


def test_formulas_in_exported_spreadsheets_are_neutralised(world: World) -> None:
    reporter = world.client("citizen05")
    grid = world.grids()[2]
    made = [
        world.report(reporter, grid, title=text, address=text, description=text)["tracking_no"]
        for text in FORMULAS
    ]
    r = world.client("op.330400").get("/api/v1/stats/cases.xlsx", params={"lang": "en"})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    formulas = [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == [], f"cells the spreadsheet would run: {formulas}"
    for tracking_no, text in zip(made, FORMULAS, strict=True):
        title, address = rows[tracking_no][4], rows[tracking_no][5]
        assert title.value == address.value == "'" + text
        assert title.data_type == "s"


def test_control_characters_in_a_report_never_fail_the_spreadsheet_export(world: World) -> None:
    """A worksheet cannot hold most C0 control characters (XML 1.0 forbids them); a report that
    carries one (Open311 forms and the JSON API take them) must still export, without them."""
    text = "路灯\x1b[31m不亮\x0b\x07"
    made = world.report(world.client("citizen05"), world.grids()[2], title=text)["tracking_no"]
    r = world.client("op.330400").get("/api/v1/stats/cases.xlsx", params={"lang": "en"})
    assert r.status_code == 200, r.text[:300]
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert rows[made][4].value == "路灯[31m不亮"


# --- files brought in by the operator (grids GeoJSON, device lists) ----------------------------

runner = CliRunner()

SQUARE = [[120.70, 30.70], [120.71, 30.70], [120.71, 30.71], [120.70, 30.71], [120.70, 30.70]]
BOWTIE = [[120.70, 30.70], [120.71, 30.71], [120.71, 30.70], [120.70, 30.71], [120.70, 30.70]]


def _feature(ring: list[list[Any]], code: str = "330402001001099") -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": "测试网格", "level": "grid", "parent": "330402001001"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def _fc(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


GRID_FILES = [
    pytest.param(b"[" * DEEP + b"]" * DEEP, "", id="nested-10k"),
    pytest.param(b'{"type":' * DEEP + b"1" + b"}" * DEEP, "", id="nested-object-10k"),
    pytest.param(_fc(_feature(BOWTIE)), "geometry.self_intersection", id="self-intersecting"),
    pytest.param(
        _fc(_feature(SQUARE)).replace(b"30.71]", b"NaN]", 1),
        "geojson.bad_coordinates",
        id="NaN-coordinate",
    ),
    pytest.param(
        _fc(_feature(SQUARE)).replace(b"120.71,", b"Infinity,", 1),
        "geojson.bad_coordinates",
        id="infinite",
    ),
    pytest.param(
        _fc(_feature(SQUARE)).replace(b"30.71]", b"95.0]", 1),
        "geojson.bad_coordinates",
        id="lat-95",
    ),
    pytest.param(b"\xff\xfe{}", "", id="invalid-utf8"),
    pytest.param(
        json.dumps(
            {"type": "FeatureCollection", "features": [{"name": "网格"}]}, ensure_ascii=False
        ).encode("gbk"),
        "",
        id="gbk",
    ),
]


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated, empty database for every grid file: each must leave it empty."""
    url = f"sqlite:///{tmp_path_factory.mktemp('grids')}/grids.db"
    upgrade(url)
    return url


@pytest.mark.parametrize(("content", "expected"), GRID_FILES)
def test_hostile_grid_files_are_refused_and_nothing_is_stored(
    tmp_path: Path, empty_db: str, content: bytes, expected: str
) -> None:
    url = empty_db
    path = tmp_path / "grids.geojson"
    path.write_bytes(content)
    started = time.perf_counter()
    result = runner.invoke(app, ["import", "grids", str(path), "--url", url])
    assert time.perf_counter() - started < 5
    assert result.exit_code in (1, 2), result.output
    assert not isinstance(result.exception, RecursionError | UnicodeError | ValueError)
    assert expected in result.output
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(units)).scalar_one() == 0
    engine.dispose()


DEVICE_HEADER = "id,kind,name,lng,lat,owner\n"


def test_a_device_file_in_bytes_that_are_neither_utf8_nor_gbk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "devices.csv"
    path.write_bytes(b"id,kind\n\xff\xfe\x00\x81\x30\xff")
    with pytest.raises(DomainError) as refused:
        read_devices(path)
    assert refused.value.code == "import.bad_encoding"


@pytest.mark.parametrize(
    ("row", "code"),
    [
        pytest.param("hd-1,gas,燃气,NaN,{lat},", "geo.", id="NaN"),
        pytest.param("hd-2,gas,燃气,inf,{lat},", "geo.", id="infinite"),
        pytest.param("hd-3,gas,燃气,{lng},-95,", "geo.", id="lat-out-of-range"),
        pytest.param("hd-4,gas,燃\x00气,{lng},{lat},", "input.nul_text", id="nul-in-name"),
        pytest.param("hd-5,gas,燃气,{lng},{lat},物业\x00", "input.nul_text", id="nul-in-owner"),
    ],
)
def test_hostile_device_rows_are_reported_and_nothing_is_stored(
    world: World, tmp_path: Path, row: str, code: str
) -> None:
    """A GBK spreadsheet export with one bad row: the row is named, nothing is stored."""
    g = _grid(world)
    good = f"hd-ok,gas,好设备,{g.lng},{g.lat},\n"
    path = tmp_path / "devices.csv"
    path.write_bytes((DEVICE_HEADER + good + row.format(lng=g.lng, lat=g.lat) + "\n").encode("gbk"))
    items = read_devices(path)
    with world.rt.uows(SYSTEM_ACTOR) as uow:
        report = register(uow, SYSTEM_ACTOR, items, world.rt.env)
    assert report.created == report.updated == 0
    assert [(n, c[: len(code)]) for n, _id, c in report.errors] == [(2, code)]
    with world.rt.uows(readonly=True) as uow:
        assert not uow.devices.get_many(["hd-ok"])
