"""The outbox relay: reads committed events in order and hands them to the bus, at least once.

It wakes on every commit that wrote events (low latency) and also polls (events written by other
processes). An event is marked published only after the bus accepted it, so a crash in between
means redelivery, never loss.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from pingan.adapters.db.uow import UnitOfWorkFactory
from pingan.domain.events import DomainEvent
from pingan.services.ports import DeliveryFailed, EventBus

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        bus: EventBus,
        clock: Callable[[], datetime],
        interval_s: float = 0.5,
        batch: int = 200,
    ) -> None:
        self.uows = uows
        self.bus = bus
        self.clock = clock
        self.interval_s = interval_s
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        uows.on_commit(self._on_commit)

    def _on_commit(self, _events: list[DomainEvent]) -> None:
        self._wake.set()

    def run_once(self) -> int:
        """Deliver one batch; returns how many events were published."""
        with self.uows() as uow:
            pending = uow.outbox.pending(self.batch)
        if not pending:
            return 0
        done: list[int] = []
        for row_id, event in pending:
            try:
                self.bus.publish(event)
            except DeliveryFailed:
                break  # keep order: retry this event (and the rest) on the next pass
            done.append(row_id)
        if done:
            with self.uows() as uow:
                uow.outbox.mark_published(done, self.clock())
                uow.commit()
        return len(done)

    def drain(self, max_rounds: int = 1000) -> int:
        total = 0
        for _ in range(max_rounds):
            n = self.run_once()
            total += n
            if n < self.batch:
                break
        return total

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain()
            except Exception:
                log.exception("outbox relay pass failed")
            self._wake.wait(self.interval_s)
            self._wake.clear()
