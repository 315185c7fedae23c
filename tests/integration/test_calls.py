"""Video calls through the API and the WebSocket, on both databases: ringing, answering,
relaying WebRTC signals only between joined parties, the call log, and who may call whom."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event
from starlette.testclient import WebSocketTestSession

from pingan.services import calls as call_service
from tests.integration.conftest import World


def _id(world: World, username: str) -> int:
    with world.rt.uows(readonly=True) as uow:
        return int(uow.users.by_username(username).id)


def _next(ws: WebSocketTestSession, kind: str) -> dict[str, Any]:
    for _ in range(50):
        msg: dict[str, Any] = ws.receive_json()
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind}")


def _ws(world: World, username: str, client: Any) -> Any:
    return client.websocket_connect(f"/api/v1/ws?token={world.token(username)}")


def test_call_rings_connects_relays_signals_and_is_logged_on_the_case(world: World) -> None:
    grid = world.grids()[0]
    district = world.district().unit.code
    gw_name = f"gw.{grid.unit.code}"
    commander = world.client(f"cmd.{district}")
    worker = world.client(gw_name)
    case = world.report(worker, grid)
    gw_id = _id(world, gw_name)

    contacts = commander.get(f"/api/v1/cases/{case['id']}/contacts").json()
    assert gw_id in {c["user_id"] for c in contacts}

    with _ws(world, f"cmd.{district}", commander) as cws, _ws(world, gw_name, worker) as wws:
        _next(cws, "hello"), _next(wws, "hello")
        r = commander.post("/api/v1/calls", json={"callee_id": gw_id, "case_id": case["id"]})
        assert r.status_code == 201, r.text
        call = r.json()
        assert call["state"] == "ringing"
        ring = _next(wws, "call.update")["call"]
        assert ring["id"] == call["id"]
        assert {p["user_id"]: p["state"] for p in ring["parties"]}[gw_id] == "invited"

        # before the worker has joined, signals to them are refused
        cws.send_json(
            {
                "type": "call.signal",
                "call_id": call["id"],
                "to": gw_id,
                "data": {"kind": "offer", "sdp": "v=0"},
            }
        )
        assert _next(cws, "call.error")["code"] == "call.not_joined"

        world.clock.advance(seconds=3)
        r = worker.post(f"/api/v1/calls/{call['id']}/accept")
        assert r.status_code == 200 and r.json()["state"] == "active"
        pushed = _next(cws, "call.update")["call"]
        assert pushed["state"] == "active"
        # each change has a higher version, so a client can drop a reply that arrives after a push
        assert pushed["version"] == r.json()["version"] == call["version"] + 1

        cws.send_json(
            {
                "type": "call.signal",
                "call_id": call["id"],
                "to": gw_id,
                "data": {"kind": "offer", "sdp": "v=0"},
            }
        )
        signal = _next(wws, "call.signal")
        assert signal["from"] == call["host_id"] and signal["data"]["sdp"] == "v=0"
        cws.send_json(
            {"type": "call.signal", "call_id": call["id"], "to": gw_id, "data": {"kind": "rm -rf"}}
        )
        assert _next(cws, "call.error")["code"] == "call.bad_signal"

        world.clock.advance(seconds=45)
        r = worker.post(f"/api/v1/calls/{call['id']}/hangup")
        assert r.json()["outcome"] == "completed" and r.json()["duration_s"] == 45
        assert r.json()["version"] == call["version"] + 2
        assert _next(cws, "call.update")["call"]["state"] == "ended"

    log = commander.get("/api/v1/calls", params={"case_id": case["id"]}).json()
    assert [c["id"] for c in log] == [call["id"]]
    history = worker.get("/api/v1/calls").json()
    assert history[0]["id"] == call["id"] and history[0]["outcome"] == "completed"
    assert commander.get("/api/v1/calls", params={"user_id": gw_id}).json()[0]["id"] == call["id"]


def test_refusal_and_timeout_end_the_call_with_their_outcome(world: World) -> None:
    grid = world.grids()[1]
    district = world.district().unit.code
    commander = world.client(f"cmd.{district}")
    gw_name = f"gw.{grid.unit.code}"
    worker = world.client(gw_name)
    gw_id = _id(world, gw_name)

    refused = commander.post("/api/v1/calls", json={"callee_id": gw_id}).json()
    r = worker.post(f"/api/v1/calls/{refused['id']}/refuse")
    assert r.json()["outcome"] == "refused"
    assert worker.post(f"/api/v1/calls/{refused['id']}/accept").status_code == 409

    missed = commander.post("/api/v1/calls", json={"callee_id": gw_id}).json()
    with world.rt.uows() as uow:
        assert (
            call_service.expire(uow, missed["id"], world.clock.now, timedelta(seconds=30)) is None
        )
    later = world.clock.now + timedelta(seconds=31)
    with world.rt.uows() as uow:
        view = call_service.expire(uow, missed["id"], later, timedelta(seconds=30))
    assert view is not None and view.call.outcome is not None
    assert commander.get(f"/api/v1/calls/{missed['id']}").json()["outcome"] == "missed"


def test_nobody_outside_the_callers_jurisdiction_can_be_called_nor_see_the_call(
    world: World,
) -> None:
    town_op = world.client(f"op.{world.town().unit.code}")
    other_grid = world.grids(town_index=1)[0]
    far_id = _id(world, f"gw.{other_grid.unit.code}")
    r = town_op.post("/api/v1/calls", json={"callee_id": far_id})
    assert r.status_code == 403 and r.json()["error"]["code"] == "call.not_permitted"

    worker = world.client(f"gw.{world.grids()[2].unit.code}")
    near_id = _id(world, f"gw.{world.grids()[3].unit.code}")
    r = worker.post("/api/v1/calls", json={"callee_id": near_id})
    assert r.status_code == 403

    call = town_op.post(
        "/api/v1/calls", json={"callee_id": _id(world, f"gw.{world.grids()[2].unit.code}")}
    ).json()
    outsider = world.client(f"gw.{world.grids()[3].unit.code}")
    assert outsider.get(f"/api/v1/calls/{call['id']}").status_code == 404
    assert outsider.post(f"/api/v1/calls/{call['id']}/accept").status_code == 404
    other_op = world.client(f"op.{world.town(town_index=1).unit.code}")
    assert other_op.get(f"/api/v1/calls/{call['id']}").status_code == 404
    town_op.post(f"/api/v1/calls/{call['id']}/hangup")


def test_host_adds_a_handler_and_keeps_a_recording_on_the_case(world: World) -> None:
    grid = world.grids(town_index=1)[1]
    district = world.district().unit.code
    commander = world.client(f"cmd.{district}")
    gw_name = f"gw.{grid.unit.code}"
    worker = world.client(gw_name)
    case = world.report(worker, grid)
    call = commander.post(
        "/api/v1/calls", json={"callee_id": _id(world, gw_name), "case_id": case["id"]}
    ).json()
    worker.post(f"/api/v1/calls/{call['id']}/accept")
    handler_name = f"h.{district}-cgj"
    handler_id = _id(world, handler_name)
    r = worker.post(f"/api/v1/calls/{call['id']}/invite", json={"user_id": handler_id})
    assert r.status_code == 403
    r = commander.post(f"/api/v1/calls/{call['id']}/invite", json={"user_id": handler_id})
    assert r.status_code == 200, r.text
    world.client(handler_name).post(f"/api/v1/calls/{call['id']}/accept")
    assert (
        len(
            [
                p
                for p in commander.get(f"/api/v1/calls/{call['id']}").json()["parties"]
                if p["state"] == "joined"
            ]
        )
        == 3
    )

    not_video = commander.post(
        f"/api/v1/calls/{call['id']}/recording", files={"file": ("x.webm", b"hello", "video/webm")}
    )
    assert not_video.status_code == 422
    webm = b"\x1a\x45\xdf\xa3" + b"\x00" * 64
    r = commander.post(
        f"/api/v1/calls/{call['id']}/recording", files={"file": ("call.webm", webm, "video/webm")}
    )
    assert r.status_code == 200, r.text
    recording = r.json()["recording_id"]
    got = commander.get(f"/api/v1/attachments/{recording}")
    assert got.status_code == 200 and got.content == webm
    assert got.headers["content-type"] == "video/webm"
    commander.post(f"/api/v1/calls/{call['id']}/hangup")


def test_the_call_log_reads_a_long_page_in_as_many_queries_as_a_short_one(world: World) -> None:
    """The parties and names of a page of calls are read together, not call by call (N+1)."""
    grid = world.grids(town_index=1)[2]
    district = world.district().unit.code
    commander_name, gw_name, handler_name = (
        f"cmd.{district}",
        f"gw.{grid.unit.code}",
        (f"h.{district}-cgj"),
    )
    commander = world.client(commander_name)
    case = world.report(world.client(gw_name), grid)
    with world.rt.uows(readonly=True) as uow:
        host = uow.users.by_username(commander_name).actor()  # type: ignore[union-attr]
    for n in range(12):
        with world.rt.uows(host) as uow:
            view = call_service.place(uow, host, _id(world, gw_name), world.clock.now, case["id"])
        if n % 2:
            with world.rt.uows(host) as uow:
                call_service.invite(
                    uow, host, view.call.id, _id(world, handler_name), world.clock.now
                )
        with world.rt.uows(host) as uow:
            call_service.hang_up(uow, host, view.call.id, world.clock.now)

    def statements_for(limit: int) -> int:
        seen: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        event.listen(world.rt.engine, "before_cursor_execute", count)
        try:
            r = commander.get("/api/v1/calls", params={"case_id": case["id"], "limit": limit})
        finally:
            event.remove(world.rt.engine, "before_cursor_execute", count)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page) == limit
        assert all(c["host_name"] and all(p["display_name"] for p in c["parties"]) for c in page)
        return len(seen)

    assert statements_for(12) == statements_for(2)
