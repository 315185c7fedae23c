"""The three browser apps, driven in a real (headless) Chromium against a live server.

The closed loop runs through the UIs: a citizen reports on the citizen page, the town operator
files and dispatches on the dashboard, the department handler accepts and handles with a photo in
the field app, the grid worker verifies there, the operator closes, and the citizen rates. The
dashboard stays open the whole time and must show every step as it arrives over the WebSocket.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from pingan.demo.photos import striped_png
from pingan.demo.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_TOTP_USERS
from tests.e2e.conftest import seeded_env, start_server

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
GRID = "330402007001001"  # 建设街道 第1网格
OTHER_TOWN_GRID = "330402008001001"  # 解放街道 第1网格
TIMEOUT_MS = 15_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: browsers leave WebSockets the server only notices on its next push,
    so stopping it may need a kill after the grace period."""
    import subprocess

    server, base = start_server(seeded_env(tmp_path_factory.mktemp("web")))
    try:
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def token(base: str, username: str) -> str:
    form = {"username": username, "password": DEMO_PASSWORD}
    if username in DEMO_TOTP_USERS:  # administrators and auditors need their second factor
        form["totp"] = pyotp.TOTP(DEMO_TOTP_SECRET).now()
    r = httpx.post(f"{base}/api/v1/auth/token", data=form)
    r.raise_for_status()
    return str(r.json()["access_token"])


def api(base: str, username: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token(base, username)}"})


def centre_of(base: str, grid: str) -> tuple[float, float]:
    with api(base, "citizen01") as c:
        lng, lat = c.get(f"/api/v1/units/{grid}").json()["center"]
    return float(lng), float(lat)


def new_page(browser: Any, base: str, where: tuple[float, float], **kw: Any) -> Any:
    ctx = browser.new_context(
        base_url=base,
        geolocation={"longitude": where[0], "latitude": where[1]},
        permissions=["geolocation"],
        **kw,
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx.new_page()


def sign_in(page: Any, app: str, username: str) -> None:
    page.goto(f"/{app}/")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#app-view:not([hidden])")


def photo(name: str = "photo.png") -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": striped_png()}


def fill_report(page: Any, title: str) -> None:
    page.wait_for_selector("select[name=category_code] option[value=E0102]", state="attached")
    page.select_option("select[name=category_code]", "E0102")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=description]", "已两天无人清运（浏览器测试）")
    page.set_input_files(".report-form input[name=photos]", photo())
    page.click("button.locate")
    page.wait_for_function("document.querySelector('input[name=lng]').value !== ''")


def act_in(page: Any, box: str, action: str, note: str | None = None) -> None:
    """Click an action button in a case panel; fill and submit its form when it has one."""
    page.click(f"{box} button[data-action={action}]")
    form = f"{box} form.action-form[data-action={action}]"
    if page.locator(form).count() == 0 and action in ("file", "accept", "close"):
        return
    page.wait_for_selector(form)
    if action == "dispatch":
        page.wait_for_function(
            f"document.querySelector('{form} select[name=department]').value !== ''"
        )
    if note is not None:
        page.fill(f"{form} textarea[name=note]", note)
    if page.locator(f"{form} input[name=photos]").count():
        page.set_input_files(f"{form} input[name=photos]", photo())
    page.click(f"{form} button[type=submit]")


def marker_state(page: Any, case_id: int, state: str) -> None:
    page.wait_for_function(
        "([id, s]) => window.pinganDashboard?.markerOf(id)?.state === s", arg=[case_id, state]
    )


def feed_has(page: Any, case_id: int, event_type: str) -> None:
    page.wait_for_selector(f'#feed li[data-type="{event_type}"][data-case-id="{case_id}"]')


