"""The event bus contract, run against the in-process bus and NATS JetStream alike: events go out
of the outbox at least once and every consumer's effect happens exactly once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from pingan.adapters.bus.memory import InProcessBus
from pingan.adapters.bus.nats import JetStreamBus
from pingan.adapters.bus.relay import OutboxRelay
from pingan.adapters.db.engine import make_engine
from pingan.adapters.db.migrate import upgrade
from pingan.adapters.db.tables import outbox
from pingan.adapters.db.uow import UnitOfWorkFactory
from pingan.api.runtime import Runtime
from pingan.domain.events import DomainEvent
from pingan.services.ports import EventBus
from tests.conftest import require_service, service_up
from tests.integration.conftest import World

NATS_URL = "nats://127.0.0.1:4222"


def _event(n: int) -> DomainEvent:
    return DomainEvent("case.filed", n, "330400.330402", datetime.now(UTC), {"n": n})


class Effects:
    """An idempotent consumer: the inbox row and the effect commit together."""

    def __init__(self, uows: UnitOfWorkFactory, name: str = "test-consumer") -> None:
        self.uows = uows
        self.name = name
        self.applied: list[str] = []
        self.lock = threading.Lock()
        self.fail_once: set[str] = set()

    def __call__(self, event: DomainEvent) -> None:
        if event.event_id in self.fail_once:
            self.fail_once.discard(event.event_id)
            raise RuntimeError("consumer hiccup")
        with self.uows() as uow:
            if not uow.inbox.claim(self.name, event.event_id, datetime.now(UTC)):
                return
            uow.commit()
        with self.lock:
            self.applied.append(event.event_id)


def _wait(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def uows(tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    url = f"sqlite:///{tmp_path}/bus.db"
    upgrade(url)
    engine = make_engine(url)
    yield UnitOfWorkFactory(engine)
    engine.dispose()


def _new_bus(kind: str, stream: str, **kw: float) -> EventBus:
    if kind == "memory":
        return InProcessBus()
    return JetStreamBus(NATS_URL, stream=stream, subject_prefix=f"{stream.lower()}.events", **kw)


@pytest.fixture
def nats_server() -> str:
    require_service("NATS JetStream", 4222, "PINGAN_REQUIRE_NATS")
    return NATS_URL


@pytest.fixture(params=["memory", "nats"])
def bus_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "nats":
        request.getfixturevalue("nats_server")
    return str(request.param)


@pytest.fixture
def stream() -> Iterator[str]:
    name = f"T{uuid.uuid4().hex[:10].upper()}"
    yield name
    if service_up(4222):
        cleanup = JetStreamBus(NATS_URL, stream=name, subject_prefix=f"{name.lower()}.events")
        cleanup.delete_stream()
        cleanup.close()


def _emit(uows: UnitOfWorkFactory, events: list[DomainEvent]) -> None:
    with uows() as uow:
        for e in events:
            uow.emit(e)
        uow.commit()


def test_every_event_reaches_the_consumer_once_even_when_the_relay_republishes(
    uows: UnitOfWorkFactory, bus_kind: str, stream: str
) -> None:
    bus = _new_bus(bus_kind, stream)
    effects = Effects(uows)
    bus.subscribe("test-consumer", effects)
    relay = OutboxRelay(uows, bus, lambda: datetime.now(UTC))
    events = [_event(n) for n in range(20)]
    _emit(uows, events)
    assert relay.drain() == 20
    # a relay that crashed after publishing but before marking: everything goes out again
    with uows() as uow:
        uow.connection.execute(update(outbox).values(published_at=None))
        uow.commit()
    assert relay.drain() == 20
    try:
        _wait(lambda: len(effects.applied) >= 20)
        time.sleep(0.3)
        assert sorted(effects.applied) == sorted(e.event_id for e in events)
    finally:
        bus.close()


def test_a_failing_consumer_gets_the_event_again_and_applies_it_once(
    uows: UnitOfWorkFactory, bus_kind: str, stream: str
) -> None:
    bus = _new_bus(bus_kind, stream)
    effects = Effects(uows)
    events = [_event(n) for n in range(5)]
    effects.fail_once = {events[2].event_id}
    bus.subscribe("test-consumer", effects)
    relay = OutboxRelay(uows, bus, lambda: datetime.now(UTC))
    _emit(uows, events)
    try:
        deadline = time.monotonic() + 10
        while len(effects.applied) < 5 and time.monotonic() < deadline:
            relay.drain()  # the in-process bus retries through the outbox; JetStream redelivers
            time.sleep(0.1)
        assert sorted(effects.applied) == sorted(e.event_id for e in events)
    finally:
        bus.close()


def test_a_durable_consumer_restarted_resumes_where_it_left_off(
    uows: UnitOfWorkFactory, stream: str, nats_server: str
) -> None:
    first = _new_bus("nats", stream)
    effects = Effects(uows)
    first.subscribe("resumer", effects)
    early = [_event(n) for n in range(3)]
    for e in early:
        first.publish(e)
    _wait(lambda: len(effects.applied) == 3)
    first.close()

    publisher = _new_bus("nats", stream)
    late = [_event(n) for n in range(3, 7)]
    for e in late:
        publisher.publish(e)
        publisher.publish(e)  # a republish with the same Nats-Msg-Id is dropped by the server
    seen: list[str] = []
    publisher.subscribe("resumer", lambda e: seen.append(e.event_id))
    try:
        _wait(lambda: len(seen) >= 4)
        time.sleep(0.5)
        assert seen == [e.event_id for e in late]
    finally:
        publisher.close()


def test_an_event_whose_consumer_died_before_acking_is_delivered_again(
    uows: UnitOfWorkFactory, stream: str, nats_server: str
) -> None:
    stuck = threading.Event()
    dying = _new_bus("nats", stream, ack_wait_s=1.0)
    dying.subscribe("crashy", lambda e: stuck.wait(5) and None)
    event = _event(42)
    dying.publish(event)
    time.sleep(0.5)
    dying.close()  # the handler never returned: no ack was sent
    stuck.set()

    effects = Effects(uows, "crashy")
    revived = _new_bus("nats", stream, ack_wait_s=1.0)
    revived.subscribe("crashy", effects)
    try:
        _wait(lambda: effects.applied == [event.event_id], timeout=15)
    finally:
        revived.close()


def test_the_api_runtime_runs_its_consumers_over_jetstream(
    world: World, stream: str, nats_server: str
) -> None:
    settings = world.rt.settings.model_copy(
        update={
            "bus_url": NATS_URL,
            "bus_stream": stream,
            "bus_subjects": f"{stream.lower()}.events",
        }
    )
    rt = Runtime.build(settings, world.clock)
    try:
        operator = world.client(f"op.{world.town().unit.code}")
        case = world.act(operator, world.report(operator), "file").json()
        case = world.act(operator, case, "dispatch").json()
        while rt.relay.drain():
            pass
        handler = world.client(f"h.{case['department_id']}")
        _wait(
            lambda: any(t["case_id"] == case["id"] for t in handler.get("/api/v1/me/tasks").json())
        )
    finally:
        rt.bus.close()
        rt.engine.dispose()
