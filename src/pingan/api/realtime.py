"""Live case events over WebSocket. Each browser gets only the events of cases it may read; the
check is the same rule the repositories apply, evaluated on the event's routing fields.

An open connection's token is checked again every `RECHECK_S` seconds, for all connections at once
(`Hub.recheck`, two queries per thousand open connections): one signed out, expired or whose user
was disabled since it opened is told to close.

With several API processes (`Hub.share`), a message for one user or one place goes out on the
bus's broadcast channel and each process hands it to the connections it holds, so a commander
connected to one process can ring a grid worker connected to another; while it holds
connections, each process tells the others every `PRESENCE_S` seconds who is connected to it, so
everyone sees who is online.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from pingan.adapters.tokens import Claims
from pingan.domain.access import CENTRE_ROLES, Actor, can_read_case
from pingan.domain.events import DomainEvent
from pingan.services.ports import Broadcast, Env, UnitOfWorkFactory

log = logging.getLogger(__name__)

PRIVATE_FIELDS = ("reporter_id",)
QUEUE_LIMIT = 1000
RECHECK_S = 15.0
PRESENCE_S = 5.0  # how often a process tells the others who is connected to it

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
        self._channel: Broadcast | None = None
        self.node = uuid.uuid4().hex[:12]
        self._elsewhere: dict[str, tuple[frozenset[int], float]] = {}  # node → users, until

    def share(self, channel: Broadcast) -> None:
        """Reach the connections other API processes hold, through `channel` (the bus: to this
        process alone when the bus is in-process)."""
        self._channel = channel
        channel.on_broadcast(self._receive)

    def _beat(self, idle: threading.Event) -> None:
        """While this process holds connections, tell the others who is connected every
        `PRESENCE_S`; a process without any (a worker, an idle API) sends nothing."""
        while not idle.wait(PRESENCE_S):
            self._tell_presence()

    def _tell_presence(self) -> None:
        if self._channel is None:
            return
        with self._lock:
            users = sorted({s.actor.user_id for s in self._subs})
        try:
            self._channel.broadcast({"k": "presence", "node": self.node, "users": users})
        except Exception:  # the broker is away: the next beat tries again
            log.warning("could not announce presence", exc_info=True)

    def _receive(self, message: dict[str, Any]) -> None:
        """A broadcast from any process, this one included."""
        kind = message.get("k")
        if kind == "user":
            self._deliver_to_user(int(message["to"]), json.dumps(message["m"], ensure_ascii=False))
        elif kind == "seen":
            self._deliver_where_seen(
                str(message["path"]), json.dumps(message["m"], ensure_ascii=False)
            )
        elif kind == "presence" and message.get("node") != self.node:
            users = frozenset(int(u) for u in message.get("users", []))
            now = time.monotonic()
            with self._lock:
                # a process that restarted comes back as a new node: forget the ones gone quiet
                self._elsewhere = {n: v for n, v in self._elsewhere.items() if v[1] > now}
                self._elsewhere[str(message["node"])] = (users, now + 3 * PRESENCE_S)

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
                if self._channel is not None:
                    threading.Thread(
                        target=self._beat, args=(self._idle,), name="ws-presence", daemon=True
                    ).start()
        self._tell_presence()
        return sub

    def remove(self, sub: Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)
            if not self._subs and self._idle is not None:
                self._idle.set()
                self._idle = None
        self._tell_presence()

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
        """Connected to this process, or to another one that said so within 3 beats."""
        now = time.monotonic()
        with self._lock:
            here = {s.actor.user_id for s in self._subs}
            elsewhere = [users for users, until in self._elsewhere.values() if until > now]
        return here.union(*elsewhere)

    @property
    def size(self) -> int:
        return len(self._subs)

    def send_to_user(self, user_id: int, message: dict[str, Any]) -> None:
        """Hand a message to every open connection of one user, in whichever process (any
        thread)."""
        if self._channel is not None:
            self._channel.broadcast({"k": "user", "to": user_id, "m": message})
        else:
            self._deliver_to_user(user_id, json.dumps(message, ensure_ascii=False))

    def send_where_seen(self, path: str, message: dict[str, Any]) -> None:
        """Hand a message to the centre connections whose jurisdiction covers `path`."""
        if self._channel is not None:
            self._channel.broadcast({"k": "seen", "path": path, "m": message})
        else:
            self._deliver_where_seen(path, json.dumps(message, ensure_ascii=False))

    def _deliver_to_user(self, user_id: int, text: str) -> None:
        with self._lock:
            subs = [s for s in self._subs if s.actor.user_id == user_id]
        for sub in subs:
            self._hand(sub, text)

    def _deliver_where_seen(self, path: str, text: str) -> None:
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
