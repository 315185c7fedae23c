"""Patrols and grid workers' positions, on both databases."""

from __future__ import annotations

from pingan.domain.geo import Point, distance_m
from tests.integration.conftest import World


def _gw(grid: object) -> str:
    return f"gw.{grid.unit.code}"  # type: ignore[attr-defined]


def test_start_record_end_keeps_points_and_distance(world: World) -> None:
    grid = world.grids()[1]
    worker = world.client(_gw(grid))
    r = worker.post("/api/v1/patrols")
    assert r.status_code == 201, r.text
    patrol = r.json()
    assert patrol["points"] == 0 and patrol["ended_at"] is None

    a = (grid.lng, grid.lat)
    b = (grid.lng + 0.001, grid.lat)
    c = (grid.lng + 0.001, grid.lat + 0.001)
    r = worker.post(
        "/api/v1/me/positions",
        json={"points": [{"lng": a[0], "lat": a[1]}, {"lng": b[0], "lat": b[1], "accuracy_m": 8}]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    r = worker.post("/api/v1/me/positions", json={"points": [{"lng": c[0], "lat": c[1]}]})
    body = r.json()
    expected = distance_m(Point(*a), Point(*b)) + distance_m(Point(*b), Point(*c))
    assert body["patrol"]["points"] == 3
    assert abs(body["patrol"]["distance_m"] - expected) < 1.0

    r = worker.post(f"/api/v1/patrols/{patrol['id']}/end")
    assert r.status_code == 200, r.text
    assert r.json()["ended_at"] is not None
    assert worker.post(f"/api/v1/patrols/{patrol['id']}/end").status_code == 409
    mine = worker.get("/api/v1/patrols").json()
    assert mine[0]["id"] == patrol["id"] and mine[0]["points"] == 3


def test_gcj02_points_are_stored_as_wgs84_and_bad_points_refused(world: World) -> None:
    grid = world.grids()[2]
    worker = world.client(_gw(grid))
    bad = [
        {"lng": 200, "lat": 30},
        {"lng": grid.lng, "lat": grid.lat, "crs": "mars"},
        {"lng": grid.lng, "lat": grid.lat, "at": "2000-01-01T00:00:00Z"},
    ]
    for point in bad:
        r = worker.post("/api/v1/me/positions", json={"points": [point]})
        assert r.status_code == 422, r.text
    r = worker.post(
        "/api/v1/me/positions",
        json={"points": [{"lng": grid.lng + 0.005, "lat": grid.lat - 0.0025, "crs": "gcj02"}]},
    )
    assert r.status_code == 200 and r.json()["patrol"] is None
    operator = world.client(f"op.{world.town().unit.code}")
    seen = {w["username"]: w for w in operator.get("/api/v1/workers/positions").json()}
    here = seen[_gw(grid)]
    assert abs(here["lng"] - grid.lng) < 0.005 and here["patrolling"] is False


def test_one_open_patrol_per_worker(world: World) -> None:
    worker = world.client(_gw(world.grids()[3]))
    first = worker.post("/api/v1/patrols")
    assert first.status_code == 201
    again = worker.post("/api/v1/patrols")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "patrol.already_open"
    worker.post(f"/api/v1/patrols/{first.json()['id']}/end")
    assert worker.post("/api/v1/patrols").status_code == 201


def test_other_roles_may_not_patrol_nor_end_anothers_patrol(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    r = operator.post("/api/v1/patrols")
    assert r.status_code == 403 and r.json()["error"]["code"] == "patrol.not_permitted"
    assert (
        operator.post("/api/v1/me/positions", json={"points": [{"lng": 1, "lat": 1}]}).status_code
        == 403
    )
    citizen = world.client("citizen01")
    assert citizen.get("/api/v1/workers/positions").status_code == 403
    assert citizen.get("/api/v1/patrols").status_code == 403
    owner = world.client(_gw(world.grids(0, 1)[0]))
    patrol = owner.post("/api/v1/patrols").json()
    stranger = world.client(_gw(world.grids(0, 1)[1]))
    assert stranger.post(f"/api/v1/patrols/{patrol['id']}/end").status_code == 404
    assert stranger.get("/api/v1/workers/positions").status_code == 403
    owner.post(f"/api/v1/patrols/{patrol['id']}/end")


def test_a_town_operator_sees_only_their_towns_workers(world: World) -> None:
    here, there = world.grids()[0], world.grids(1)[0]
    for grid in (here, there):
        worker = world.client(_gw(grid))
        worker.post("/api/v1/patrols")
        r = worker.post(
            "/api/v1/me/positions", json={"points": [{"lng": grid.lng, "lat": grid.lat}]}
        )
        assert r.status_code == 200, r.text
    town_op = world.client(f"op.{world.town().unit.code}")
    names = {w["username"] for w in town_op.get("/api/v1/workers/positions").json()}
    assert _gw(here) in names and _gw(there) not in names
    patrols = town_op.get("/api/v1/patrols").json()
    assert patrols and all(p["grid_code"].startswith(world.town().unit.code) for p in patrols)
    other_op = world.client(f"op.{world.town(1).unit.code}")
    names = {w["username"] for w in other_op.get("/api/v1/workers/positions").json()}
    assert _gw(there) in names and _gw(here) not in names
    district_op = world.client(f"op.{world.district().unit.code}")
    names = {w["username"] for w in district_op.get("/api/v1/workers/positions").json()}
    assert {_gw(here), _gw(there)} <= names
