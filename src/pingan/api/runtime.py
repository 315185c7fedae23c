"""Everything a running Pingan process holds: engine, unit-of-work factory, clock, calendar, grid
index, bus, relay, SLA worker and the WebSocket hub. Built once per process; tests build their own
with a fake clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Engine

from pingan.adapters.bus.memory import InProcessBus
from pingan.adapters.bus.relay import OutboxRelay
from pingan.adapters.calendar import build_calendar, read_calendar_file
from pingan.adapters.db.engine import make_engine
from pingan.adapters.db.uow import UnitOfWorkFactory
from pingan.adapters.mqtt import MqttIngestor
from pingan.adapters.spatial import GridIndex, from_wkb
from pingan.adapters.webhook_sender import WebhookSender
from pingan.api.realtime import Hub, lapsed_sessions
from pingan.config import Settings
from pingan.domain.events import DomainEvent
from pingan.domain.geo import UnitLevel
from pingan.domain.sla import WorkCalendar
from pingan.domain.webhooks import RetryPolicy
from pingan.services import notifications, webhooks
from pingan.services.clocks import run_clocks
from pingan.services.ports import Env, EventBus, utc_now
from pingan.services.telemetry import FloodGate

log = logging.getLogger(__name__)


class ReloadableLocator:
    """A grid index that can be rebuilt after an import without restarting the server."""

    def __init__(self, uows: UnitOfWorkFactory) -> None:
        self._uows = uows
        self._index: GridIndex | None = None
        self._lock = threading.Lock()

    def reload(self) -> int:
        with self._uows(readonly=True) as uow:
            shapes = [
                (r.unit.path, from_wkb(r.geom_wkb))
                for r in uow.units.records("", UnitLevel.GRID)
                if r.geom_wkb
            ]
        index = GridIndex(shapes)
        with self._lock:
            self._index = index
        return len(shapes)

    def locate(self, lng: float, lat: float) -> str | None:
        index = self._index
        if index is None:
            self.reload()
            index = self._index
        assert index is not None
        return index.locate(lng, lat)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    uows: UnitOfWorkFactory
    env: Env
    locator: ReloadableLocator
    bus: EventBus
    relay: OutboxRelay
    hub: Hub
    webhook_sender: WebhookSender
    flood_gate: FloodGate = field(default_factory=FloodGate)
    ingestor: MqttIngestor | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
        engine: Engine | None = None,
    ) -> Runtime:
        engine = engine or make_engine(settings.database_url)
        uows = UnitOfWorkFactory(engine)
        locator = ReloadableLocator(uows)
        env = Env(calendar=load_calendar(uows, settings), locator=locator, clock=clock)
        bus = make_bus(settings)
        relay = OutboxRelay(uows, bus, clock, interval_s=settings.relay_interval_s)
        hub = Hub(partial(lapsed_sessions, uows, env))
        bus.subscribe("websocket", hub.publish, durable=False)
        hub.share(bus)  # other API processes may hold the other end of a call

        def notify(event: DomainEvent) -> None:
            notifications.handle(uows, env, event)

        bus.subscribe(notifications.CONSUMER, notify)
        sender = make_webhook_sender(uows, env, settings)

        def queue_webhooks(event: DomainEvent) -> None:
            if webhooks.record(uows, env, event):
                sender.wake()

        bus.subscribe(webhooks.CONSUMER, queue_webhooks)
        return cls(settings, engine, uows, env, locator, bus, relay, hub, sender)

    def start_workers(self) -> None:
        self.relay.start()
        self.webhook_sender.start()
        if self.settings.mqtt_url:
            self.ingestor = make_ingestor(self)
            self.ingestor.start()
        t = threading.Thread(target=self._clock_loop, name="sla-clock", daemon=True)
        t.start()
        self._threads.append(t)

    def stop_workers(self) -> None:
        self._stop.set()
        self.relay.stop()
        self.webhook_sender.stop()
        for t in self._threads:
            t.join(timeout=5)
        if self.ingestor is not None:
            self.ingestor.stop()
        self.bus.close()

    def run_worker(self, kind: str) -> None:
        """Run the outbox relay (`relay`) or the SLA clock (`sla`) in this process until
        `stop_workers`: what `pingan worker` runs, so either can live, die and restart on its own
        while `pingan serve --no-workers` answers requests. Both are safe to run beside others:
        the outbox is marked after delivery and every lapse is claimed by a conditional update."""
        if kind == "relay":
            self.relay.start()
            while not self._stop.wait(1.0):
                pass
        elif kind == "sla":
            self._clock_loop()
        else:
            raise ValueError(f"unknown worker {kind!r}")

    def _clock_loop(self) -> None:
        while not self._stop.is_set():
            try:
                report = run_clocks(self.uows, self.env)
                if report.warned or report.lapsed:
                    log.info("sla clock: %s", report)
            except Exception:
                log.exception("sla clock pass failed")
            self._stop.wait(self.settings.sla_interval_s)

    def reload_calendar(self) -> None:
        self.env.calendar = load_calendar(self.uows, self.settings)


def make_ingestor(rt: Runtime) -> MqttIngestor:
    s = rt.settings
    return MqttIngestor(
        rt.uows,
        rt.env,
        s.mqtt_url or "mqtt://127.0.0.1:1883",
        client_id=s.mqtt_client_id,
        username=s.mqtt_username,
        password=s.mqtt_password,
        gate=rt.flood_gate,
    )


def make_webhook_sender(uows: UnitOfWorkFactory, env: Env, settings: Settings) -> WebhookSender:
    policy = RetryPolicy(
        settings.webhook_max_attempts,
        settings.webhook_backoff_base_s,
        settings.webhook_backoff_max_s,
    )
    return WebhookSender(
        uows,
        env,
        policy,
        timeout_s=settings.webhook_timeout_s,
        interval_s=settings.webhook_interval_s,
        nonce_window_s=settings.webhook_replay_window_s,
    )


def make_bus(settings: Settings) -> EventBus:
    """The in-process bus unless `PINGAN_BUS_URL` names a NATS server."""
    if settings.bus_url.startswith(("nats://", "tls://")):
        from pingan.adapters.bus.nats import JetStreamBus

        return JetStreamBus(
            settings.bus_url, stream=settings.bus_stream, subject_prefix=settings.bus_subjects
        )
    return InProcessBus()


def load_calendar(uows: UnitOfWorkFactory, settings: Settings) -> WorkCalendar:
    overrides: list[Any] = []
    if settings.calendar_file:
        overrides.extend(read_calendar_file(settings.calendar_file))
    try:
        with uows(readonly=True) as uow:
            overrides.extend(uow.calendar.days())
    except Exception:  # a database that is not migrated yet has no calendar table
        log.warning("calendar overrides not loaded", exc_info=True)
    return build_calendar(overrides)
