"""Events: written with the change, relayed at least once, consumed once, pushed only to those who
may see them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from pingan.adapters.db.tables import outbox
from pingan.domain.access import SYSTEM_ACTOR
from pingan.domain.events import DomainEvent
from pingan.services import notifications
from tests.integration.conftest import World


def _messages(ws: Any, until_case: int) -> list[dict[str, Any]]:
    """Read pushed messages until one about `until_case` arrives."""
    seen = []
    while True:
        msg = ws.receive_json()
        seen.append(msg)
        if msg.get("case_id") == until_case:
            return seen


def test_every_transition_leaves_its_event_in_the_outbox_in_the_same_transaction(
    world: World,
) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.act(operator, world.report(operator), "file").json()
    with world.rt.uows(SYSTEM_ACTOR, readonly=True) as uow:
        pending = [e for _, e in uow.outbox.pending(100_000) if e.aggregate_id == case["id"]]
    assert [e.type for e in pending] == ["case.reported", "case.filed"]
    assert world.rt.relay.drain() >= 2
    with world.rt.uows(SYSTEM_ACTOR, readonly=True) as uow:
        assert not [e for _, e in uow.outbox.pending(100_000) if e.aggregate_id == case["id"]]


def test_a_town_centre_is_pushed_its_own_towns_cases_and_no_one_elses(world: World) -> None:
    town0, town1 = world.town(0), world.town(1)
    world.rt.relay.drain()
    with (
        world.client().websocket_connect(
            f"/api/v1/ws?token={world.token(f'op.{town0.unit.code}')}"
        ) as ws0,
        world.client().websocket_connect(
            f"/api/v1/ws?token={world.token(f'op.{town1.unit.code}')}"
        ) as ws1,
    ):
        assert ws0.receive_json()["type"] == "hello" and ws1.receive_json()["type"] == "hello"
        here = world.report(world.client("citizen21"), world.grids(0)[0])
        there = world.report(world.client("citizen21"), world.grids(1)[0])
        world.rt.relay.drain()
        got0 = _messages(ws0, here["id"])
        got1 = _messages(ws1, there["id"])
    assert (
        got0[-1]["type"] == "case.reported"
        and got0[-1]["payload"]["tracking_no"] == here["tracking_no"]
    )
    assert "reporter_id" not in got0[-1]["payload"]
    assert all(m["case_id"] != here["id"] for m in got1)  # town 1 never heard of town 0's case


def test_a_websocket_without_a_valid_token_is_closed(world: World) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        world.client().websocket_connect("/api/v1/ws?token=not-a-token") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4401


def test_dispatch_notifies_the_department_exactly_once_even_if_redelivered(world: World) -> None:
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.act(operator, world.report(operator), "file").json()
    case = world.act(operator, case, "dispatch").json()
    world.rt.relay.drain()
    handler = world.client(f"h.{case['department_id']}")
    tasks = [t for t in handler.get("/api/v1/me/tasks").json() if t["case_id"] == case["id"]]
    assert [t["kind"] for t in tasks] == ["to_accept"]
    # the same event delivered again (a relay crash before marking it published) changes nothing
    with world.rt.uows(SYSTEM_ACTOR, readonly=True) as uow:
        row = uow.connection.execute(
            select(outbox).where(
                outbox.c.aggregate_id == case["id"], outbox.c.type == "case.dispatched"
            )
        ).one()
    event = DomainEvent(
        row.type, row.aggregate_id, row.unit_path, row.occurred_at, row.payload, row.event_id
    )
    assert notifications.handle(world.rt.uows, world.rt.env, event) is False
    again = [t for t in handler.get("/api/v1/me/tasks").json() if t["case_id"] == case["id"]]
    assert len(again) == 1