def test_closed_loop_through_the_three_apps_shows_live_on_the_dashboard(
    browser: Any, web_server: str
) -> None:
    where = centre_of(web_server, GRID)
    title = f"小区门口垃圾堆积 {uuid.uuid4().hex[:6]}"

    dash = new_page(browser, web_server, where, viewport={"width": 1600, "height": 1000})
    sign_in(dash, "dashboard", "op.330402007")
    dash.wait_for_selector("body[data-interactive]")
    dash.wait_for_selector("#live-status[data-state=live]")
    dash.evaluate("window.__notReloaded = true")

    citizen = new_page(browser, web_server, where, viewport={"width": 1200, "height": 900})
    sign_in(citizen, "citizen", "citizen01")
    fill_report(citizen, title)
    citizen.click(".report-form button[type=submit]")
    tracking_no = citizen.locator("#tracking-no").inner_text()
    assert tracking_no

    # The report arrives on the dashboard over the WebSocket: feed item and a new marker.
    item = dash.wait_for_selector(f'#feed li[data-type="case.reported"]:has-text("{tracking_no}")')
    case_id = int(item.get_attribute("data-case-id"))
    marker_state(dash, case_id, "reported")

    item.click()
    dash.wait_for_selector(f'#detail[data-case-id="{case_id}"][data-state=reported]')
    act_in(dash, "#detail", "file")
    dash.wait_for_selector("#detail[data-state=filed]")
    act_in(dash, "#detail", "dispatch")
    dash.wait_for_selector("#detail[data-state=dispatched]")
    marker_state(dash, case_id, "dispatched")

    # The urban-management handler works the case in the field app.
    handler = new_page(browser, web_server, where, viewport={"width": 420, "height": 860})
    sign_in(handler, "field", "h.330402-cgj")
    handler.click(f'#tasks li[data-case-id="{case_id}"]')
    act_in(handler, "#task-detail", "accept")
    feed_has(dash, case_id, "case.accepted")
    handler.click(f'#tasks li[data-case-id="{case_id}"]')
    handler.wait_for_selector("#task-detail button[data-action=handle]")
    act_in(handler, "#task-detail", "handle", note="已清运完毕")
    feed_has(dash, case_id, "case.handled")
    marker_state(dash, case_id, "handled")

    # The grid worker verifies on the spot with a photo.
    worker = new_page(browser, web_server, where, viewport={"width": 420, "height": 860})
    sign_in(worker, "field", f"gw.{GRID}")
    worker.click(f'#tasks li[data-case-id="{case_id}"]')
    act_in(worker, "#task-detail", "verify", note="现场已清理")
    feed_has(dash, case_id, "case.verified")
    dash.wait_for_selector("#detail[data-state=verified]")  # the open panel refreshed itself
    act_in(dash, "#detail", "close")
    dash.wait_for_selector("#detail[data-state=closed]")

    # The citizen follows the case by its number and rates the result.
    citizen.fill("#track-form input[name=no]", tracking_no)
    citizen.click("#track-form button[type=submit]")
    citizen.wait_for_selector("#case-view[data-state=closed]")
    act_in(citizen, "#case-view", "evaluate")
    citizen.wait_for_selector("#case-view[data-state=evaluated]")
    assert citizen.locator("#case-view .timeline li").count() == 8

    for event in ("reported", "filed", "dispatched", "accepted", "handled", "verified"):
        feed_has(dash, case_id, f"case.{event}")
    feed_has(dash, case_id, "case.closed")
    feed_has(dash, case_id, "case.evaluated")
    marker_state(dash, case_id, "evaluated")
    assert dash.evaluate("window.__notReloaded") is True  # every change came live, no reload

    SHOTS.mkdir(parents=True, exist_ok=True)
    dash.wait_for_timeout(1200)  # let the debounced KPI refresh land before the picture
    dash.evaluate("window.scrollTo(0, 0)")
    dash.screenshot(path=str(SHOTS / "dashboard.png"))
    worker.click("#tabs button[data-tab=report]")
    worker.screenshot(path=str(SHOTS / "field.png"))
    citizen.screenshot(path=str(SHOTS / "citizen.png"))
    for page in (dash, citizen, handler, worker):
        page.context.close()


def test_language_switch_is_applied_and_remembered(browser: Any, web_server: str) -> None:
    page = new_page(browser, web_server, centre_of(web_server, GRID))
    sign_in(page, "dashboard", "op.330402007")
    page.wait_for_selector("body[data-interactive]")
    assert page.locator(".topbar h1").inner_text() == "指挥大屏"
    assert page.locator('[data-kpi="on_time_rate"] .tile-label').inner_text() == "按期结案率"
    page.select_option("#lang", "en")
    page.wait_for_function(
        "document.querySelector('.topbar h1').textContent === 'Command dashboard'"
    )
    assert page.locator('[data-kpi="on_time_rate"] .tile-label').inner_text() == "On-time closure"
    page.reload()
    page.wait_for_selector("body[data-interactive]")
    assert page.locator(".topbar h1").inner_text() == "Command dashboard"
    assert page.evaluate("document.documentElement.lang") == "en"
    page.select_option("#lang", "zh-CN")
    page.wait_for_function("document.querySelector('.topbar h1').textContent === '指挥大屏'")
    page.context.close()


