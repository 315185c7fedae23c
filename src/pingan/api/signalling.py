"""Call signalling over the WebSocket: tells every party of a call about each committed change,
relays WebRTC offers, answers and ICE candidates between joined parties, and lets rings lapse.

Signals go straight from one browser's socket to the other's through the in-process hub, so a call
connects without waiting for the outbox relay; a deployment with several API processes must route
one user's sockets to one process (sticky sessions), as the docs say.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from pingan.adapters.db.calls import CallView
from pingan.api.runtime import Runtime
from pingan.domain.access import Actor
from pingan.domain.calls import CallState
from pingan.domain.errors import DomainError
from pingan.services import calls as call_service

log = logging.getLogger(__name__)

SIGNAL_KINDS = frozenset({"offer", "answer", "candidate", "share", "hiccup"})
MAX_SIGNAL_CHARS = 64_000


def call_json(view: CallView) -> dict[str, Any]:
    c = view.call
    return {
        "id": c.id,
        "version": c.version,
        "host_id": c.host_id,
        "host_name": view.host_name,
        "case_id": c.case_id,
        "state": c.state.value,
        "outcome": c.outcome.value if c.outcome else None,
        "created_at": c.created_at.isoformat(),
        "connected_at": c.connected_at.isoformat() if c.connected_at else None,
        "ended_at": c.ended_at.isoformat() if c.ended_at else None,
        "duration_s": c.duration_s,
        "recording_id": view.recording_id,
        "parties": [
            {
                "user_id": p.user_id,
                "display_name": p.display_name,
                "role": p.role,
                "state": p.state,
                "joined_at": p.joined_at.isoformat() if p.joined_at else None,
                "left_at": p.left_at.isoformat() if p.left_at else None,
            }
            for p in view.parties
        ],
    }


class Signalling:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.timeout = timedelta(seconds=rt.settings.call_ring_timeout_s)
        self._timers: dict[int, threading.Timer] = {}
        self._lock = threading.Lock()

    def announce(self, view: CallView) -> None:
        """Tell every party (and whoever is ringing) the call's new state."""
        message = {"type": "call.update", "call": call_json(view)}
        for party in view.parties:
            self.rt.hub.send_to_user(party.user_id, message)
        if view.call.state is CallState.ENDED:
            self._cancel(view.call.id)
        elif view.call.invited():
            self._arm(view.call.id, self.timeout.total_seconds())

    def relay(self, actor: Actor, message: dict[str, Any]) -> str | None:
        """Forward one WebRTC signal; returns an error code when it is refused."""
        call_id, to, data = message.get("call_id"), message.get("to"), message.get("data")
        if (
            not isinstance(call_id, int)
            or not isinstance(to, int)
            or not isinstance(data, dict)
            or data.get("kind") not in SIGNAL_KINDS
            or len(str(data)) > MAX_SIGNAL_CHARS
        ):
            return "call.bad_signal"
        try:
            with self.rt.uows(actor, readonly=True) as uow:
                call_service.check_signal(uow, actor, call_id, to)
        except DomainError as err:
            return err.code
        self.rt.hub.send_to_user(
            to, {"type": "call.signal", "call_id": call_id, "from": actor.user_id, "data": data}
        )
        return None

    def resume(self) -> None:
        """After a restart, let the rings that were in progress lapse on time. A database that is
        not reachable (or not migrated) yet must not stop the API from starting: /readyz says so."""
        try:
            with self.rt.uows(readonly=True) as uow:
                live = call_service.live_calls(uow)
        except SQLAlchemyError:
            log.warning("calls ringing before the restart could not be read; none resumed")
            return
        for call in live:
            if call.invited():
                self._arm(call.id, 0.0)

    def stop(self) -> None:
        with self._lock:
            timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            timer.cancel()

    def _arm(self, call_id: int, delay: float) -> None:
        timer = threading.Timer(delay + 0.05, self._lapse, (call_id,))
        timer.daemon = True
        with self._lock:
            old = self._timers.pop(call_id, None)
            self._timers[call_id] = timer
        if old is not None:
            old.cancel()
        timer.start()

    def _cancel(self, call_id: int) -> None:
        with self._lock:
            timer = self._timers.pop(call_id, None)
        if timer is not None:
            timer.cancel()

    def _lapse(self, call_id: int) -> None:
        try:
            with self.rt.uows() as uow:
                view = call_service.expire(uow, call_id, self.rt.env.now(), self.timeout)
            if view is not None:
                self.announce(view)
                return
            with self.rt.uows(readonly=True) as uow:
                current = uow.calls.get(call_id)
            if current is not None and current.invited():
                self._arm(call_id, 1.0)  # invited later than the first ring: check again
            else:
                self._cancel(call_id)
        except Exception:  # a timer thread must never die silently with a call left ringing
            log.exception("ring timeout of call %s failed; retrying", call_id)
            self._arm(call_id, 5.0)
