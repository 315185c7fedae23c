"""The 12345 hotline desk on both databases: a call becomes a case with its caller sealed and
shown masked; a retried call makes no second case; a caller's earlier calls are found by number;
a repeat call joins the open case; a follow-up call rates the closed case or counts an attempt."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pingan.adapters.db.hotline_tables import hotline_calls
from tests.integration.conftest import World

PHONE = "0573-8201 2345"


def _call(world: World, grid: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "caller_phone": PHONE,
        "caller_name": "王建国",
        "account": "小区门口的垃圾三天没人清运了。味道很大，麻烦尽快处理。",
        "category_code": "E0102",
        "lng": grid.lng,
        "lat": grid.lat,
        **overrides,
    }


def _close(world: World, operator: Any, case: dict[str, Any], grid: Any) -> dict[str, Any]:
    worker = world.client(f"gw.{grid.unit.code}")
    case = world.act(operator, case, "file").json()
    case = world.act(operator, case, "dispatch").json()
    handler = world.client(f"h.{case['department_id']}")
    case = world.act(handler, case, "accept").json()
    case = world.act(
        handler, case, "handle", note="已清运", photo_ids=[world.photo(handler)]
    ).json()
    case = world.act(
        worker, case, "verify", passed=True, note="现场已干净", photo_ids=[world.photo(worker)]
    ).json()
    closed = world.act(operator, case, "close").json()
    assert closed["state"] == "closed"
    return dict(closed)


def test_a_call_is_filed_with_its_caller_sealed_and_masked_and_a_retry_makes_no_second_case(
    world: World,
) -> None:
    grid = world.grids()[0]
    operator = world.client(f"op.{world.town().unit.code}")
    key = {"Idempotency-Key": "hotline-call-1"}
    r = operator.post("/api/v1/hotline/calls", json=_call(world, grid), headers=key)
    assert r.status_code == 201, r.text
    taken = r.json()
    case = taken["case"]
    assert case["title"] == "小区门口的垃圾三天没人清运了"
    assert taken["repeat"] is False
    assert taken["caller"] == {
        "name": "王**",
        "phone": "0573****2345",
        "id_number": None,
        "masked": True,
    }
    assert operator.get(f"/api/v1/cases/{case['id']}/contact").json()["phone"] == "0573****2345"
    with world.rt.uows(readonly=True) as uow:
        assert uow.cases.get(case["id"]).channel == "hotline"
        row = uow.connection.execute(
            select(hotline_calls).where(hotline_calls.c.case_id == case["id"])
        ).one()
    assert "82012345" not in row.phone_enc and "王建国" not in (row.name_enc or "")

    again = operator.post("/api/v1/hotline/calls", json=_call(world, grid), headers=key)
    assert again.status_code == 200 and again.json()["case"]["id"] == case["id"]
    other = operator.post(
        "/api/v1/hotline/calls", json=_call(world, grid, account="另一件事"), headers=key
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency.key_reused"


def test_a_repeat_call_joins_the_open_case_and_the_caller_history_shows_both(
    world: World,
) -> None:
    grid = world.grids()[1]
    operator = world.client(f"op.{world.town().unit.code}")
    phone = "13905731234"
    first = operator.post(
        "/api/v1/hotline/calls", json=_call(world, grid, caller_phone=phone)
    ).json()
    r = operator.post(
        "/api/v1/hotline/calls",
        json=_call(world, grid, caller_phone="+86 139 0573 1234", duplicate_of=first["case"]["id"]),
    )
    assert r.status_code == 201, r.text
    assert r.json()["repeat"] is True and r.json()["case"]["id"] == first["case"]["id"]

    history = operator.get("/api/v1/hotline/callers", params={"phone": "139-0573-1234"}).json()
    assert history["phone_masked"] == "139****1234"
    assert [c["repeat"] for c in history["calls"]] == [True, False]
    assert {c["case_id"] for c in history["calls"]} == {first["case"]["id"]}

    other_town = world.client(f"op.{world.town(town_index=1).unit.code}")
    assert other_town.get("/api/v1/hotline/callers", params={"phone": phone}).json()["calls"] == []
    worker = world.client(f"gw.{grid.unit.code}")
    assert worker.get("/api/v1/hotline/callers", params={"phone": phone}).status_code == 403
    bad = operator.get("/api/v1/hotline/callers", params={"phone": "12345"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "phone.format"


def test_follow_up_calls_count_attempts_and_a_reached_caller_rates_the_case(
    world: World,
) -> None:
    grid = world.grids()[2]
    operator = world.client(f"op.{world.town().unit.code}")
    taken = operator.post(
        "/api/v1/hotline/calls", json=_call(world, grid, caller_phone="13800571111")
    ).json()
    case_id = taken["case"]["id"]
    early = operator.post(
        "/api/v1/hotline/followups", json={"case_id": case_id, "outcome": "unreachable"}
    )
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "hotline.not_awaiting_followup"

    _close(world, operator, taken["case"], grid)
    due = {d["case_id"]: d for d in operator.get("/api/v1/hotline/followups").json()}
    assert due[case_id]["phone_masked"] == "138****1111" and due[case_id]["attempts"] == 0

    r = operator.post(
        "/api/v1/hotline/followups", json={"case_id": case_id, "outcome": "unreachable"}
    )
    assert r.status_code == 200 and r.json()["state"] == "closed"
    due = {d["case_id"]: d for d in operator.get("/api/v1/hotline/followups").json()}
    assert due[case_id]["attempts"] == 1

    r = operator.post(
        "/api/v1/hotline/followups",
        json={"case_id": case_id, "outcome": "reached", "satisfaction": 4, "note": "基本满意"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"case_id": case_id, "state": "evaluated", "satisfaction": 4}
    assert case_id not in {d["case_id"] for d in operator.get("/api/v1/hotline/followups").json()}
    repeat = operator.post(
        "/api/v1/hotline/calls",
        json=_call(world, grid, caller_phone="13800571111", duplicate_of=case_id),
    )
    assert repeat.status_code == 409 and repeat.json()["error"]["code"] == "hotline.case_not_open"


def test_only_centre_staff_take_calls(world: World) -> None:
    grid = world.grids()[0]
    for username in (f"gw.{grid.unit.code}", "citizen01"):
        r = world.client(username).post("/api/v1/hotline/calls", json=_call(world, grid))
        assert r.status_code == 403, username