def test_offline_report_is_queued_and_sent_exactly_once(browser: Any, web_server: str) -> None:
    where = centre_of(web_server, GRID)
    title = f"离线上报 {uuid.uuid4().hex[:8]}"
    page = new_page(browser, web_server, where, viewport={"width": 420, "height": 860})
    sign_in(page, "field", f"gw.{GRID}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.click("#tabs button[data-tab=report]")
    page.wait_for_selector("select[name=category_code] option[value=E0102]", state="attached")

    page.context.set_offline(True)
    fill_report(page, title)
    page.click(".report-form button[type=submit]")
    page.wait_for_selector('#queue[data-count="1"]')
    page.wait_for_timeout(500)
    with api(web_server, "op.330402007") as c:
        assert c.get("/api/v1/cases", params={"q": title}).json()["total"] == 0

    page.context.set_offline(False)
    page.wait_for_selector("#queue", state="hidden")
    with api(web_server, "op.330402007") as c:
        found = c.get("/api/v1/cases", params={"q": title}).json()
    assert found["total"] == 1
    assert found["items"][0]["channel"] and found["items"][0]["photo_ids"]
    page.context.close()


def test_town_operator_dashboard_shows_no_other_towns_cases(browser: Any, web_server: str) -> None:
    ours, theirs = centre_of(web_server, OTHER_TOWN_GRID), centre_of(web_server, GRID)
    made = {}
    with api(web_server, "citizen02") as c:
        for name, (lng, lat) in (("ours", ours), ("theirs", theirs)):
            r = c.post(
                "/api/v1/cases",
                json={"category_code": "E0102", "title": f"隔离 {name}", "lng": lng, "lat": lat},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            assert r.status_code == 201, r.text
            made[name] = r.json()
    with api(web_server, "op.330402008") as c:
        assert c.get("/api/v1/stats/kpis", params={"unit": "330402007"}).status_code == 404
        points = c.get("/api/v1/stats/points").json()
        open_cases = c.get("/api/v1/stats/kpis").json()["tiles"]["open"]
    assert all(made["theirs"]["id"] != row[0] for row in points["rows"])

    page = new_page(browser, web_server, ours, viewport={"width": 1600, "height": 1000})
    sign_in(page, "dashboard", "op.330402008")
    page.wait_for_selector("body[data-interactive]")
    assert page.evaluate("window.pinganDashboard.markerCount()") == points["total"]
    assert page.evaluate(f"window.pinganDashboard.markerOf({made['ours']['id']})") is not None
    assert page.evaluate(f"window.pinganDashboard.markerOf({made['theirs']['id']})") is None
    assert page.locator('[data-kpi="open"] .tile-value').inner_text() == str(open_cases)
    page.fill("#filters input[name=q]", made["theirs"]["tracking_no"])
    page.click("#filters button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#case-rows tr').length === 0")
    page.context.close()


def test_a_late_answer_never_paints_an_older_case_over_a_newer_one(
    browser: Any, web_server: str
) -> None:
    """The case panel reads a case on a click, on a live event and after an action; when an
    earlier read answers last, the panel keeps the later one (and so its newer ETag)."""
    lng, lat = centre_of(web_server, GRID)
    with api(web_server, "citizen02") as c:
        kase = c.post(
            "/api/v1/cases",
            json={"category_code": "E0102", "title": "迟到的回答", "lng": lng, "lat": lat},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        ).json()
    page = new_page(browser, web_server, (lng, lat), viewport={"width": 1600, "height": 1000})
    sign_in(page, "dashboard", "op.330402007")
    page.wait_for_selector("body[data-interactive]")
    # the first read of this case gets its answer at once but hands it over 2 s later
    page.evaluate(
        """(id) => { const fetch0 = window.fetch; let held = false;
            window.fetch = async (url, opts) => {
              const res = await fetch0(url, opts);
              if (!held && String(url).endsWith(`/api/v1/cases/${id}`)) {
                held = true; await new Promise((r) => setTimeout(r, 2000));
              }
              return res; }; }""",
        kase["id"],
    )
    page.evaluate(f"() => {{ window.pinganDashboard.openCase({kase['id']}); }}")  # not awaited
    with api(web_server, "op.330402007") as c:
        r = c.post(
            f"/api/v1/cases/{kase['id']}/actions/file",
            json={},
            headers={"If-Match": f'"{kase["version"]}"'},
        )
        assert r.status_code == 200, r.text
    page.evaluate(f"window.pinganDashboard.openCase({kase['id']})")
    page.wait_for_selector(f'#detail[data-case-id="{kase["id"]}"][data-state=filed]')
    time.sleep(2.5)  # the held answer (still "reported") has arrived by now
    assert page.get_attribute("#detail", "data-state") == "filed"
    page.context.close()


def test_export_is_scoped_and_neutralises_formulas(web_server: str) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    lng, lat = centre_of(web_server, GRID)
    title = f'=HYPERLINK("http://x") {uuid.uuid4().hex[:6]}'
    with api(web_server, "citizen03") as c:
        r = c.post(
            "/api/v1/cases",
            json={"category_code": "E0102", "title": title, "lng": lng, "lat": lat},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert r.status_code == 201, r.text
    with api(web_server, "op.330402007") as c:
        r = c.get("/api/v1/stats/cases.xlsx", params={"q": title[:20], "lang": "en"})
    assert r.status_code == 200
    sheet = load_workbook(BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Tracking no." and len(rows) == 2
    assert rows[1][4] == "'" + title
    with api(web_server, "op.330402008") as c:
        other = c.get("/api/v1/stats/cases.xlsx", params={"q": title[:20]})
    assert len(list(load_workbook(BytesIO(other.content)).active.iter_rows())) == 1
