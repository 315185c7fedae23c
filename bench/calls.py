"""Click-to-connected time of video calls: the dashboard dials a grid worker whose field app
answers at once, in two headless Chromium contexts with Chromium's synthetic camera; the time runs
from the click to the first remote video frame rendered on the dashboard
(`requestVideoFrameCallback`). Also answer-to-first-frame, which leaves out the ring.
Figures only; run with `python -m bench.calls [N]`.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e.conftest import seeded_server
from tests.e2e.test_web_apps import GRID, api, sign_in

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        "--autoplay-policy=no-user-gesture-required"]  # fmt: skip
WORKER = f"gw.{GRID}"


def _page(browser: Any, base: str, app: str, username: str) -> Any:
    ctx = browser.new_context(base_url=base, permissions=["camera", "microphone"])
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    sign_in(page, app, username)
    return page


def measure(calls: int = 20) -> dict[str, Any]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, seeded_server(Path(tmp)) as base:
        with api(base, WORKER) as c:
            worker_id = int(c.get("/api/v1/me").json()["id"])
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            worker = _page(browser, base, "field", WORKER)
            worker.wait_for_selector("body[data-live=live]")
            dash = _page(browser, base, "dashboard", f"op.{GRID[:9]}")
            dash.wait_for_selector("#live-status[data-state=live]")
            click_ms: list[float] = []
            answer_ms: list[float] = []
            failed = 0
            for _ in range(calls):
                dash.evaluate(f"window.pinganCalls.dial({worker_id})")
                try:
                    worker.click("#call[data-state=ringing] button[data-act=accept]")
                    dash.wait_for_selector("#call-panel[data-first-frame-ms]")
                except PlaywrightTimeout:
                    failed += 1
                    dash.evaluate("window.pinganCalls.client.hangUp()")
                    dash.wait_for_selector("#call-panel[data-state=ended]")
                    continue
                click_ms.append(float(dash.get_attribute("#call-panel", "data-first-frame-ms")))
                first_at = float(dash.get_attribute("#call-panel", "data-first-frame-at"))
                answer_ms.append(first_at - worker.evaluate("window.pinganCalls.client.acceptedAt"))
                dash.click("#call-panel button[data-act=hangup]")
                dash.wait_for_selector("#call-panel[data-outcome=completed]")
                worker.wait_for_selector("#call[data-outcome=completed]")
            browser.close()
    return {
        "calls": calls,
        "failed": failed,
        "click_to_frame_p50_ms": statistics.median(click_ms),
        "click_to_frame_max_ms": max(click_ms),
        "answer_to_frame_p50_ms": statistics.median(answer_ms),
        "answer_to_frame_max_ms": max(answer_ms),
        "samples_ms": [round(x) for x in click_ms],
    }


if __name__ == "__main__":
    result = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
    print(result)
