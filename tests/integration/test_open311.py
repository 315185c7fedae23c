"""Open311 GeoReport v2 at /open311/v2/, on SQLite and PostgreSQL.

Reads go through `georeport`, a third-party Open311 client from PyPI, unmodified, against a real
server on a local port (it calls `requests.get` itself, so it needs a URL). It cannot create
requests, so creation is plain form posts, as any Open311 app sends them.
"""

from __future__ import annotations

import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from georeport import GeoReport

from pingan.demo.photos import striped_png
from pingan.domain.sla import CST
from pingan.services.open311 import create_api_key
from tests.integration.conftest import World

BASE = "/open311/v2"
PERSONAL = {
    "first_name": "小明",
    "last_name": "王",
    "email": "wang.xm@example.cn",
    "phone": "13800138000",
    "device_id": "dev-42",
}


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    """The app served by uvicorn on a free local port, for clients that need a real URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started
    yield f"http://127.0.0.1:{port}{BASE}"
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def api_key(world: World) -> str:
    with world.rt.uows() as uow:
        return create_api_key(uow, "随手拍 test app", world.clock.now)


@pytest.fixture
def http(world: World) -> TestClient:
    return world.client(lang="zh-CN")


def post(http: TestClient, api_key: str, fmt: str = "json", **fields: Any) -> Any:
    return http.post(f"{BASE}/requests.{fmt}", data={"api_key": api_key, **fields})


def report(world: World, http: TestClient, api_key: str, **fields: Any) -> str:
    grid = world.grids()[0]
    body = {
        "service_code": "E0102",
        "lat": str(grid.lat),
        "long": str(grid.lng),
        "description": "小区门口垃圾堆积\n已经三天没人清理",
        **fields,
    }
    r = post(http, api_key, **body)
    assert r.status_code == 200, r.text
    return str(r.json()[0]["service_request_id"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_the_service_list_with_groups(server: str, fmt: str) -> None:
    services = GeoReport(server, jurisdiction="330400", output_format=fmt).get_service_list()
    by_code = {s["service_code"]: s for s in services}
    garbage = by_code["E0102"]
    assert garbage["service_name"] == "暴露垃圾"
    assert garbage["group"] == "市容环境"
    assert garbage["type"] == "realtime"
    assert garbage["metadata"] in (True, "true")
    assert "Exposed rubbish" in garbage["keywords"]
    assert "S0101" not in by_code and "S0401" not in by_code  # about people: not offered


def test_service_list_is_in_english_by_accept_language_or_locale(http: TestClient) -> None:
    en = http.get(f"{BASE}/services.json", headers={"Accept-Language": "en"}).json()
    assert {s["service_code"]: s for s in en}["E0102"]["service_name"] == "Exposed rubbish"
    by_locale = http.get(f"{BASE}/services.json?locale=en").json()
    assert {s["service_code"]: s for s in by_locale}["E0102"]["group"] == "City appearance"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_the_urgency_attribute_of_a_service(server: str, fmt: str) -> None:
    definition = GeoReport(server, output_format=fmt).get_service_definition("E0102")
    assert definition["service_code"] == "E0102"
    attributes = definition["attributes"]
    attribute = attributes["attribute"] if fmt == "xml" else attributes[0]
    assert attribute["code"] == "urgency"
    assert attribute["datatype"] == "singlevaluelist"
    assert str(attribute["required"]).lower() == "false"
    assert str(attribute["order"]) == "1"
    values = attribute["values"]["value"] if fmt == "xml" else attribute["values"]
    assert [v["key"] for v in values] == ["routine", "urgent", "critical"]


def test_xml_is_the_spec_shape_with_its_content_type(http: TestClient) -> None:
    r = http.get(f"{BASE}/services.xml")
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    assert r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(r.content)
    assert root.tag == "services" and root[0].tag == "service"
    assert [c.tag for c in root[0]] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert http.get(f"{BASE}/services.json").headers["content-type"] == (
        "application/json; charset=utf-8"
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_posted_request_is_a_case_read_back_by_the_georeport_client_without_personal_data(
    world: World, http: TestClient, api_key: str, server: str, fmt: str
) -> None:
    grid = world.grids()[0]
    r = post(
        http,
        api_key,
        fmt,
        service_code="E0102",
        jurisdiction_id="330400",
        lat=str(grid.lat),
        long=str(grid.lng),
        description="小区门口垃圾堆积 <b>&amp;</b>",
        media_url="https://example.cn/p/1.jpg",
        account_id="acct-7",
        **{"attribute[urgency]": "urgent"},
        **PERSONAL,
    )
    assert r.status_code == 200, r.text
    if fmt == "json":
        created = r.json()[0]
    else:
        root = ET.fromstring(r.content)
        assert root.tag == "service_requests" and root[0].tag == "request"
        created = {c.tag: c.text for c in root[0]}
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] == "acct-7"
    request_id = created["service_request_id"]

    got = GeoReport(server, jurisdiction="330400", output_format=fmt).get_service_request(
        request_id
    )
    assert got["service_request_id"] == request_id
    assert got["status"] == "open"
    assert got["service_code"] == "E0102" and got["service_name"] == "暴露垃圾"
    assert got["description"] == "小区门口垃圾堆积 <b>&amp;</b>"  # escaped in XML, intact here
    assert float(got["lat"]) == pytest.approx(grid.lat) and float(got["long"]) == pytest.approx(
        grid.lng
    )
    assert got["address_id"] == grid.unit.code
    assert got["media_url"] == "https://example.cn/p/1.jpg"
    assert got["requested_datetime"].endswith("+08:00")

    raw = http.get(f"{BASE}/requests/{request_id}.{fmt}").text
    for value in PERSONAL.values():
        assert value not in raw

    with world.rt.uows(readonly=True) as uow:
        case = uow.cases.get_by_tracking_no(request_id)
        timeline = uow.cases.timeline(case.id)
        user = uow.users.get(case.reporter_id)
    assert case.channel == "open311" and case.urgency.value == "urgent"
    assert user.role.value == "citizen" and user.display_name.startswith("Open311")
    stored = repr(case) + repr(timeline) + repr(user)
    for value in PERSONAL.values():
        assert value not in stored
    assert got["expected_datetime"] == case.due_at.astimezone(CST).isoformat()


def test_georeport_client_filters_requests_by_id_code_status_and_dates(
    world: World, http: TestClient, api_key: str, server: str
) -> None:
    a = report(world, http, api_key)
    b = report(world, http, api_key, service_code="P0110")
    client = GeoReport(server, output_format="json")
    both = client.get_service_requests(service_request_id=f"{a},{b}")
    assert {r["service_request_id"] for r in both} == {a, b}
    lights = client.get_service_requests(service_code="P0110", status="open")
    assert b in {r["service_request_id"] for r in lights}
    assert a not in {r["service_request_id"] for r in lights}
    assert not [
        r for r in client.get_service_requests(status="closed") if r["service_request_id"] in (a, b)
    ]
    now = world.clock.now
    window = client.get_service_requests(
        start_date=(now - timedelta(days=1)).isoformat(),
        end_date=(now + timedelta(hours=1)).isoformat(),
    )
    assert {a, b} <= {r["service_request_id"] for r in window}
    earlier = client.get_service_requests(
        start_date=(now - timedelta(days=80)).isoformat(),
        end_date=(now - timedelta(days=10)).isoformat(),
    )
    assert not {a, b} & {r["service_request_id"] for r in earlier}
    xml_list = GeoReport(server, output_format="xml").get_service_requests(
        service_request_id=f"{a},{b}"
    )
    assert {r["service_request_id"] for r in xml_list} == {a, b}
    paged = http.get(f"{BASE}/requests.json?service_request_id={a},{b}&page_size=1&page=2").json()
    assert len(paged) == 1


def test_cases_from_other_channels_are_not_public(world: World, http: TestClient) -> None:
    citizen = world.client("citizen01")
    case = world.report(citizen)
    assert http.get(f"{BASE}/requests/{case['tracking_no']}.json").status_code == 404
    listed = http.get(f"{BASE}/requests.json").json()
    assert case["tracking_no"] not in {r["service_request_id"] for r in listed}


def test_an_address_without_coordinates_is_placed_in_the_unit_it_names(
    world: World, http: TestClient, api_key: str
) -> None:
    town = world.town()
    community = next(u for u in world.city.children(town.unit.path))
    request_id = report(
        world,
        http,
        api_key,
        lat="",
        long="",
        address_string=f"中山路100号, {community.unit.name}, {town.unit.name}, 嘉兴市",
    )
    got = http.get(f"{BASE}/requests/{request_id}.json").json()[0]
    with world.rt.uows(readonly=True) as uow:
        case = uow.cases.get_by_tracking_no(request_id)
    assert case.location_path.startswith(community.unit.path + ".")
    assert got["address"].startswith("中山路100号")

    by_id = report(world, http, api_key, lat="", long="", address_id=community.unit.code)
    with world.rt.uows(readonly=True) as uow:
        assert uow.cases.get_by_tracking_no(by_id).location_path.startswith(community.unit.path)


def test_a_photo_posted_as_multipart_is_attached_to_the_case(
    world: World, http: TestClient, api_key: str
) -> None:
    grid = world.grids()[0]
    r = http.post(
        f"{BASE}/requests.json",
        data={"api_key": api_key, "service_code": "E0102", "lat": grid.lat, "long": grid.lng},
        files={"media": ("p.png", striped_png(), "image/png")},
    )
    assert r.status_code == 200, r.text
    with world.rt.uows(readonly=True) as uow:
        case = uow.cases.get_by_tracking_no(r.json()[0]["service_request_id"])
    assert len(case.photo_ids) == 1


def test_an_open311_request_closed_through_the_loop_reads_closed_with_notes(
    world: World, http: TestClient, api_key: str
) -> None:
    request_id = report(world, http, api_key)
    opened = http.get(f"{BASE}/requests/{request_id}.json").json()[0]
    assert opened["status"] == "open" and opened["status_notes"] == "已受理，等待立案"

    town, grid = world.town(), world.grids()[0]
    operator = world.client(f"op.{town.unit.code}")
    worker = world.client(f"gw.{grid.unit.code}")
    case = operator.get(f"/api/v1/cases/by-tracking-no/{request_id}").json()
    with world.rt.uows(readonly=True) as uow:
        due = uow.cases.get(case["id"]).due_at
    assert opened["expected_datetime"] == due.astimezone(CST).isoformat()

    case = world.act(operator, case, "file").json()
    case = world.act(operator, case, "dispatch").json()
    handler = world.client(f"h.{case['department_id']}")
    case = world.act(handler, case, "accept").json()
    dispatched = http.get(f"{BASE}/requests/{request_id}.json").json()[0]
    assert dispatched["agency_responsible"]  # the department's name
    case = world.act(handler, case, "handle", note="垃圾已清运", photo_ids=[world.photo(handler)])
    case = world.act(
        worker,
        case.json(),
        "verify",
        passed=True,
        note="现场已干净",
        photo_ids=[world.photo(worker)],
    ).json()
    case = world.act(operator, case, "close").json()
    assert case["state"] == "closed"

    closed = http.get(f"{BASE}/requests/{request_id}.xml").content
    request = ET.fromstring(closed)[0]
    assert request.findtext("status") == "closed"
    assert request.findtext("status_notes") == "现场已干净"
    assert request.findtext("expected_datetime") in ("", None)
    listed = http.get(f"{BASE}/requests.json?status=closed").json()
    assert request_id in {r["service_request_id"] for r in listed}


def test_an_admin_issues_keys_over_the_api_and_nobody_else_can(
    world: World, http: TestClient
) -> None:
    admin = world.client("admin")
    r = admin.post("/api/v1/open311-keys", json={"app_name": "市民随手拍"})
    assert r.status_code == 201, r.text
    key = r.json()["api_key"]
    grid = world.grids()[0]
    made = post(http, key, service_code="E0102", lat=str(grid.lat), long=str(grid.lng))
    assert made.status_code == 200, made.text
    assert (
        world.client("citizen01").post("/api/v1/open311-keys", json={"app_name": "x"}).status_code
        == 403
    )


def _error(r: Any, fmt: str) -> tuple[int, str]:
    if fmt == "json":
        [body] = r.json()
        assert set(body) == {"code", "description"}
        return int(body["code"]), str(body["description"])
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(r.content)
    assert root.tag == "errors" and root[0].tag == "error"
    return int(root[0].findtext("code") or 0), root[0].findtext("description") or ""


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("missing_api_key", 403, "api_key"),
        ("bad_api_key", 403, "api_key"),
        ("unknown_service_code", 404, "service_code"),
        ("missing_service_code", 400, "service_code"),
        ("bad_jurisdiction", 404, "jurisdiction_id"),
        ("missing_location", 400, "location"),
        ("lat_without_long", 400, "together"),
        ("outside_every_grid", 400, "outside every grid"),
        ("unresolvable_address", 400, "send lat and long"),
        ("bad_urgency", 400, "urgency"),
        ("window_over_90_days", 400, "90 days"),
        ("bad_status", 400, "open or closed"),
        ("bad_date", 400, "W3C"),
        ("unknown_request", 404, "not found"),
        ("unknown_service_definition", 404, "service_code"),
        ("unknown_token", 404, "token"),
        ("unknown_resource", 404, "No such resource"),
    ],
)
def test_errors_are_in_the_spec_format_with_the_spec_status(
    world: World, api_key: str, case: str, status: int, words: str, fmt: str
) -> None:
    http = world.client(lang="en")
    grid = world.grids()[0]
    here = {"service_code": "E0102", "lat": str(grid.lat), "long": str(grid.lng)}
    calls = {
        "missing_api_key": lambda: http.post(f"{BASE}/requests.{fmt}", data=here),
        "bad_api_key": lambda: post(http, "nope", fmt, **here),
        "unknown_service_code": lambda: post(http, api_key, fmt, **{**here, "service_code": "X9"}),
        "missing_service_code": lambda: post(
            http, api_key, fmt, lat=here["lat"], long=here["long"]
        ),
        "bad_jurisdiction": lambda: post(http, api_key, fmt, jurisdiction_id="sfgov.org", **here),
        "missing_location": lambda: post(http, api_key, fmt, service_code="E0102"),
        "lat_without_long": lambda: post(http, api_key, fmt, service_code="E0102", lat="30.7"),
        "outside_every_grid": lambda: post(
            http, api_key, fmt, service_code="E0102", lat="39.9", long="116.4"
        ),
        "unresolvable_address": lambda: post(
            http, api_key, fmt, service_code="E0102", address_string="北京市东城区王府井大街1号"
        ),
        "bad_urgency": lambda: post(http, api_key, fmt, **here, **{"attribute[urgency]": "asap"}),
        "window_over_90_days": lambda: http.get(
            f"{BASE}/requests.{fmt}",
            params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        ),
        "bad_status": lambda: http.get(f"{BASE}/requests.{fmt}?status=pending"),
        "bad_date": lambda: http.get(f"{BASE}/requests.{fmt}?start_date=yesterday"),
        "unknown_request": lambda: http.get(f"{BASE}/requests/20990101ABCDEF.{fmt}"),
        "unknown_service_definition": lambda: http.get(f"{BASE}/services/NOPE.{fmt}"),
        "unknown_token": lambda: http.get(f"{BASE}/tokens/abc.{fmt}"),
        "unknown_resource": lambda: http.get(f"{BASE}/discovery/nothing.{fmt}"),
    }
    r = calls[case]()
    assert r.status_code == status, r.text
    code, description = _error(r, fmt if case != "unknown_resource" else "xml")
    assert code == status
    assert words.lower() in description.lower()


def test_an_unknown_format_extension_is_a_400_in_xml(http: TestClient) -> None:
    r = http.get(f"{BASE}/services.csv", headers={"Accept-Language": "en"})
    assert r.status_code == 400
    assert _error(r, "xml") == (400, "Unsupported format 'csv'; use .xml or .json")


def test_error_descriptions_are_chinese_by_default(http: TestClient) -> None:
    r = http.get(f"{BASE}/requests/nothing.json")
    assert r.status_code == 404
    assert "不存在" in r.json()[0]["description"]
