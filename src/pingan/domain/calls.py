"""Video calls (可视平安通) from a command centre to people in the field.

A call has a host (the centre user who placed it) and parties who are invited, join, refuse, miss
the ring or leave. The media flows browser to browser (WebRTC); this module only decides who may
call whom and what state a call is in, so the call log is the same whatever the browsers did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pingan.domain.access import CENTRE_ROLES, Actor, Role
from pingan.domain.errors import Conflict, Forbidden
from pingan.domain.geo import is_within

RING_TIMEOUT = timedelta(seconds=30)
MAX_PARTIES = 4
CALLABLE_ROLES = frozenset({Role.GRID_WORKER, Role.HANDLER, Role.COMMANDER, Role.OPERATOR})


class CallState(StrEnum):
    RINGING = "ringing"  # 呼叫中
    ACTIVE = "active"  # 通话中
    ENDED = "ended"  # 已结束


class Outcome(StrEnum):
    COMPLETED = "completed"  # connected, then hung up
    REFUSED = "refused"  # 拒接
    MISSED = "missed"  # 未接 (the ring timed out)
    CANCELLED = "cancelled"  # the host hung up before anyone answered


class PartyState(StrEnum):
    INVITED = "invited"
    JOINED = "joined"
    REFUSED = "refused"
    MISSED = "missed"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class Callee:
    """What the rule needs to know about the person being called."""

    user_id: int
    role: Role
    jurisdiction: str
    disabled: bool = False


def may_call(caller: Actor, callee: Callee) -> bool:
    """Centre staff call people whose home unit lies within their own jurisdiction."""
    return (
        caller.role in CENTRE_ROLES
        and callee.user_id != caller.user_id
        and not callee.disabled
        and callee.role in CALLABLE_ROLES
        and is_within(callee.jurisdiction, caller.jurisdiction)
    )


@dataclass(slots=True)
class Party:
    user_id: int
    state: PartyState
    invited_at: datetime
    joined_at: datetime | None = None
    left_at: datetime | None = None


@dataclass(slots=True)
class Call:
    """One call and its parties; every method returns nothing and raises on an illegal move."""

    host_id: int
    unit_path: str
    created_at: datetime
    case_id: int | None = None
    id: int = 0
    state: CallState = CallState.RINGING
    outcome: Outcome | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    parties: dict[int, Party] = field(default_factory=dict)
    version: int = 1  # rises with each saved change, so clients can drop updates that arrive late

    @classmethod
    def place(cls, host: Actor, callee: Callee, now: datetime, case_id: int | None = None) -> Call:
        if not may_call(host, callee):
            raise Forbidden("call.not_permitted")
        call = cls(
            host_id=host.user_id, unit_path=host.jurisdiction, created_at=now, case_id=case_id
        )
        call.parties[host.user_id] = Party(host.user_id, PartyState.JOINED, now, joined_at=now)
        call.parties[callee.user_id] = Party(callee.user_id, PartyState.INVITED, now)
        return call

    @property
    def duration_s(self) -> float | None:
        """Seconds from connection to the end; None for a call that never connected."""
        if self.connected_at is None:
            return None
        return ((self.ended_at or self.connected_at) - self.connected_at).total_seconds()

    def joined(self) -> list[int]:
        return [p.user_id for p in self.parties.values() if p.state is PartyState.JOINED]

    def invited(self) -> list[int]:
        return [p.user_id for p in self.parties.values() if p.state is PartyState.INVITED]

    def is_party(self, user_id: int) -> bool:
        return user_id in self.parties

    def may_signal(self, sender: int, receiver: int) -> bool:
        """WebRTC signals pass only between two joined parties of a live call."""
        joined = self.joined()
        return self.state is not CallState.ENDED and sender in joined and receiver in joined

    def invite(self, by: Actor, callee: Callee, now: datetime) -> None:
        """Add a participant to a live call (e.g. the department's handler)."""
        self._require_live()
        if by.user_id != self.host_id or not may_call(by, callee):
            raise Forbidden("call.not_permitted")
        current = self.parties.get(callee.user_id)
        if current and current.state in (PartyState.INVITED, PartyState.JOINED):
            raise Conflict("call.already_party")
        if len(self.joined()) + len(self.invited()) >= MAX_PARTIES:
            raise Conflict("call.full")
        self.parties[callee.user_id] = Party(callee.user_id, PartyState.INVITED, now)

    def accept(self, user_id: int, now: datetime) -> None:
        party = self._ringing_party(user_id)
        party.state, party.joined_at = PartyState.JOINED, now
        if self.state is CallState.RINGING:
            self.state, self.connected_at = CallState.ACTIVE, now

    def refuse(self, user_id: int, now: datetime) -> None:
        party = self._ringing_party(user_id)
        party.state, party.left_at = PartyState.REFUSED, now
        self._settle(now, Outcome.REFUSED)

    def hang_up(self, user_id: int, now: datetime) -> None:
        """The host ends the call for everyone; anyone else just leaves it."""
        self._require_live()
        party = self.parties.get(user_id)
        if party is None or party.state is not PartyState.JOINED:
            raise Conflict("call.not_joined")
        if user_id == self.host_id:
            for p in self.parties.values():
                if p.state is PartyState.JOINED:
                    p.state, p.left_at = PartyState.LEFT, now
                elif p.state is PartyState.INVITED:
                    p.state, p.left_at = PartyState.MISSED, now
            self._end(now, Outcome.COMPLETED if self.connected_at else Outcome.CANCELLED)
            return
        party.state, party.left_at = PartyState.LEFT, now
        self._settle(now, Outcome.COMPLETED)

    def expire(self, now: datetime, timeout: timedelta = RING_TIMEOUT) -> bool:
        """Mark invitations older than the timeout as missed; True when anything changed."""
        if self.state is CallState.ENDED:
            return False
        lapsed = [
            p
            for p in self.parties.values()
            if p.state is PartyState.INVITED and now - p.invited_at >= timeout
        ]
        for p in lapsed:
            p.state, p.left_at = PartyState.MISSED, now
        if lapsed:
            self._settle(now, Outcome.MISSED)
        return bool(lapsed)

    def _settle(self, now: datetime, outcome_if_never_connected: Outcome) -> None:
        """End the call when nobody is left to talk to."""
        if self.invited() or len(self.joined()) >= 2:
            return
        for p in self.parties.values():
            if p.state is PartyState.JOINED:
                p.state, p.left_at = PartyState.LEFT, now
        self._end(now, Outcome.COMPLETED if self.connected_at else outcome_if_never_connected)

    def _end(self, now: datetime, outcome: Outcome) -> None:
        self.state, self.outcome, self.ended_at = CallState.ENDED, outcome, now

    def _require_live(self) -> None:
        if self.state is CallState.ENDED:
            raise Conflict("call.ended")

    def _ringing_party(self, user_id: int) -> Party:
        self._require_live()
        party = self.parties.get(user_id)
        if party is None or party.state is not PartyState.INVITED:
            raise Conflict("call.not_ringing")
        return party
