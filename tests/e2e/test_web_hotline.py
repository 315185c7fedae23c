"""The 12345 hotline desk in the browser: a call filed with a masked caller, a repeat call from
the same number offered the open case and added to it, and a follow-up call that rates the case."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_web_apps import (
    CHROMIUM,
    GRID,
    SHOTS,
    TIMEOUT_MS,
    api,
    centre_of,
    sign_in,
)

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")

ACCOUNT = "建设街道小区门口垃圾三天没人清运，味道很大，请尽快处理。"


def _take(page: Any, phone: str, account: str, where: tuple[float, float]) -> None:
    page.fill("input[name=caller_phone]", phone)
    page.press("input[name=caller_phone]", "Tab")
    page.fill("textarea[name=account]", account)
    page.wait_for_function("document.querySelector('input[name=title]').value !== ''")
    page.select_option("select[name=category_code]", "E0102")
    page.evaluate(f"window.pinganHotline.setPlace({where[0]}, {where[1]})")


def test_hotline_desk_files_a_call_adds_a_repeat_and_records_a_follow_up(
    browser: Any, live_server: str
) -> None:
    base = live_server
    where = centre_of(base, GRID)
    ctx = browser.new_context(base_url=base)
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    sign_in(page, "hotline", f"op.{GRID[:9]}")

    _take(page, "0573-8201 9999", ACCOUNT, where)
    page.click("#call-form button[type=submit]")
    page.wait_for_selector("#call-result[data-case-id]")
    case_id = int(page.get_attribute("#call-result", "data-case-id"))
    with api(base, f"op.{GRID[:9]}") as c:
        case = c.get(f"/api/v1/cases/{case_id}").json()
        assert case["title"].startswith("建设街道小区门口垃圾")
        assert c.get(f"/api/v1/cases/{case_id}/contact").json()["phone"] == "0573****9999"
    assert case["tracking_no"] in page.inner_text("#call-result")

    # the same caller rings again about the same thing
    _take(page, "057382019999", "还是小区门口的垃圾，没人清运，味道很大", where)
    page.wait_for_selector("#caller-history li")
    assert "0573****9999" in page.inner_text("#caller-history")
    page.wait_for_selector(f'#similar li[data-case-id="{case_id}"]')
    page.set_viewport_size({"width": 1400, "height": 900})
    page.screenshot(path=str(SHOTS / "hotline.png"))
    page.click(f'#similar li[data-case-id="{case_id}"] button.same')
    page.wait_for_function("document.querySelector('#call-result').textContent.includes('并入')")
    with api(base, f"op.{GRID[:9]}") as c:
        calls = c.get("/api/v1/hotline/callers", params={"phone": "057382019999"}).json()["calls"]
    assert [x["repeat"] for x in calls] == [True, False]
    ctx.close()
