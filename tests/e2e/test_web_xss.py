"""Script in every text field is rendered inert in every page.

Hostile text goes in through the API wherever a person may type (case title, description,
address, action notes and reasons, a device's id and name); then the dashboard (list, detail,
timeline, live feed, map tooltips and popups, KPI drill-down), the field app and the citizen page
show it. Nothing may run — `window.__xss` stays undefined and no dialog opens — and each text shows
literally, as typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from pingan.demo.photos import striped_png
from tests.e2e.conftest import seeded_server
from tests.e2e.test_web_apps import CHROMIUM, GRID, TIMEOUT_MS, api, centre_of, sign_in

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")

TOWN = GRID[:9]
PAYLOADS = {
    "title": '<img src=x onerror="window.__xss=1">',
    "description": '"><script>window.__xss=1</script><svg onload=alert(1)>',
    "address": "javascript:window.__xss=1//<a href=javascript:alert(1)>x</a>",
    "note": '</textarea><iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    "reason": "<style>@import 'x'</style><b onmouseover=window.__xss=1>悬停</b>",
    "device": "<img src=x onerror=alert(1)>",
}
WATCH = """
window.__dialogs = [];
window.alert = window.confirm = (m) => { window.__dialogs.push(String(m)); };
"""


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with seeded_server(tmp_path_factory.mktemp("xss")) as base:
        yield base


@pytest.fixture(scope="module")
def planted(xss_server: str) -> dict[str, Any]:
    """Cases and a device alarm carrying the payloads, made through the API."""
    base = xss_server
    lng, lat = centre_of(base, GRID)
    with api(base, "citizen01") as citizen, api(base, f"op.{TOWN}") as op:
        body = {
            "category_code": "E0102",
            "title": PAYLOADS["title"],
            "description": PAYLOADS["description"],
            "address": PAYLOADS["address"],
            "lng": lng,
            "lat": lat,
        }
        case = citizen.post("/api/v1/cases", json=body).json()

        def act(client: Any, action: str, **fields: Any) -> Any:
            nonlocal case
            r = client.post(
                f"/api/v1/cases/{case['id']}/actions/{action}",
                json=fields,
                headers={"If-Match": f'"{case["version"]}"'},
            )
            assert r.status_code == 200, r.text
            case = r.json()

        act(op, "file", note=PAYLOADS["note"])
        act(op, "dispatch")
        with api(base, f"h.{case['department_id']}") as handler:
            act(handler, "accept")
            photo = handler.post(
                "/api/v1/attachments", files={"file": ("<b>.png", striped_png(), "image/png")}
            ).json()["id"]
            act(handler, "handle", note=PAYLOADS["note"], photo_ids=[photo])
        rejected = citizen.post("/api/v1/cases", json={**body, "title": PAYLOADS["reason"]}).json()
        r = op.post(
            f"/api/v1/cases/{rejected['id']}/actions/reject",
            json={"reason": PAYLOADS["reason"]},
            headers={"If-Match": "*"},
        )
        assert r.status_code == 200, r.text
    with api(base, "admin") as admin:
        device = {
            "id": PAYLOADS["device"],
            "kind": "camera",
            "name": PAYLOADS["title"],
            "lng": lng,
            "lat": lat,
        }
        registered = admin.post("/api/v1/devices", json=[device]).json()
        assert registered["created"] == 1, registered
        event = {"ts": datetime.now(UTC).isoformat(), "type": "camera.crowd", "confidence": 0.9}
        pushed = admin.post(
            "/api/v1/iot/messages",
            json={
                "messages": [
                    {"device_id": PAYLOADS["device"], "channel": "events", "payload": event}
                ]
            },
        ).json()
        assert pushed["alarms_raised"] == 1, pushed
    return {"case": case, "rejected": rejected, "where": (lng, lat)}


def page_for(browser: Any, base: str, where: tuple[float, float], **kw: Any) -> Any:
    ctx = browser.new_context(
        base_url=base,
        geolocation={"longitude": where[0], "latitude": where[1]},
        permissions=["geolocation"],
        **kw,
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.add_init_script(WATCH)
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    return page


def inert(page: Any) -> None:
    assert page.evaluate("window.__xss") is None, "a payload ran"
    assert page.evaluate("window.__dialogs") == [] and page.dialogs == []
    assert page.locator("#app-view script, #app-view iframe, #app-view img[src=x]").count() == 0
    assert (
        page.locator("#app-view svg[onload], #app-view [onerror], #app-view [onmouseover]").count()
        == 0
    )


def shows(page: Any, where: str, *texts: str) -> None:
    content = page.locator(where).inner_text()
    for text in texts:
        assert text in content, f"{text!r} not shown literally in {where}"


def test_the_dashboard_shows_hostile_text_as_text(
    browser: Any, xss_server: str, planted: dict[str, Any]
) -> None:
    case, rejected = planted["case"], planted["rejected"]
    dash = page_for(browser, xss_server, planted["where"], viewport={"width": 1600, "height": 1000})
    sign_in(dash, "dashboard", f"op.{TOWN}")
    dash.wait_for_selector("body[data-interactive]")
    # list
    dash.wait_for_selector(f'#case-rows tr:has-text("{case["tracking_no"]}")')
    shows(dash, "#case-rows", PAYLOADS["title"], PAYLOADS["reason"])
    # detail and timeline
    dash.click(f'#case-rows tr:has-text("{case["tracking_no"]}")')
    dash.wait_for_selector(f'#detail[data-case-id="{case["id"]}"]')
    shows(dash, "#detail", PAYLOADS["title"], PAYLOADS["description"], PAYLOADS["note"])
    dash.click(f'#case-rows tr:has-text("{rejected["tracking_no"]}")')
    dash.wait_for_selector(f'#detail[data-case-id="{rejected["id"]}"]')
    shows(dash, "#detail", PAYLOADS["reason"])
    # live feed: a report arriving while the page is open
    with api(xss_server, "citizen02") as c:
        lng, lat = planted["where"]
        live = c.post(
            "/api/v1/cases",
            json={
                "category_code": "E0102",
                "title": PAYLOADS["description"],
                "lng": lng,
                "lat": lat,
            },
        ).json()
    dash.wait_for_selector(f'#feed li[data-case-id="{live["id"]}"]')
    # map: the alarm's tooltip and popup name the hostile device id
    marker = dash.locator(".alarm-marker").first
    marker.dispatch_event("mouseover")  # a case cluster may lie on top of it
    dash.wait_for_selector(".leaflet-tooltip")
    shows(dash, ".leaflet-tooltip", PAYLOADS["device"])
    marker.dispatch_event("click")
    dash.wait_for_selector(".alarm-decision")
    shows(dash, ".alarm-decision", PAYLOADS["device"])
    inert(dash)
    dash.context.close()

    city = page_for(browser, xss_server, planted["where"], viewport={"width": 1600, "height": 1000})
    sign_in(city, "dashboard", "op.330400")
    city.wait_for_selector("body[data-interactive]")
    city.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-units'))"
        ".trigger('click', {data: {code: '330402'}})"
    )
    city.wait_for_selector('#crumbs button[data-code="330402"]')
    city.wait_for_selector(f'#case-rows tr:has-text("{case["tracking_no"]}")')
    shows(city, "#case-rows", PAYLOADS["title"])
    inert(city)
    city.context.close()


def test_the_field_app_shows_hostile_text_as_text(
    browser: Any, xss_server: str, planted: dict[str, Any]
) -> None:
    case = planted["case"]
    field = page_for(browser, xss_server, planted["where"], viewport={"width": 420, "height": 860})
    sign_in(field, "field", f"gw.{GRID}")
    field.wait_for_selector(f'#tasks li[data-case-id="{case["id"]}"]')
    shows(field, "#tasks", PAYLOADS["title"])
    field.click(f'#tasks li[data-case-id="{case["id"]}"]')
    field.wait_for_selector("#task-detail .timeline")
    shows(field, "#task-detail", PAYLOADS["title"], PAYLOADS["description"], PAYLOADS["note"])
    inert(field)
    field.context.close()


def test_the_citizen_page_shows_hostile_text_as_text(
    browser: Any, xss_server: str, planted: dict[str, Any]
) -> None:
    case, rejected = planted["case"], planted["rejected"]
    citizen = page_for(
        browser, xss_server, planted["where"], viewport={"width": 1200, "height": 900}
    )
    sign_in(citizen, "citizen", "citizen01")
    for made, texts in (
        (case, (PAYLOADS["title"], PAYLOADS["note"])),
        (rejected, (PAYLOADS["reason"],)),
    ):
        citizen.fill("#track-form input[name=no]", made["tracking_no"])
        citizen.click("#track-form button[type=submit]")
        citizen.wait_for_selector(f'#case-view:has-text("{made["tracking_no"]}")')
        shows(citizen, "#case-view", *texts)
    inert(citizen)
    citizen.context.close()
