"""Signing in to the dashboard with a second factor, and signing out for good."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from pingan.demo.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs chromium")


def test_the_auditor_is_asked_for_a_code_then_signs_in_and_out(
    browser: Any, live_server: str
) -> None:
    ctx = browser.new_context(base_url=live_server)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto("/dashboard/")
    assert page.locator("#totp-field").is_hidden()
    page.fill("#login-form input[name=username]", "auditor")
    page.fill("#login-form input[name=password]", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#totp-field:not([hidden])")
    assert page.locator("#login-error").inner_text()
    page.fill("#login-form input[name=totp]", pyotp.TOTP(DEMO_TOTP_SECRET).now())
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#app-view:not([hidden])")
    session = json.loads(page.evaluate("localStorage.getItem('pingan.session.dashboard')"))
    headers = {"Authorization": f"Bearer {session['token']}"}
    assert httpx.get(f"{live_server}/api/v1/me", headers=headers).status_code == 200
    page.click("#sign-out")
    page.wait_for_selector("#login-view:not([hidden])")
    for _ in range(50):  # the revocation is sent as the page reloads
        if httpx.get(f"{live_server}/api/v1/me", headers=headers).status_code == 401:
            break
        time.sleep(0.1)
    assert httpx.get(f"{live_server}/api/v1/me", headers=headers).status_code == 401
    ctx.close()
