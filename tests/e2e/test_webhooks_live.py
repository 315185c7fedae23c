"""Departmental webhooks against a real `pingan serve` with its own workers and a real receiver:
the sender posts on its own, a receiver away for a while catches up, a dead letter is replayed,
and signed results come back in while forgeries and replays are refused."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from pingan.domain.webhooks import sign
from tests.e2e.conftest import seeded_env, start_server
from tests.integration.webhook_receiver import Receiver

TOWN = "330402007"
GRID = "330402007001001"


def _login(base: str, username: str) -> httpx.Client:
    r = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": username, "password": "Pingan@2019"}
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _until(check: Callable[[], Any], seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _act(http: httpx.Client, case: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    r = http.post(
        f"/api/v1/cases/{case['id']}/actions/{action}",
        json=body,
        headers={"If-Match": f'"{case["version"]}"'},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_live_server_delivers_retries_dead_letters_and_takes_signed_results(
    tmp_path: Path,
) -> None:
    env = {
        **seeded_env(tmp_path),
        "PINGAN_WEBHOOK_BACKOFF_BASE_S": "0.4",
        "PINGAN_WEBHOOK_BACKOFF_MAX_S": "1.5",
        "PINGAN_WEBHOOK_MAX_ATTEMPTS": "5",
        "PINGAN_WEBHOOK_INTERVAL_S": "0.1",
        "PINGAN_WEBHOOK_TIMEOUT_S": "2",
    }
    server, base = start_server(env)
    receiver = Receiver(lambda: datetime.now(UTC))
    try:
        citizen, operator, admin = (_login(base, u) for u in ("citizen01", f"op.{TOWN}", "admin"))
        lng, lat = citizen.get(f"/api/v1/units/{GRID}").json()["center"]

        def filed() -> tuple[dict[str, Any], str]:
            r = citizen.post(
                "/api/v1/cases",
                json={"category_code": "E0102", "title": "暴露垃圾", "lng": lng, "lat": lat},
            )
            assert r.status_code == 201, r.text
            case = _act(operator, r.json(), "file")
            dept = operator.get(f"/api/v1/cases/{case['id']}/dispatch-suggestion").json()
            return case, str(dept["department_id"])

        first, dept = filed()
        r = admin.post("/api/v1/webhooks", json={"department_id": dept, "url": receiver.url})
        assert r.status_code == 201, r.text
        sub = r.json()
        receiver.secret = sub["secret"]

        def deliveries(case_id: int) -> list[dict[str, Any]]:
            got = admin.get("/api/v1/webhooks/deliveries").json()
            return [d for d in got if d["case_id"] == case_id]

        # the receiver is down while the case is dispatched: the sender keeps trying
        first = _act(operator, first, "dispatch", department_id=dept)
        _until(lambda: [d for d in deliveries(first["id"]) if d["attempts"] >= 2])
        receiver.start()
        _until(lambda: [d for d in deliveries(first["id"]) if d["status"] == "delivered"])
        assert [d["case"]["id"] for d in receiver.accepted] == [first["id"]]
        assert receiver.rejected == []

        # a receiver failing every time: the delivery ends in the dead letters; a replay delivers
        receiver.status = 503
        second, _ = filed()
        second = _act(operator, second, "dispatch", department_id=dept)
        [dead] = _until(lambda: [d for d in deliveries(second["id"]) if d["status"] == "dead"])
        assert dead["attempts"] == 5 and dead["last_status"] == 503
        assert dead["id"] in [
            d["id"] for d in admin.get("/api/v1/webhooks/deliveries?status=dead").json()
        ]
        receiver.status = 204
        assert admin.post(f"/api/v1/webhooks/deliveries/{dead['id']}/replay").status_code == 202
        _until(lambda: [d for d in receiver.accepted if d["id"] == dead["id"]])

        # results come back signed; a forgery and a replay are refused
        def post(
            body: dict[str, Any], delivery: str, secret: str = sub["secret"]
        ) -> httpx.Response:
            raw = json.dumps(body).encode()
            ts = int(time.time())
            return httpx.post(
                f"{base}/api/v1/hooks/{sub['id']}/results",
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Pingan-Delivery": delivery,
                    "X-Pingan-Timestamp": str(ts),
                    "X-Pingan-Signature": sign(secret, ts, raw),
                },
            )

        accept = {"case_id": first["id"], "action": "accept"}
        forged = post(accept, str(uuid.uuid4()), secret="whsec_forged")
        assert forged.status_code == 401
        assert forged.json()["error"]["code"] == "webhook.bad_signature"
        delivery = str(uuid.uuid4())
        assert post(accept, delivery).status_code == 200
        replayed = post(accept, delivery)
        assert replayed.status_code == 409
        assert replayed.json()["error"]["code"] == "webhook.replayed"
        assert operator.get(f"/api/v1/cases/{first['id']}").json()["state"] == "accepted"
    finally:
        receiver.stop()
        server.terminate()
        server.wait(timeout=10)
