"""The in-process event bus (the embedded default): handlers run in the relay's thread, in order.

A handler that raises makes `publish` raise too, so the relay leaves the event in the outbox and
delivers it again; consumers are idempotent, so the handlers that already succeeded do no harm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pingan.domain.events import DomainEvent

log = logging.getLogger(__name__)


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[str, Callable[[DomainEvent], None]]] = []

    def subscribe(self, consumer: str, handler: Callable[[DomainEvent], None]) -> None:
        self._handlers.append((consumer, handler))

    def publish(self, event: DomainEvent) -> None:
        failed: list[str] = []
        for consumer, handler in self._handlers:
            try:
                handler(event)
            except Exception:
                log.exception("consumer %s failed on %s %s", consumer, event.type, event.event_id)
                failed.append(consumer)
        if failed:
            raise DeliveryFailed(event.event_id, failed)


class DeliveryFailed(Exception):
    def __init__(self, event_id: str, consumers: list[str]) -> None:
        super().__init__(f"event {event_id} not delivered to {', '.join(consumers)}")
        self.event_id = event_id
        self.consumers = consumers
