"""A deployment's own tile layer under the boundaries: requested from the configured URL, and,
for GCJ-02 tiles, every WGS-84 overlay shifted into GCJ-02 exactly as the server computes it."""

from __future__ import annotations

from typing import Any

import pytest

from pingan.domain.geo import gcj02_to_wgs84, wgs84_to_gcj02
from tests.e2e.test_web_apps import CHROMIUM, GRID, TIMEOUT_MS, sign_in

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")

POINTS = [(120.7555, 30.7469), (121.0, 30.5), (120.5, 30.9)]


def test_gcj02_tiles_are_loaded_and_overlays_line_up_with_them(
    browser: Any, configured_server: str
) -> None:
    ctx = browser.new_context(base_url=configured_server)
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    tiles: list[str] = []
    page.on("request", lambda r: tiles.append(r.url) if "layers.png?z=" in r.url else None)
    sign_in(page, "dashboard", f"op.{GRID[:9]}")
    page.wait_for_function("document.body.dataset.mapReady !== undefined")
    page.wait_for_selector("#map img.leaflet-tile")
    assert tiles, "no tile was requested from the configured URL"
    assert page.evaluate("window.pinganDashboard.crs()") == "PINGAN:GCJ02"
    assert "测试底图" in page.inner_text("#map .leaflet-control-attribution")

    got = page.evaluate(
        """async (points) => {
            const m = await import('/shared/map.js');
            return points.map(([lng, lat]) => [m.wgs84ToGcj02(lng, lat), m.gcj02ToWgs84(lng, lat)]);
        }""",
        POINTS,
    )
    for (lng, lat), (to_gcj, to_wgs) in zip(POINTS, got, strict=True):
        assert to_gcj == pytest.approx(wgs84_to_gcj02(lng, lat), abs=1e-9)
        assert to_wgs == pytest.approx(gcj02_to_wgs84(lng, lat), abs=1e-8)
    ctx.close()


def test_without_tiles_the_boundaries_are_the_base_map(browser: Any, live_server: str) -> None:
    ctx = browser.new_context(base_url=live_server)
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    sign_in(page, "dashboard", f"op.{GRID[:9]}")
    page.wait_for_function("document.body.dataset.mapReady !== undefined")
    assert page.evaluate("window.pinganDashboard.crs()") == "EPSG:3857"
    assert page.locator("#map img.leaflet-tile").count() == 0
    assert page.locator("#map canvas").count() > 0  # boundaries and cases, drawn on canvas
    ctx.close()
