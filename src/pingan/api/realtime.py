"""Live case events over WebSocket. Each browser gets only the events of cases it may read; the
check is the same rule the repositories apply, evaluated on the event's routing fields."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from pingan.domain.access import CENTRE_ROLES, Actor, can_read_case
from pingan.domain.events import DomainEvent

log = logging.getLogger(__name__)

PRIVATE_FIELDS = ("reporter_id",)
QUEUE_LIMIT = 1000


@dataclass(eq=False)
class Subscriber:
    actor: Actor
    queue: asyncio.Queue[str]
    loop: asyncio.AbstractEventLoop
    dropped: int = 0

    def offer(self, message: str) -> None:
        if self.queue.full():
            self.dropped += 1  # a stalled browser must not hold up everyone else
            return
        self.queue.put_nowait(message)


class Hub:
    def __init__(self) -> None:
        self._subs: set[Subscriber] = set()
        self._lock = threading.Lock()

    def add(self, actor: Actor) -> Subscriber:
        sub = Subscriber(actor, asyncio.Queue(QUEUE_LIMIT), asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
        return sub

    def remove(self, sub: Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)

    def online_users(self) -> set[int]:
        with self._lock:
            return {s.actor.user_id for s in self._subs}

    @property
    def size(self) -> int:
        return len(self._subs)

    def send_to_user(self, user_id: int, message: dict[str, Any]) -> int:
        """Hand a message to every open connection of one user (any thread); how many got it."""
        text = json.dumps(message, ensure_ascii=False)
        with self._lock:
            subs = [s for s in self._subs if s.actor.user_id == user_id]
        for sub in subs:
            self._hand(sub, text)
        return len(subs)

    def send_where_seen(self, path: str, message: dict[str, Any]) -> None:
        """Hand a message to the centre connections whose jurisdiction covers `path`."""
        text = json.dumps(message, ensure_ascii=False)
        with self._lock:
            subs = [s for s in self._subs if s.actor.role in CENTRE_ROLES and s.actor.sees(path)]
        for sub in subs:
            self._hand(sub, text)

    def _hand(self, sub: Subscriber, text: str) -> None:
        try:
            sub.loop.call_soon_threadsafe(sub.offer, text)
        except RuntimeError:  # its loop is closed: the connection is gone
            self.remove(sub)

    def publish(self, event: DomainEvent) -> None:
        """Called from the relay thread; hands each message to its subscriber's event loop."""
        p = event.payload
        with self._lock:
            subs = list(self._subs)
        message: str | None = None
        for sub in subs:
            if not can_read_case(
                sub.actor, event.unit_path, p.get("department_id"), p.get("reporter_id")
            ):
                continue
            if message is None:
                message = json.dumps(to_message(event), ensure_ascii=False)
            self._hand(sub, message)


def to_message(event: DomainEvent) -> dict[str, Any]:
    payload = {k: v for k, v in event.payload.items() if k not in PRIVATE_FIELDS}
    is_alarm = event.type.startswith("alarm.")
    return {
        "event_id": event.event_id,
        "type": event.type,
        "case_id": payload.get("case_id") if is_alarm else event.aggregate_id,
        "alarm_id": event.aggregate_id if is_alarm else None,
        "unit_path": event.unit_path,
        "occurred_at": event.occurred_at.isoformat()
        if hasattr(event.occurred_at, "isoformat")
        else str(event.occurred_at),
        "payload": payload,
    }
