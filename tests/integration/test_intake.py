"""Reports coming in: idempotent retries, three datums, and bad input refused cleanly."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from pingan.domain.geo import gcj02_to_bd09, wgs84_to_gcj02
from pingan.services import intake
from tests.integration.conftest import World


def _body(world: World, **overrides: object) -> dict[str, object]:
    grid = world.grids()[0]
    return {
        "category_code": "E0505",
        "title": "违停",
        "lng": grid.lng,
        "lat": grid.lat,
        **overrides,
    }


def test_a_retry_with_the_same_idempotency_key_returns_the_first_case(world: World) -> None:
    client = world.client("citizen02")
    body = _body(world)
    first = client.post("/api/v1/cases", json=body, headers={"Idempotency-Key": "k-retry-1"})
    again = client.post("/api/v1/cases", json=body, headers={"Idempotency-Key": "k-retry-1"})
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotency-Replayed") == "true"


def test_the_same_key_with_a_different_body_is_refused(world: World) -> None:
    client = world.client("citizen02")
    client.post("/api/v1/cases", json=_body(world), headers={"Idempotency-Key": "k-mismatch"})
    r = client.post(
        "/api/v1/cases", json=_body(world, title="别的"), headers={"Idempotency-Key": "k-mismatch"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency.key_reused"


def test_concurrent_retries_of_one_key_make_exactly_one_case(world: World) -> None:
    client = world.client("citizen03")
    body = _body(world, title="并发重试")

    def post(_: int) -> int:
        r = client.post("/api/v1/cases", json=body, headers={"Idempotency-Key": "k-concurrent"})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    with ThreadPoolExecutor(16) as pool:
        ids = set(pool.map(post, range(32)))
    assert len(ids) == 1


def test_gcj02_and_bd09_positions_are_converted_and_placed_in_the_right_grid(world: World) -> None:
    grid = world.grids()[2]
    client = world.client("citizen04")
    gcj = wgs84_to_gcj02(grid.lng, grid.lat)
    bd = gcj02_to_bd09(*gcj)
    for crs, (lng, lat) in (("gcj02", gcj), ("bd09", bd)):
        r = client.post("/api/v1/cases", json=_body(world, lng=lng, lat=lat, crs=crs))
        assert r.status_code == 201, r.text
        assert r.json()["grid_code"] == grid.unit.code
        stored = client.get(f"/api/v1/cases/{r.json()['id']}").json()
        assert abs(stored["lng"] - grid.lng) < 1e-6 and abs(stored["lat"] - grid.lat) < 1e-6
    as_gcj = client.get(f"/api/v1/cases/{r.json()['id']}", params={"crs": "gcj02"}).json()
    assert abs(as_gcj["lng"] - gcj[0]) < 1e-6


def test_swapped_coordinates_are_named_in_the_callers_language(world: World) -> None:
    grid = world.grids()[0]
    body = _body(world, lng=grid.lat, lat=grid.lng)
    en = world.client("citizen05", lang="en").post("/api/v1/cases", json=body)
    zh = world.client("citizen05", lang="zh-CN").post("/api/v1/cases", json=body)
    assert en.status_code == zh.status_code == 422
    assert en.json()["error"]["code"] == "geo.swapped"
    assert "swapped" in en.json()["error"]["message"]
    assert "颠倒" in zh.json()["error"]["message"]


def test_a_point_outside_every_grid_is_refused(world: World) -> None:
    r = world.client("citizen05").post("/api/v1/cases", json=_body(world, lng=116.39, lat=39.9))
    assert r.status_code == 422 and r.json()["error"]["code"] == "geo.outside_grids"


def test_malformed_json_unknown_fields_and_nan_get_clear_errors(world: World) -> None:
    client = world.client("citizen05")
    headers = {"Content-Type": "application/json"}
    broken = client.post("/api/v1/cases", content=b'{"title": ', headers=headers)
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "request.malformed_json"
    unknown = client.post("/api/v1/cases", json=_body(world, secret_field=1))
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "request.invalid"
    nan = client.post(
        "/api/v1/cases",
        content=json.dumps(_body(world, lng=float("nan"))).encode(),
        headers=headers,
    )
    assert nan.status_code == 422
    out_of_range = client.post("/api/v1/cases", json=_body(world, lng=500.0, lat=30.0))
    assert (
        out_of_range.status_code == 422
        and out_of_range.json()["error"]["code"] == "geo.out_of_range"
    )
    bad_category = client.post("/api/v1/cases", json=_body(world, category_code="X9999"))
    assert bad_category.json()["error"]["code"] == "category.unknown"
    bad_utf8 = client.post("/api/v1/cases", content=b'{"title": "\xff\xfe"}', headers=headers)
    assert bad_utf8.status_code in (400, 422)


def test_oversize_bodies_are_refused_before_they_are_read(world: World) -> None:
    client = world.client("citizen05")
    r = client.post("/api/v1/cases", json=_body(world, description="x" * 2_000_000))
    assert r.status_code == 413 and r.json()["error"]["code"] == "request.too_large"


def test_nothing_half_written_when_a_report_is_refused(world: World) -> None:
    operator = world.client("op.330400")
    before = operator.get("/api/v1/cases", params={"limit": 1}).json()["total"]
    photo = world.photo(world.client("citizen06"))
    # someone else's photo: refused after the case row was written, so everything must roll back
    r = world.client("citizen07").post("/api/v1/cases", json=_body(world, photo_ids=[photo]))
    assert r.status_code == 422 and r.json()["error"]["code"] == "attachment.unknown"
    assert operator.get("/api/v1/cases", params={"limit": 1}).json()["total"] == before


def test_uploads_are_checked_by_content_not_by_name(world: World) -> None:
    client = world.client("citizen05")
    fake = client.post(
        "/api/v1/attachments",
        files={"file": ("evil.png", b"<?php system($_GET['c']); ?>", "image/png")},
    )
    assert fake.status_code == 422 and fake.json()["error"]["code"] == "attachment.bad_type"


def test_lists_filter_by_state_category_unit_and_bbox(world: World) -> None:
    operator = world.client("op.330400")
    grid = world.grids()[3]
    made = world.report(world.client("citizen08"), grid, category_code="S0202", title="燃气隐患")
    page = operator.get(
        "/api/v1/cases",
        params={
            "state": "reported",
            "category": "S02",
            "unit": grid.unit.path,
            "bbox": f"{grid.lng - 0.001},{grid.lat - 0.001},{grid.lng + 0.001},{grid.lat + 0.001}",
        },
    ).json()
    assert made["id"] in [c["id"] for c in page["items"]]
    assert all(
        c["category_code"].startswith("S02") and c["state"] == "reported" for c in page["items"]
    )
    other_unit = operator.get(
        "/api/v1/cases", params={"unit": world.town(1).unit.path, "q": "燃气隐患"}
    )
    assert made["id"] not in [c["id"] for c in other_unit.json()["items"]]


def test_a_tracking_number_already_taken_is_drawn_again_and_the_report_still_lands(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random numbers clash (about three times in 10,000 reports a day); a clash must cost a
    second draw, not the citizen's report."""
    client = world.client("citizen02")
    taken = client.post("/api/v1/cases", json=_body(world)).json()["tracking_no"]
    draws = iter([taken, taken, "20990101ABCDEF"])
    monkeypatch.setattr(intake, "tracking_no", lambda now: next(draws))
    r = client.post("/api/v1/cases", json=_body(world, title="同号"))
    assert r.status_code == 201, r.text
    assert r.json()["tracking_no"] == "20990101ABCDEF"
    assert client.get(f"/api/v1/cases/by-tracking-no/{taken}").json()["title"] == "违停"

    # every draw taken: a clear conflict to retry, and nothing written
    before = client.get("/api/v1/cases", params={"limit": 1}).json()["total"]
    monkeypatch.setattr(intake, "tracking_no", lambda now: taken)
    r = client.post("/api/v1/cases", json=_body(world, title="无号"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.tracking_no_exhausted"
    assert client.get("/api/v1/cases", params={"limit": 1}).json()["total"] == before
