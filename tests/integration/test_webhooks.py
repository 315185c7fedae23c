"""Departmental systems over signed webhooks, on SQLite and PostgreSQL, against a real HTTP
receiver: cases go out to the department's system, results come back in, forgeries and replays
are refused, and a receiver that is away gets everything once it is back."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from pingan.adapters.db.webhook_tables import webhook_nonces
from pingan.adapters.webhook_sender import WebhookSender
from pingan.demo.photos import striped_png
from pingan.domain.webhooks import RetryPolicy, sign
from pingan.services import webhooks
from tests.integration.conftest import World
from tests.integration.webhook_receiver import Receiver

POLICY = RetryPolicy(max_attempts=3, base_s=10, cap_s=60)


@pytest.fixture
def sender(world: World) -> Iterator[WebhookSender]:
    s = WebhookSender(world.rt.uows, world.rt.env, POLICY, timeout_s=3, jitter=lambda: 1.0)
    yield s
    s.stop()


@pytest.fixture
def receiver(world: World) -> Iterator[Receiver]:
    r = Receiver(world.clock).start()
    yield r
    r.stop()


@pytest.fixture
def admin(world: World) -> Any:
    return world.client("admin")


def _filed(world: World, category: str = "E0102") -> tuple[dict[str, Any], str]:
    """A filed case and the department routing would send it to."""
    operator = world.client(f"op.{world.town().unit.code}")
    case = world.report(world.client("citizen01"), category_code=category)
    case = world.act(operator, case, "file").json()
    dept = operator.get(f"/api/v1/cases/{case['id']}/dispatch-suggestion").json()
    return case, str(dept["department_id"])


def _dispatch(world: World, case: dict[str, Any], department_id: str) -> dict[str, Any]:
    operator = world.client(f"op.{world.town().unit.code}")
    r = world.act(operator, case, "dispatch", department_id=department_id)
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture
def subscribed(
    world: World, admin: Any, receiver: Receiver
) -> Iterator[tuple[dict[str, Any], str]]:
    """The urban-management office of the test town, subscribed with the receiver's URL."""
    _case, dept = _filed(world)
    world.rt.relay.drain()  # what happened before belongs to earlier subscriptions
    r = admin.post("/api/v1/webhooks", json={"department_id": dept, "url": receiver.url})
    assert r.status_code == 201, r.text
    sub = r.json()
    receiver.secret = sub["secret"]
    yield sub, dept
    world.rt.relay.drain()
    admin.delete(f"/api/v1/webhooks/{sub['id']}")


def _post_result(
    world: World,
    sub: dict[str, Any],
    body: dict[str, Any],
    *,
    delivery_id: str | None = None,
    secret: str | None = None,
    ts: int | None = None,
    raw: bytes | None = None,
) -> Any:
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    ts = int(world.clock.now.timestamp()) if ts is None else ts
    headers = {
        "Content-Type": "application/json",
        "X-Pingan-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Pingan-Timestamp": str(ts),
        "X-Pingan-Signature": sign(secret or sub["secret"], ts, data),
    }
    return world.client().post(f"/api/v1/hooks/{sub['id']}/results", content=data, headers=headers)


def _case(world: World, case_id: int) -> dict[str, Any]:
    operator = world.client(f"op.{world.town().unit.code}")
    return dict(operator.get(f"/api/v1/cases/{case_id}").json())


def _mine(admin: Any, sub: dict[str, Any], status: str | None = None) -> list[dict[str, Any]]:
    query = f"?status={status}" if status else ""
    r = admin.get(f"/api/v1/webhooks/deliveries{query}")
    assert r.status_code == 200, r.text
    return [d for d in r.json() if d["subscription_id"] == sub["id"]]


def test_a_dispatched_case_is_delivered_signed_to_the_departments_system(
    world: World,
    admin: Any,
    receiver: Receiver,
    sender: WebhookSender,
    subscribed: tuple[dict[str, Any], str],
) -> None:
    sub, dept = subscribed
    assert sub["secret"].startswith("whsec_")
    assert "secret" not in admin.get("/api/v1/webhooks").json()[0]  # shown once only
    case, _ = _filed(world)
    case = _dispatch(world, case, dept)
    world.rt.relay.drain()
    sender.run_once()

    assert receiver.rejected == []
    [got] = [d for d in receiver.accepted if d["case"]["id"] == case["id"]]
    assert got["event"] == "case.dispatched"
    assert got["department_id"] == dept
    assert got["case"]["title"] == case["title"] and got["case"]["state"] == "dispatched"
    assert got["_headers"]["x-pingan-delivery"] == got["id"]
    assert got["_headers"]["x-pingan-event"] == "case.dispatched"
    assert got["_headers"]["x-pingan-signature"].startswith("sha256=")
    [delivery] = [d for d in _mine(admin, sub) if d["id"] == got["id"]]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1


