"""A grid worker's patrol in the field app, seen on the town operator's dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import seeded_server
from tests.e2e.test_web_apps import (
    CHROMIUM,
    GRID,
    TIMEOUT_MS,
    api,
    centre_of,
    sign_in,
)

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")


@pytest.fixture(scope="module")
def patrol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with seeded_server(tmp_path_factory.mktemp("patrol")) as base:
        yield base


def test_patrol_in_the_field_app_shows_on_the_dashboard(browser: Any, patrol_server: str) -> None:
    base = patrol_server
    lng, lat = centre_of(base, GRID)
    ctx = browser.new_context(base_url=base)
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.grant_permissions(["geolocation"])
    ctx.set_geolocation({"longitude": lng, "latitude": lat})
    field = ctx.new_page()
    sign_in(field, "field", f"gw.{GRID}")
    field.click("#patrol-toggle")
    field.wait_for_selector("#patrol-toggle[data-state=on]")
    field.wait_for_selector("#patrol-stats[data-points='1']")  # the first fix is sent at once
    for step in (1, 2):
        ctx.set_geolocation({"longitude": lng + 0.0005 * step, "latitude": lat})
        field.wait_for_function(
            f"Number(document.querySelector('#patrol-stats').dataset.pending) >= {step}"
            " || Number(document.querySelector('#patrol-stats').dataset.points) > 1"
        )
    field.click("#patrol-toggle")
    field.wait_for_selector("#patrol-toggle[data-state=off]")
    with api(base, f"gw.{GRID}") as c:
        [patrol] = c.get("/api/v1/patrols").json()
    assert patrol["ended_at"] is not None and patrol["points"] >= 3
    assert 80 < patrol["distance_m"] < 120  # two steps of ~48 m each at this latitude

    town = GRID[:9]
    dash = ctx.new_page()
    sign_in(dash, "dashboard", f"op.{town}")
    dash.wait_for_function(
        f"window.pinganDashboard && window.pinganDashboard.workerOf('gw.{GRID}')"
    )
    worker = dash.evaluate(f"window.pinganDashboard.workerOf('gw.{GRID}')")
    assert abs(worker["lng"] - (lng + 0.001)) < 1e-6
    assert worker["tooltip"] == worker["display_name"] and worker["patrolling"] is False
    ctx.close()
