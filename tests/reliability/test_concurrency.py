"""Concurrent writers over HTTP, on SQLite and PostgreSQL: optimistic locking and idempotent intake
hold when fifty requests arrive at once, and nothing answers 500 or times out under contention."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.integration.conftest import World

WRITERS = 50


def all_at_once(n: int, send: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """Run `send` on n threads released together by a barrier, so the requests really overlap."""
    start = threading.Barrier(n)

    def go(i: int) -> httpx.Response:
        start.wait()
        return send(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def test_fifty_writers_with_one_etag_one_wins_the_rest_get_412(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(operator)
    url = f"/api/v1/cases/{case['id']}/actions/file"
    etag = f'"{case["version"]}"'

    replies = all_at_once(
        WRITERS, lambda _i: operator.post(url, json={}, headers={"If-Match": etag})
    )

    statuses = Counter(r.status_code for r in replies)
    assert statuses == {200: 1, 412: WRITERS - 1}, statuses
    assert all(
        r.json()["error"]["code"] == "case.stale_version" for r in replies if r.status_code == 412
    )
    after = operator.get(f"/api/v1/cases/{case['id']}").json()
    assert after["version"] == case["version"] + 1 and after["state"] == "filed"
    timeline = operator.get(f"/api/v1/cases/{case['id']}/timeline").json()
    assert [t["action"] for t in timeline] == ["report", "file"]


def test_fifty_writers_of_different_actions_never_both_win(world: World) -> None:
    """file and reject race from `reported`: exactly one lands, whichever it is."""
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(operator)
    etag = f'"{case["version"]}"'

    def send(i: int) -> httpx.Response:
        action, body = ("file", {}) if i % 2 else ("reject", {"reason": "重复"})
        return operator.post(
            f"/api/v1/cases/{case['id']}/actions/{action}", json=body, headers={"If-Match": etag}
        )

    statuses = Counter(r.status_code for r in all_at_once(WRITERS, send))
    assert statuses == {200: 1, 412: WRITERS - 1}, statuses
    after = operator.get(f"/api/v1/cases/{case['id']}").json()
    assert after["version"] == case["version"] + 1


def test_fifty_writers_with_if_match_star_serialise_without_errors(world: World) -> None:
    """`*` skips the version check; the row lock still serialises them, so the first file wins and
    the rest find the case no longer `reported` (409), never a 500."""
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(operator)
    url = f"/api/v1/cases/{case['id']}/actions/file"

    replies = all_at_once(
        WRITERS, lambda _i: operator.post(url, json={}, headers={"If-Match": "*"})
    )

    statuses = Counter(r.status_code for r in replies)
    assert statuses == {200: 1, 409: WRITERS - 1}, statuses
    assert operator.get(f"/api/v1/cases/{case['id']}").json()["version"] == case["version"] + 1


def test_an_action_without_if_match_is_428_and_changes_nothing(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(operator)
    r = operator.post(f"/api/v1/cases/{case['id']}/actions/file", json={})
    assert r.status_code == 428
    assert r.json()["error"]["code"] == "case.precondition_required"
    assert operator.get(f"/api/v1/cases/{case['id']}").json()["version"] == case["version"]


def _body(world: World, **overrides: Any) -> dict[str, Any]:
    grid = world.grids()[1]
    return {
        "category_code": "E0102",
        "title": "井盖缺失",
        "lng": grid.lng,
        "lat": grid.lat,
        **overrides,
    }


def test_fifty_concurrent_retries_of_one_idempotency_key_make_one_case(world: World) -> None:
    citizen = world.client("citizen05")
    key = uuid.uuid4().hex
    before = citizen.get("/api/v1/cases", params={"limit": 1}).json()["total"]

    replies = all_at_once(
        WRITERS,
        lambda _i: citizen.post(
            "/api/v1/cases", json=_body(world), headers={"Idempotency-Key": key}
        ),
    )

    statuses = Counter(r.status_code for r in replies)
    assert statuses == {201: WRITERS}, statuses
    assert len({r.json()["id"] for r in replies}) == 1
    assert sum(r.headers.get("Idempotency-Replayed") == "true" for r in replies) == WRITERS - 1
    assert citizen.get("/api/v1/cases", params={"limit": 1}).json()["total"] == before + 1


def test_the_same_idempotency_key_with_another_body_is_422(world: World) -> None:
    citizen = world.client("citizen06")
    key = uuid.uuid4().hex
    first = citizen.post("/api/v1/cases", json=_body(world), headers={"Idempotency-Key": key})
    assert first.status_code == 201
    other = citizen.post(
        "/api/v1/cases", json=_body(world, title="另一件事"), headers={"Idempotency-Key": key}
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency.key_reused"