def test_the_departments_system_accepts_and_handles_with_a_photo_and_the_timeline_says_so(
    world: World, subscribed: tuple[dict[str, Any], str]
) -> None:
    sub, dept = subscribed
    case, _ = _filed(world)
    case = _dispatch(world, case, dept)

    r = _post_result(world, sub, {"case_id": case["id"], "action": "accept"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "accepted"
    photo = base64.b64encode(striped_png()).decode()
    r = _post_result(
        world,
        sub,
        {
            "case_id": case["id"],
            "action": "handle",
            "note": "已清运",
            "photos": [{"filename": "after.png", "data": photo}],
        },
    )
    assert r.status_code == 200, r.text
    after = _case(world, case["id"])
    assert after["state"] == "handled" and len(after["photo_ids"]) == 1

    operator = world.client(f"op.{world.town().unit.code}")
    timeline = operator.get(f"/api/v1/cases/{case['id']}/timeline").json()
    accept, handle = timeline[-2], timeline[-1]
    assert (accept["action"], handle["action"]) == ("accept", "handle")
    for entry in (accept, handle):
        assert entry["actor_role"] == "handler"
        assert entry["data"]["via"] == "webhook"
        assert entry["data"]["subscription_id"] == sub["id"]
    assert handle["note"] == "已清运"


def test_a_result_with_a_bad_or_missing_signature_is_refused_and_changes_nothing(
    world: World, subscribed: tuple[dict[str, Any], str]
) -> None:
    sub, dept = subscribed
    case, _ = _filed(world)
    case = _dispatch(world, case, dept)
    body = {"case_id": case["id"], "action": "accept"}

    r = _post_result(world, sub, body, secret="whsec_guessed")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "webhook.bad_signature"
    signed = json.dumps(body).encode()
    tampered = signed.replace(b"accept", b"return")
    ts = int(world.clock.now.timestamp())
    r = world.client().post(
        f"/api/v1/hooks/{sub['id']}/results",
        content=tampered,
        headers={
            "X-Pingan-Delivery": "d-1",
            "X-Pingan-Timestamp": str(ts),
            "X-Pingan-Signature": sign(sub["secret"], ts, signed),
        },
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "webhook.bad_signature"
    r = world.client().post(f"/api/v1/hooks/{sub['id']}/results", content=signed)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "webhook.signature_missing"
    assert _case(world, case["id"])["version"] == case["version"]


def test_a_result_signed_outside_the_replay_window_is_refused(
    world: World, subscribed: tuple[dict[str, Any], str]
) -> None:
    sub, dept = subscribed
    case, _ = _filed(world)
    case = _dispatch(world, case, dept)
    old = int(world.clock.now.timestamp()) - 301
    r = _post_result(world, sub, {"case_id": case["id"], "action": "accept"}, ts=old)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "webhook.stale_timestamp"
    assert _case(world, case["id"])["state"] == "dispatched"


def test_a_replayed_result_is_refused_even_when_re_signed(
    world: World, subscribed: tuple[dict[str, Any], str]
) -> None:
    sub, dept = subscribed
    case, _ = _filed(world)
    case = _dispatch(world, case, dept)
    body = {"case_id": case["id"], "action": "accept"}
    assert _post_result(world, sub, body, delivery_id="dept-42").status_code == 200
    version = _case(world, case["id"])["version"]

    r = _post_result(world, sub, body, delivery_id="dept-42")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "webhook.replayed"
    world.clock.advance(seconds=30)
    r = _post_result(world, sub, body, delivery_id="dept-42")
    assert r.status_code == 409
    assert _case(world, case["id"])["version"] == version


def test_an_illegal_action_from_the_departments_system_gets_409_and_changes_nothing(
    world: World, subscribed: tuple[dict[str, Any], str]
) -> None:
    sub, dept = subscribed
    case, _ = _filed(world)
    case = _dispatch(world, case, dept)
    photo = base64.b64encode(striped_png()).decode()
    body = {"case_id": case["id"], "action": "handle", "note": "x", "photos": [{"data": photo}]}
    r = _post_result(world, sub, body, delivery_id="early-handle")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "case.illegal_transition"
    assert _case(world, case["id"])["version"] == case["version"]
    r = _post_result(world, sub, {"case_id": case["id"], "action": "verify"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "webhook.unsupported_action"
    # the refused request stored no nonce: corrected, the same delivery id goes through
    r = _post_result(
        world, sub, {"case_id": case["id"], "action": "accept"}, delivery_id="early-handle"
    )
    assert r.status_code == 200


def test_a_case_not_dispatched_to_the_department_does_not_exist_for_its_system(
    world: World, subscribed: tuple[dict[str, Any], str]
) -> None:
    sub, dept = subscribed
    other, other_dept = _filed(world, category="S0101")
    assert other_dept != dept
    other = _dispatch(world, other, other_dept)
    r = _post_result(world, sub, {"case_id": other["id"], "action": "accept"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "case.not_found"
    assert _case(world, other["id"])["state"] == "dispatched"


def test_a_receiver_that_is_down_for_a_while_gets_exactly_the_pending_deliveries_when_back(
    world: World,
    admin: Any,
    receiver: Receiver,
    sender: WebhookSender,
    subscribed: tuple[dict[str, Any], str],
) -> None:
    sub, dept = subscribed
    receiver.stop()
    ids = []
    for _ in range(2):
        case, _ = _filed(world)
        ids.append(_dispatch(world, case, dept)["id"])
    world.rt.relay.drain()
    sender.run_once()
    pending = _mine(admin, sub, "pending")
    assert len(pending) == 2 and {d["attempts"] for d in pending} == {1}
    assert all("ConnectError" in d["last_error"] for d in pending)

    sender.run_once()  # not due yet: nothing is tried early
    assert {d["attempts"] for d in _mine(admin, sub, "pending")} == {1}
    world.clock.advance(seconds=10)
    sender.run_once()
    assert {d["attempts"] for d in _mine(admin, sub, "pending")} == {2}

    receiver.start()
    world.clock.advance(seconds=20)
    sender.run_once()
    assert sorted(d["case"]["id"] for d in receiver.accepted) == sorted(ids)
    assert receiver.duplicates == [] and receiver.rejected == []
    delivered = _mine(admin, sub, "delivered")
    assert len(delivered) == 2 and {d["attempts"] for d in delivered} == {3}
    sender.run_once()
    assert receiver.attempts == 2  # nothing sent twice


def test_after_the_last_attempt_a_delivery_is_a_dead_letter_that_a_replay_delivers(
    world: World,
    admin: Any,
    receiver: Receiver,
    sender: WebhookSender,
    subscribed: tuple[dict[str, Any], str],
) -> None:
    sub, dept = subscribed
    receiver.status = 500
    case, _ = _filed(world)
    _dispatch(world, case, dept)
    world.rt.relay.drain()
    for _ in range(POLICY.max_attempts):
        sender.run_once()
        world.clock.advance(seconds=POLICY.cap_s)
    [dead] = _mine(admin, sub, "dead")
    assert dead["attempts"] == 3 and dead["last_status"] == 500 and dead["dead_at"]
    assert receiver.accepted == []
    sender.run_once()
    assert _mine(admin, sub, "dead") == [dead]  # a dead letter is not retried by itself

    handler = world.client(f"h.{dept}")
    assert handler.post(f"/api/v1/webhooks/deliveries/{dead['id']}/replay").status_code == 403
    receiver.status = 204
    r = admin.post(f"/api/v1/webhooks/deliveries/{dead['id']}/replay")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending" and r.json()["attempts"] == 0
    sender.run_once()
    assert [d["id"] for d in receiver.accepted] == [dead["id"]]
    assert [d["status"] for d in _mine(admin, sub) if d["id"] == dead["id"]] == ["delivered"]
    r = admin.post(f"/api/v1/webhooks/deliveries/{dead['id']}/replay")
    assert r.status_code == 422 and r.json()["error"]["code"] == "webhook.not_dead"


def test_a_redelivered_event_queues_its_webhook_once(
    world: World, subscribed: tuple[dict[str, Any], str]
) -> None:
    _sub, dept = subscribed
    case, _ = _filed(world)
    _dispatch(world, case, dept)
    with world.rt.uows() as uow:
        [(_, event)] = [
            (i, e)
            for i, e in uow.outbox.pending(10_000)
            if e.type == "case.dispatched" and e.aggregate_id == case["id"]
        ]
    assert webhooks.record(world.rt.uows, world.rt.env, event) == 1
    assert webhooks.record(world.rt.uows, world.rt.env, event) == 0


def test_only_admins_and_commanders_manage_departmental_systems(
    world: World, receiver: Receiver
) -> None:
    _case, dept = _filed(world)
    handler = world.client(f"h.{dept}")
    r = handler.post("/api/v1/webhooks", json={"department_id": dept, "url": receiver.url})
    assert r.status_code == 403 and r.json()["error"]["code"] == "webhook.not_permitted"
    admin = world.client("admin")
    r = admin.post("/api/v1/webhooks", json={"department_id": dept, "url": "ftp://x"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "webhook.bad_url"
    r = admin.post(
        "/api/v1/webhooks",
        json={"department_id": dept, "url": receiver.url, "events": ["case.reported"]},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "webhook.unknown_event"


def test_an_operator_subscribes_and_replays_from_the_command_line(
    world: World, admin: Any, receiver: Receiver
) -> None:
    from typer.testing import CliRunner

    from pingan.cli import app

    _case, dept = _filed(world)
    runner = CliRunner()
    added = runner.invoke(
        app, ["webhooks", "add", dept, receiver.url, "--event", "case.closed", "--url", world.url]
    )
    assert added.exit_code == 0, added.output
    assert "whsec_" in added.output
    [sub] = [s for s in admin.get("/api/v1/webhooks").json() if s["url"] == receiver.url]
    assert sub["events"] == ["case.closed"]
    listed = runner.invoke(app, ["webhooks", "deliveries", "--url", world.url])
    assert listed.exit_code == 0, listed.output
    missing = runner.invoke(app, ["webhooks", "replay", "no-such-id", "--url", world.url])
    assert missing.exit_code == 2 and "webhook.delivery_not_found" in missing.output
    admin.delete(f"/api/v1/webhooks/{sub['id']}")


def test_a_delivery_in_flight_when_the_sender_dies_is_sent_again_after_its_lease(
    world: World,
    admin: Any,
    receiver: Receiver,
    sender: WebhookSender,
    subscribed: tuple[dict[str, Any], str],
) -> None:
    sub, dept = subscribed
    case, _ = _filed(world)
    _dispatch(world, case, dept)
    world.rt.relay.drain()
    [pending] = _mine(admin, sub, "pending")
    with world.rt.uows() as uow:  # a sender leased it, then the process died before settling
        due = uow.webhooks.delivery(pending["id"])
        assert uow.webhooks.lease(due.id, due.next_attempt_at, world.clock.now.replace(year=2099))
        uow.commit()
    sender.run_once()
    assert receiver.accepted == []  # still leased: no second sender posts it meanwhile

    with world.rt.uows() as uow:  # the lease runs out
        assert uow.webhooks.lease(due.id, world.clock.now.replace(year=2099), world.clock.now)
        uow.commit()
    sender.run_once()
    assert [d["id"] for d in receiver.accepted] == [pending["id"]]


def test_nonces_older_than_twice_the_window_are_forgotten(
    world: World, subscribed: tuple[dict[str, Any], str]
) -> None:
    sub, dept = subscribed
    case, _ = _filed(world)
    case = _dispatch(world, case, dept)
    assert _post_result(world, sub, {"case_id": case["id"], "action": "accept"}).status_code == 200
    with world.rt.uows() as uow:
        assert (
            uow.connection.execute(select(func.count()).select_from(webhook_nonces)).scalar_one()
            >= 1
        )
    world.clock.advance(seconds=601)
    webhooks.forget_old_nonces(world.rt.uows, world.rt.env, 300)
    with world.rt.uows() as uow:
        assert (
            uow.connection.execute(select(func.count()).select_from(webhook_nonces)).scalar_one()
            == 0
        )


def test_supervision_and_closing_of_the_departments_cases_are_sent_too(
    world: World,
    receiver: Receiver,
    sender: WebhookSender,
    subscribed: tuple[dict[str, Any], str],
) -> None:
    _sub, dept = subscribed
    case, _ = _filed(world)
    case = _dispatch(world, case, dept)
    commander = world.client(f"cmd.{world.town().unit.code}")
    r = world.act(commander, case, "supervise", note="请加快处置")
    assert r.status_code == 200, r.text
    world.rt.relay.drain()
    sender.run_once()
    events = {d["event"] for d in receiver.accepted if d["case"]["id"] == case["id"]}
    assert events == {"case.dispatched", "case.supervised"}  # posted side by side: any order
    [supervised] = [d for d in receiver.accepted if d["event"] == "case.supervised"]
    assert supervised["case"]["supervision_count"] == 1


def test_a_signed_result_naming_an_impossible_case_id_is_refused_as_bad_input(
    world: World, subscribed: tuple[dict[str, Any], str]
) -> None:
    sub, _dept = subscribed
    for case_id in (2**63, 0, -1, True):
        r = _post_result(world, sub, {"case_id": case_id, "action": "accept"})
        assert r.status_code == 422, (case_id, r.status_code, r.text)
        assert r.json()["error"]["code"] == "webhook.bad_body"
