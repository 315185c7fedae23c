"""One-click video calls from the dashboard to the field app, in two headless Chromium contexts
with Chromium's synthetic camera and microphone: media flows both ways, the call is logged on the
case, and refusals, unanswered rings and calls outside one's jurisdiction end as they should."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import RING_TIMEOUT_S
from tests.e2e.test_web_apps import (
    CHROMIUM,
    GRID,
    OTHER_TOWN_GRID,
    SHOTS,
    TIMEOUT_MS,
    api,
    sign_in,
)

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")

DISTRICT = GRID[:6]
WORKER = f"gw.{GRID}"


@pytest.fixture(scope="module")
def call_server(configured_server: str) -> str:
    return configured_server


def _context(browser: Any, base: str) -> Any:
    ctx = browser.new_context(base_url=base, permissions=["camera", "microphone"])
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def _field(browser: Any, base: str, username: str = WORKER) -> Any:
    page = _context(browser, base).new_page()
    sign_in(page, "field", username)
    page.wait_for_selector("body[data-live=live]")
    return page


def _dashboard(browser: Any, base: str, username: str) -> Any:
    page = _context(browser, base).new_page()
    sign_in(page, "dashboard", username)
    page.wait_for_selector("#live-status[data-state=live]")
    page.wait_for_function("window.pinganCalls !== undefined")
    return page


def _user_id(base: str, username: str) -> int:
    with api(base, username) as c:
        return int(c.get("/api/v1/me").json()["id"])


def _frames(page: Any) -> list[int]:
    stats = page.evaluate("window.pinganCalls.stats()")
    return [s["framesDecoded"] for s in stats.values()]


def _wait_for_media(page: Any, peers: int = 1) -> None:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        frames = _frames(page)
        if len(frames) >= peers and all(f > 0 for f in frames):
            return
        time.sleep(0.2)
    raise AssertionError(f"no video decoded: {page.evaluate('window.pinganCalls.stats()')}")


def _close(*pages: Any) -> None:
    for page in pages:
        page.context.close()


def test_commander_calls_worker_from_a_case_both_see_video_and_the_call_is_logged(
    browser: Any, call_server: str
) -> None:
    base = call_server
    worker = _field(browser, base)
    dash = _dashboard(browser, base, f"cmd.{DISTRICT}")
    with api(base, WORKER) as c:
        lng, lat = c.get(f"/api/v1/units/{GRID}").json()["center"]
        case = c.post(
            "/api/v1/cases",
            json={"category_code": "E0102", "title": "视频核实：垃圾满溢", "lng": lng, "lat": lat},
            headers={"Idempotency-Key": "call-case-1"},
        ).json()

    dash.click(f'#feed li[data-case-id="{case["id"]}"]')
    dash.wait_for_selector(f'#detail[data-case-id="{case["id"]}"]')
    gw_id = _user_id(base, WORKER)
    button = f'#detail .contacts li[data-user-id="{gw_id}"] button.call-button'
    dash.wait_for_selector(f'#detail .contacts li[data-user-id="{gw_id}"] .presence.online')
    dash.click(button)

    worker.wait_for_selector("#call[data-state=ringing] button[data-act=accept]")
    worker.click("#call button[data-act=accept]")
    dash.wait_for_selector("#call-panel[data-state=active]")
    _wait_for_media(dash)
    _wait_for_media(worker)
    dash.wait_for_selector("#call-panel[data-first-frame-ms]")

    # the commander shares the case on the worker's map
    dash.click("#call-panel button[data-act=share]")
    worker.wait_for_selector("#call .shared-map:not([hidden]) .leaflet-container")
    assert case["tracking_no"] in worker.inner_text("#call .shared-case")
    dash.screenshot(path=str(SHOTS / "dashboard-call.png"))
    worker.set_viewport_size({"width": 420, "height": 860})
    worker.screenshot(path=str(SHOTS / "field-call.png"))

    # a network hiccup: the side that offered restarts ICE, and media keeps flowing
    before = _frames(worker)[0]
    dash.evaluate(
        """() => { const c = window.pinganCalls.client;
                   const [[id, peer]] = [...c.peers]; c.restart(id, peer); }"""
    )
    worker.wait_for_function(
        f"window.pinganCalls.stats().then(s => Object.values(s)[0].framesDecoded > {before + 10})"
    )
    assert dash.evaluate("[...window.pinganCalls.client.peers.values()][0].pc.connectionState") == (
        "connected"
    )

    # a recording, with the notice shown in the field app, kept on the case
    dash.click("#call-panel button[data-act=record]")
    worker.wait_for_selector("#call .recording:not([hidden])")
    time.sleep(1.5)
    dash.click("#call-panel button[data-act=record]")
    worker.wait_for_selector("#call .recording[hidden]", state="attached")

    time.sleep(0.5)
    dash.click("#call-panel button[data-act=hangup]")
    dash.wait_for_selector("#call-panel[data-outcome=completed]")
    worker.wait_for_selector("#call[data-outcome=completed]")
    dash.wait_for_selector("#detail .call-log li[data-outcome=completed]")

    with api(base, f"cmd.{DISTRICT}") as c:
        [logged] = c.get("/api/v1/calls", params={"case_id": case["id"]}).json()
    assert logged["outcome"] == "completed" and logged["duration_s"] >= 1
    assert logged["recording_id"] is not None
    with api(base, f"cmd.{DISTRICT}") as c:
        video = c.get(f"/api/v1/attachments/{logged['recording_id']}")
    assert (
        video.headers["content-type"] == "video/webm" and video.content[:4] == b"\x1a\x45\xdf\xa3"
    )
    assert {p["user_id"]: p["state"] for p in logged["parties"]}[gw_id] == "left"
    with api(base, WORKER) as c:
        assert c.get("/api/v1/calls").json()[0]["id"] == logged["id"]
    _close(worker, dash)


def test_a_refused_call_from_the_workers_marker_ends_refused(
    browser: Any, call_server: str
) -> None:
    base = call_server
    worker = _field(browser, base)
    dash = _dashboard(browser, base, f"op.{GRID[:9]}")
    with api(base, WORKER) as c:
        lng, lat = c.get(f"/api/v1/units/{GRID}").json()["center"]
        c.post("/api/v1/me/positions", json={"points": [{"lng": lng, "lat": lat}]})
    dash.wait_for_function(f"window.pinganDashboard.workerOf('{WORKER}') !== null")
    dash.evaluate(f"window.pinganDashboard.openWorker('{WORKER}')")
    dash.click(".worker-popup button.call-button")
    worker.wait_for_selector("#call[data-state=ringing] button[data-act=refuse]")
    worker.click("#call button[data-act=refuse]")
    dash.wait_for_selector("#call-panel[data-outcome=refused]")
    _close(worker, dash)


def test_an_unanswered_call_times_out_as_missed(browser: Any, call_server: str) -> None:
    base = call_server
    worker = _field(browser, base)
    dash = _dashboard(browser, base, f"op.{GRID[:9]}")
    gw_id = _user_id(base, WORKER)
    dash.evaluate(f"window.pinganCalls.dial({gw_id})")
    worker.wait_for_selector("#call[data-state=ringing]")
    dash.wait_for_selector("#call-panel[data-outcome=missed]", timeout=(RING_TIMEOUT_S + 10) * 1000)
    worker.wait_for_selector("#call[data-outcome=missed]")
    _close(worker, dash)


def test_a_caller_whose_camera_opens_after_the_answer_still_connects(
    browser: Any, call_server: str
) -> None:
    """The answer's push reaches the centre before its own camera (and the reply to its ring) is
    ready; the older state in that reply must not undo the newer one."""
    base = call_server
    worker = _field(browser, base)
    ctx = _context(browser, base)
    ctx.add_init_script(
        """(() => { const md = navigator.mediaDevices, open = md.getUserMedia.bind(md);
                    md.getUserMedia = (c) => new Promise((r) => setTimeout(r, 3000))
                                               .then(() => open(c)); })()"""
    )
    dash = ctx.new_page()
    sign_in(dash, "dashboard", f"op.{GRID[:9]}")
    dash.wait_for_selector("#live-status[data-state=live]")
    dash.wait_for_function("window.pinganCalls !== undefined")
    gw_id = _user_id(base, WORKER)
    dash.evaluate(f"() => {{ window.pinganCalls.dial({gw_id}); }}")  # not awaited: it rings
    worker.click("#call[data-party=invited] button[data-act=accept]")
    worker.wait_for_selector("#call[data-state=active]")
    _wait_for_media(dash)
    _wait_for_media(worker)
    assert dash.get_attribute("#call-panel", "data-state") == "active"
    dash.click("#call-panel button[data-act=hangup]")
    worker.wait_for_selector("#call[data-outcome=completed]")
    _close(worker, dash)


def test_a_centre_cannot_call_outside_its_jurisdiction_and_nothing_rings(
    browser: Any, call_server: str
) -> None:
    base = call_server
    far_worker = f"gw.{OTHER_TOWN_GRID}"
    worker = _field(browser, base, far_worker)
    dash = _dashboard(browser, base, f"op.{GRID[:9]}")
    far_id = _user_id(base, far_worker)
    status = dash.evaluate(
        """async (id) => {
            const s = JSON.parse(localStorage.getItem('pingan.session.dashboard'));
            const r = await fetch('/api/v1/calls', {method: 'POST',
              headers: {'Content-Type': 'application/json', Authorization: `Bearer ${s.token}`},
              body: JSON.stringify({callee_id: id})});
            return [r.status, (await r.json()).error.code];
        }""",
        far_id,
    )
    assert status == [403, "call.not_permitted"]
    time.sleep(1)
    assert worker.locator("#call").is_hidden()
    _close(worker, dash)


def test_a_third_participant_joins_and_everyone_sees_everyone(
    browser: Any, call_server: str
) -> None:
    base = call_server
    handler_name = f"h.{DISTRICT}-cgj"
    worker = _field(browser, base)
    handler = _field(browser, base, handler_name)
    dash = _dashboard(browser, base, f"cmd.{DISTRICT}")
    gw_id, handler_id = _user_id(base, WORKER), _user_id(base, handler_name)
    dash.evaluate(f"window.pinganCalls.dial({gw_id})")
    worker.click("#call[data-state=ringing] button[data-act=accept]")
    _wait_for_media(dash)
    dash.evaluate(f"window.pinganCalls.client.invite({handler_id})")
    handler.click("#call[data-party=invited] button[data-act=accept]")
    for page in (dash, worker, handler):
        _wait_for_media(page, peers=2)
    dash.wait_for_function("document.querySelectorAll('#call-panel .remotes video').length === 2")
    worker.click("#call button[data-act=hangup]")  # one leaves; the other two go on
    dash.wait_for_function("window.pinganCalls.client.peers.size === 1")
    assert dash.get_attribute("#call-panel", "data-state") == "active"
    dash.click("#call-panel button[data-act=hangup]")
    handler.wait_for_selector("#call[data-outcome=completed]")
    _close(worker, handler, dash)


def test_a_grid_on_the_map_offers_its_worker_for_a_call(browser: Any, call_server: str) -> None:
    base = call_server
    worker = _field(browser, base)
    dash = _dashboard(browser, base, f"op.{GRID[:9]}")
    dash.evaluate(f"window.pinganCalls.openGrid('{GRID}')")
    gw_id = _user_id(base, WORKER)
    dash.click(f'.grid-popup .contact[data-user-id="{gw_id}"] button.call-button')
    worker.click("#call[data-party=invited] button[data-act=accept]")
    _wait_for_media(dash)
    dash.click("#call-panel button[data-act=hangup]")
    worker.wait_for_selector("#call[data-outcome=completed]")
    other = _dashboard(browser, base, f"op.{OTHER_TOWN_GRID[:9]}")
    other.evaluate(f"window.pinganCalls.openGrid('{GRID}')")
    other.wait_for_selector(".grid-popup p.muted")  # another town's grid: nobody to call
    _close(worker, dash, other)
