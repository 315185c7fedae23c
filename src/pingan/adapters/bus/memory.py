"""The in-process event bus (the embedded default): handlers run in the relay's thread, in order.

A handler that raises makes `publish` raise too, so the relay leaves the event in the outbox and
delivers it again; consumers are idempotent, so the handlers that already succeeded do no harm.
Durability comes from the outbox itself: nothing is lost while events wait there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pingan.domain.events import DomainEvent
from pingan.services.ports import DeliveryFailed

log = logging.getLogger(__name__)


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[str, Callable[[DomainEvent], None]]] = []
        self._listeners: list[Callable[[dict[str, Any]], None]] = []

    def broadcast(self, message: dict[str, Any]) -> None:
        """One process is the whole cluster: hand the message to its own listeners."""
        for listener in self._listeners:
            listener(message)

    def on_broadcast(self, handler: Callable[[dict[str, Any]], None]) -> None:
        self._listeners.append(handler)

    def subscribe(
        self, consumer: str, handler: Callable[[DomainEvent], None], *, durable: bool = True
    ) -> None:
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
            raise DeliveryFailed(event.event_id, f"consumers failed: {', '.join(failed)}")

    def close(self) -> None:
        self._handlers.clear()
        self._listeners.clear()
