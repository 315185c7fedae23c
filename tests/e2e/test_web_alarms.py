"""A device alarm pushed while the dashboard is open appears on its map without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.conftest import seeded_server
from tests.e2e.test_web_apps import CHROMIUM, GRID, TIMEOUT_MS, api, sign_in

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")


@pytest.fixture(scope="module")
def alarm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with seeded_server(tmp_path_factory.mktemp("alarms")) as base:
        yield base


def test_a_gas_leak_shows_on_the_dashboard_map_live(browser: Any, alarm_server: str) -> None:
    base = alarm_server
    town = GRID[:9]
    ctx = browser.new_context(base_url=base)
    ctx.set_default_timeout(TIMEOUT_MS)
    dash = ctx.new_page()
    sign_in(dash, "dashboard", f"op.{town}")
    dash.wait_for_selector("body[data-interactive]")
    before = dash.locator(".alarm-marker").count()
    with api(base, f"op.{town}") as c:
        device = next(d for d in c.get("/api/v1/devices", params={"kind": "gas"}).json())
        reading = {"ts": datetime.now(UTC).isoformat(), "metrics": {"lel_pct": 45.0}}
        pushed = c.post(
            "/api/v1/iot/messages",
            json={"messages": [{"device_id": device["id"], "payload": reading}]},
        ).json()
    assert pushed["alarms_raised"] == 1
    dash.wait_for_function(f"document.querySelectorAll('.alarm-marker').length > {before}")
    dash.wait_for_selector("#feed li[data-type='alarm.raised']")
    ctx.close()


def test_an_operator_confirms_a_camera_alarm_on_the_map(browser: Any, alarm_server: str) -> None:
    base = alarm_server
    town = GRID[:9]
    ctx = browser.new_context(base_url=base)
    ctx.set_default_timeout(TIMEOUT_MS)
    dash = ctx.new_page()
    sign_in(dash, "dashboard", f"op.{town}")
    dash.wait_for_selector("body[data-interactive]")
    with api(base, f"op.{town}") as c:
        camera = next(iter(c.get("/api/v1/devices", params={"kind": "camera"}).json()))
        crowd = {"ts": datetime.now(UTC).isoformat(), "type": "camera.crowd", "confidence": 0.9}
        message = {"device_id": camera["id"], "channel": "events", "payload": crowd}
        pushed = c.post("/api/v1/iot/messages", json={"messages": [message]}).json()
        assert pushed["alarms_raised"] == 1 and pushed["cases"] == []
        [alarm] = [
            a
            for a in c.get("/api/v1/alarms", params={"state": "open"}).json()
            if a["device_id"] == camera["id"]
        ]
    marker = dash.locator(f".leaflet-marker-icon.alarm-marker.open[title*='{camera['id']}']")
    marker.first.click()
    dash.click(".alarm-decision button[data-action=confirm]")
    with api(base, f"op.{town}") as c:
        for _ in range(100):
            state = c.get(f"/api/v1/alarms/{alarm['id']}").json()
            if state["state"] == "cased":
                break
            dash.wait_for_timeout(100)
    assert state["state"] == "cased" and state["case_id"]
    ctx.close()
