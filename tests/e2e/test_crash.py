"""A server killed with SIGKILL in the middle of intake loses no case it acknowledged, and
retrying the requests whose answer never came makes no second case."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import seeded_env, start_server


def _login(base: str, username: str) -> str:
    r = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": username, "password": "Pingan@2019"}
    )
    return str(r.json()["access_token"])


def test_sigkill_during_intake_loses_no_acknowledged_case(tmp_path: Path) -> None:
    env = seeded_env(tmp_path)
    server, base = start_server(env)
    token = _login(base, "citizen01")
    grid = httpx.get(
        f"{base}/api/v1/units/330402007001001", headers={"Authorization": f"Bearer {token}"}
    ).json()
    lng, lat = grid["center"]
    acked: dict[str, int] = {}
    unknown: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            for i in range(200):
                key = f"crash-{n}-{i}"
                body = {"category_code": "E0102", "title": key, "lng": lng, "lat": lat}
                try:
                    r = http.post("/api/v1/cases", json=body, headers={"Idempotency-Key": key})
                except httpx.TransportError:
                    with lock:
                        unknown.append(key)
                    return
                if r.status_code == 201:
                    with lock:
                        acked[key] = r.json()["id"]

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    server.kill()  # SIGKILL: no shutdown hooks, no flush
    server.wait()
    for t in threads:
        t.join()
    assert acked, "no case was acknowledged before the kill"

    server, base = start_server(env)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers) as http:
            for key, case_id in acked.items():
                r = http.get(f"/api/v1/cases/{case_id}")
                assert r.status_code == 200 and r.json()["title"] == key
            for key in unknown:  # the client never heard back: retry with the same key
                body = {"category_code": "E0102", "title": key, "lng": lng, "lat": lat}
                assert (
                    http.post(
                        "/api/v1/cases", json=body, headers={"Idempotency-Key": key}
                    ).status_code
                    == 201
                )
            mine = http.get("/api/v1/cases", params={"q": "crash-", "limit": 500}).json()
        titles = [c["title"] for c in mine["items"]]
        assert len(titles) == len(set(titles)), "a key made two cases"
        assert set(acked) | set(unknown) <= set(titles)
    finally:
        server.terminate()
        server.wait(timeout=10)
