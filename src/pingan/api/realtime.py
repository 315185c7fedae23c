"""Live case events over WebSocket. Each browser gets only the events of cases it may read; the
check is the same rule the repositories apply, evaluated on the event's routing fields.

An open connection's token is checked again every `RECHECK_S` seconds, for all connections at once
(`Hub.recheck`, two queries per thousand open connections): one signed out, expired or whose user
was disabled since it opened is told to close.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from pingan.adapters.tokens import Claims
from pingan.domain.access import CENTRE_ROLES, Actor, can_read_case
from pingan.domain.events import DomainEvent
from pingan.services.ports import Env, UnitOfWorkFactory

log = logging.getLogger(__name__)

PRIVATE_FIELDS = ("reporter_id",)
QUEUE_LIMIT = 1000
RECHECK_S = 15.0

# The token ids among open sessions that no longer hold.
SessionCheck = Callable[[Collection[Claims]], set[str]]


@dataclass(eq=False)
class Subscriber:
    actor: Actor
    session: Claims
    queue: asyncio.Queue[str]
    loop: asyncio.AbstractEventLoop
    lapsed: asyncio.Event = field(default_factory=asyncio.Event)  # set: close the connection
    dropped: int = 0

    def offer(self, message: str) -> None:
        if self.queue.full():
            self.dropped += 1  # a stalled browser must not hold up everyone else
            return
        self.queue.put_nowait(message)


class Hub:
    def __init__(self, lapsed: SessionCheck, recheck_s: float = RECHECK_S) -> None:
        self._subs: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._lapsed = lapsed
        self.recheck_s = recheck_s
        self._idle: threading.Event | None = None  # set when the last connection is gone

    def add(self, actor: Actor, session: Claims) -> Subscriber:
        """Register a connection (from its event loop); the first one starts the re-checks."""
        sub = Subscriber(actor, session, asyncio.Queue(QUEUE_LIMIT), asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
            if self._idle is None:
                self._idle = threading.Event()
                threading.Thread(
                    target=self._watch, args=(self._idle,), name="ws-recheck", daemon=True
                ).start()
        return sub

    def remove(self, sub: Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)
            if not self._subs and self._idle is not None:
                self._idle.set()
                self._idle = None

    def _watch(self, idle: threading.Event) -> None:
        while not idle.wait(self.recheck_s):
            try:
                self.recheck()
            except Exception:  # a database hiccup: the connections stay, the next pass retries
                log.exception("re-checking WebSocket sessions failed")

    def recheck(self) -> int:
        """Check every open connection's token in one batch and tell those that no longer hold
        to close; how many were told."""
        with self._lock:
            subs = list(self._subs)
        if not subs:
            return 0
        lapsed = self._lapsed([s.session for s in subs])
        gone = [s for s in subs if s.session.jti in lapsed]
        for sub in gone:
            try:
                sub.loop.call_soon_threadsafe(sub.lapsed.set)
            except RuntimeError:  # its loop is closed: the connection is gone
                self.remove(sub)
        return len(gone)

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


def lapsed_sessions(uows: UnitOfWorkFactory, env: Env, sessions: Collection[Claims]) -> set[str]:
    """The token ids among `sessions` that no longer hold: expired, signed out, or whose user is
    gone or disabled (what `deps.session_for_token` refuses), two queries per thousand of them."""
    now = env.now()
    current = [s for s in sessions if s.expires_at > now]
    enabled: set[int] = set()
    revoked: set[str] = set()
    if current:
        with uows(readonly=True) as uow:
            enabled = uow.users.enabled_among({s.user_id for s in current})
            revoked = uow.users.revoked_among({s.jti for s in current})
    return {
        s.jti
        for s in sessions
        if s.expires_at <= now or s.user_id not in enabled or s.jti in revoked
    }


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
