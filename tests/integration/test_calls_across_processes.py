"""Two API processes behind one load balancer: the commander's browser is connected to one, the
grid worker's phone to the other, and the call still rings, connects and carries its signals,
through the NATS bus's broadcast channel. Each process builds its own runtime, as `pingan serve`
does; they share the database and the bus."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pingan.adapters.bus.nats import JetStreamBus
from pingan.api.app import create_app
from pingan.api.runtime import Runtime
from tests.conftest import require_service
from tests.integration.conftest import World
from tests.integration.test_calls import _id, _next

NATS_URL = "nats://127.0.0.1:4222"


@pytest.fixture
def two_processes(world: World) -> Iterator[tuple[Runtime, Runtime]]:
    require_service("NATS JetStream", 4222, "PINGAN_REQUIRE_NATS")
    stream = f"T{uuid.uuid4().hex[:10].upper()}"
    subjects = f"{stream.lower()}.events"  # a stream of its own: no other stream's subjects
    settings = world.rt.settings.model_copy(
        update={"bus_url": NATS_URL, "bus_stream": stream, "bus_subjects": subjects}
    )
    runtimes = (Runtime.build(settings, world.clock), Runtime.build(settings, world.clock))
    try:
        yield runtimes
    finally:
        for rt in runtimes:
            rt.bus.close()
            rt.engine.dispose()
        cleanup = JetStreamBus(NATS_URL, stream=stream, subject_prefix=subjects)
        cleanup.delete_stream()
        cleanup.close()


def _client(world: World, rt: Runtime, username: str) -> TestClient:
    client = TestClient(create_app(runtime=rt, start_workers=False))
    client.headers["Authorization"] = f"Bearer {world.token(username)}"
    return client


def _call_state(ws: Any, state: str) -> dict[str, Any]:
    """The first update that shows the call in `state` (the ring reaches the host as well)."""
    for _ in range(10):
        call: dict[str, Any] = _next(ws, "call.update")["call"]
        if call["state"] == state:
            return call
    raise AssertionError(f"the call never became {state}")


def _eventually(check: Any, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "not seen in time"
        time.sleep(0.05)


def test_a_call_rings_and_connects_across_two_api_processes(
    world: World, two_processes: tuple[Runtime, Runtime]
) -> None:
    centre_side, field_side = two_processes
    grid = world.grids()[0]
    commander_name = f"cmd.{world.district().unit.code}"
    worker_name = f"gw.{grid.unit.code}"
    commander = _client(world, centre_side, commander_name)
    worker = _client(world, field_side, worker_name)
    case = world.report(world.client(worker_name), grid)
    gw_id = _id(world, worker_name)

    def worker_online() -> bool:
        contacts = commander.get(f"/api/v1/cases/{case['id']}/contacts").json()
        return any(c["user_id"] == gw_id and c["online"] for c in contacts)

    assert not worker_online()
    ws = f"/api/v1/ws?token={world.token(worker_name)}"
    with worker.websocket_connect(ws) as wws:
        _next(wws, "hello")
        _eventually(worker_online)  # connected to the other process, seen online from this one
        cws_url = f"/api/v1/ws?token={world.token(commander_name)}"
        with commander.websocket_connect(cws_url) as cws:
            _next(cws, "hello")
            r = commander.post("/api/v1/calls", json={"callee_id": gw_id, "case_id": case["id"]})
            assert r.status_code == 201, r.text
            call = r.json()
            assert _next(wws, "call.update")["call"]["id"] == call["id"]  # rang over there

            assert worker.post(f"/api/v1/calls/{call['id']}/accept").status_code == 200
            _call_state(cws, "active")  # heard back here

            offer = {"kind": "offer", "sdp": "v=0"}
            cws.send_json(
                {"type": "call.signal", "call_id": call["id"], "to": gw_id, "data": offer}
            )
            signal = _next(wws, "call.signal")
            assert signal["from"] == call["host_id"] and signal["data"] == offer

            assert worker.post(f"/api/v1/calls/{call['id']}/hangup").status_code == 200
            _call_state(cws, "ended")
