"""The video-call rules: who may call whom and how a call's state follows its parties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pingan.domain.access import Actor, Role
from pingan.domain.calls import (
    RING_TIMEOUT,
    Call,
    Callee,
    CallState,
    Outcome,
    PartyState,
    may_call,
)
from pingan.domain.errors import Conflict, Forbidden

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
TOWN = "330400.330402.330402001"
COMMANDER = Actor(1, "cmd", Role.COMMANDER, TOWN)
WORKER = Callee(2, Role.GRID_WORKER, f"{TOWN}.c01.g01")
HANDLER = Callee(3, Role.HANDLER, TOWN)


def _active() -> Call:
    call = Call.place(COMMANDER, WORKER, T0, case_id=7)
    call.accept(WORKER.user_id, T0 + timedelta(seconds=2))
    return call


def test_centre_staff_call_people_within_their_jurisdiction_only() -> None:
    assert may_call(COMMANDER, WORKER)
    elsewhere = Callee(4, Role.GRID_WORKER, "330400.330411.330411001.c01.g01")
    assert not may_call(COMMANDER, elsewhere)
    assert not may_call(COMMANDER, Callee(5, Role.CITIZEN, TOWN))
    assert not may_call(COMMANDER, Callee(6, Role.GRID_WORKER, TOWN, disabled=True))
    worker_actor = Actor(2, "gw", Role.GRID_WORKER, WORKER.jurisdiction)
    assert not may_call(worker_actor, Callee(1, Role.COMMANDER, TOWN))
    with pytest.raises(Forbidden):
        Call.place(COMMANDER, elsewhere, T0)


def test_answered_call_is_active_and_completes_when_hung_up() -> None:
    call = _active()
    assert call.state is CallState.ACTIVE and call.connected_at == T0 + timedelta(seconds=2)
    call.hang_up(WORKER.user_id, T0 + timedelta(seconds=62))
    assert call.state is CallState.ENDED and call.outcome is Outcome.COMPLETED
    assert call.duration_s == 60
    with pytest.raises(Conflict):
        call.hang_up(COMMANDER.user_id, T0 + timedelta(seconds=63))


def test_refused_call_ends_refused_and_cannot_then_be_accepted() -> None:
    call = Call.place(COMMANDER, WORKER, T0)
    call.refuse(WORKER.user_id, T0 + timedelta(seconds=3))
    assert call.outcome is Outcome.REFUSED and call.duration_s is None
    with pytest.raises(Conflict):
        call.accept(WORKER.user_id, T0 + timedelta(seconds=4))


def test_unanswered_ring_lapses_once_into_a_missed_call() -> None:
    call = Call.place(COMMANDER, WORKER, T0)
    assert not call.expire(T0 + RING_TIMEOUT - timedelta(seconds=1))
    assert call.expire(T0 + RING_TIMEOUT)
    assert call.outcome is Outcome.MISSED
    assert call.parties[WORKER.user_id].state is PartyState.MISSED
    assert not call.expire(T0 + RING_TIMEOUT * 2)


def test_host_hanging_up_before_an_answer_cancels_the_call() -> None:
    call = Call.place(COMMANDER, WORKER, T0)
    call.hang_up(COMMANDER.user_id, T0 + timedelta(seconds=5))
    assert call.outcome is Outcome.CANCELLED
    assert call.parties[WORKER.user_id].state is PartyState.MISSED


def test_a_third_party_joins_and_the_call_outlives_one_leaver() -> None:
    call = _active()
    call.invite(COMMANDER, HANDLER, T0 + timedelta(seconds=10))
    with pytest.raises(Conflict):
        call.invite(COMMANDER, HANDLER, T0 + timedelta(seconds=11))
    call.accept(HANDLER.user_id, T0 + timedelta(seconds=12))
    call.hang_up(WORKER.user_id, T0 + timedelta(seconds=20))
    assert call.state is CallState.ACTIVE and sorted(call.joined()) == [1, 3]
    call.hang_up(HANDLER.user_id, T0 + timedelta(seconds=30))
    assert call.state is CallState.ENDED and call.outcome is Outcome.COMPLETED


def test_only_the_host_adds_participants() -> None:
    call = _active()
    worker_actor = Actor(2, "gw", Role.GRID_WORKER, WORKER.jurisdiction)
    with pytest.raises(Forbidden):
        call.invite(worker_actor, HANDLER, T0 + timedelta(seconds=5))


def test_missed_invitee_does_not_end_a_call_in_progress() -> None:
    call = _active()
    call.invite(COMMANDER, HANDLER, T0 + timedelta(seconds=10))
    assert call.expire(T0 + timedelta(seconds=10) + RING_TIMEOUT)
    assert call.state is CallState.ACTIVE
    assert call.parties[HANDLER.user_id].state is PartyState.MISSED
