"""Workflow invariants: Hypothesis drives cases through the real services on a real database.

A `RuleBasedStateMachine` reports cases (with and without idempotency keys, retried), takes every
action as every kind of actor with and without the fields it needs and with fresh, stale and `*`
ETags, jumps the clock and runs the SLA clock, and restarts the runtime on the same database.
After every step it checks what must always hold:

- the stored case is what replaying its timeline through the domain rules gives;
- a refused or illegal operation changed nothing (case row, timeline, deadlines, outbox);
- an accepted write raised `version` by exactly one, and the timeline holds seq 1..version;
- an active case has exactly one live deadline for its stage, a suspended one none live and one
  paused, a finished one none;
- every lapsed deadline produced exactly one escalation or supervision by the system.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from pingan.adapters.db.deadlines import LAPSED, LIVE, PAUSED
from pingan.adapters.db.tables import outbox
from pingan.adapters.media import PhotoCleaner
from pingan.api.runtime import Runtime
from pingan.demo.photos import striped_png
from pingan.domain.access import SYSTEM_ACTOR, Actor, Role
from pingan.domain.cases import ACTIVE_STATES, RULES, Action, Case, CaseState, Command
from pingan.domain.errors import DomainError, NotFound, StaleVersion
from pingan.domain.geo import UnitLevel
from pingan.services import evidence
from pingan.services.clocks import run_clocks
from pingan.services.intake import CaseDraft, owner_of, report_case
from pingan.services.transitions import transition
from tests.conftest import FakeClock
from tests.integration.conftest import CITY
from tests.reliability.conftest import Template, budget

DISTRICT = CITY.at_level(UnitLevel.DISTRICT)[0]
TOWN = CITY.children(DISTRICT.unit.path)[0]
GRIDS = [g for g in CITY.at_level(UnitLevel.GRID) if g.unit.path.startswith(TOWN.unit.path + ".")]
MAX_CASES = 4
SIDE_STEPS = {Action.REJECT, Action.MERGE, Action.ESCALATE, Action.SUPERVISE, Action.SUSPEND}
FORWARD = [a for a in Action if a not in SIDE_STEPS]  # the loop itself, plus resume
TALLY: Counter[str] = Counter()  # what the runs exercised, printed for docs/reliability.md

Snapshot = tuple[Any, ...]


def replay(stored: Case, timeline: list[tuple[int, Any]]) -> Case:
    """Re-run the timeline's actions through `Case.apply` from a freshly reported case.

    Relations to the case (owner, department, grid) are granted by construction, since the access
    matrix has its own oracle; states, required fields and the reporter relation are checked.
    """
    first = timeline[0][1]
    assert (first.action, first.from_state, first.to_state) == ("report", None, CaseState.REPORTED)
    ghost = replace(
        stored,
        state=CaseState.REPORTED,
        owner_path=owner_of(stored.location_path),
        department_id=None,
        suspended_from=None,
        version=1,
        rework_count=0,
        escalation_count=0,
        supervision_count=0,
        satisfaction=None,
        merged_into=None,
        closed_at=None,
        pending_timeline=[],
        pending_events=[],
    )
    for _seq, entry in timeline[1:]:
        assert entry.from_state is ghost.state, (entry, ghost.state)
        data = entry.data
        command = Command(
            Action(entry.action),
            note=entry.note,
            reason=data.get("reason", entry.note),
            department_id=data.get("department_id"),
            photo_ids=tuple(data.get("photo_ids", ())),
            passed=data.get("passed"),
            satisfaction=data.get("satisfaction"),
            target_case_id=data.get("target_case_id"),
        )
        stand_in = Actor(
            user_id=entry.actor_id,
            username="replay",
            role=Role(entry.actor_role),
            jurisdiction=ghost.owner_path,
            department_id=ghost.department_id,
            grid_code=ghost.grid_code,
        )
        ghost.apply(command, stand_in, entry.at)
        assert ghost.state is entry.to_state, (entry, ghost.state)
    return ghost


class CaseLoopMachine(RuleBasedStateMachine):
    """One clean city per example; `template` is set by the test that runs the machine."""

    template: ClassVar[Template]

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.url, self._drop = self.template.clone()
        self.rt = self._start()
        self.cases: list[int] = []
        self.seen: dict[int, list[int]] = {}  # every version each case was read at
        self.keys: dict[tuple[int, str], tuple[str, int]] = {}  # (user, key) -> (body, case)
        self.actors: dict[str, Actor] = {}
        self.reporters: dict[int, str] = {}  # user id -> username
        self.restarts = 0

    # -- plumbing -------------------------------------------------------------------------------

    def _start(self) -> Runtime:
        return Runtime.build(self.template.settings(self.url), self.clock)

    def teardown(self) -> None:
        self.rt.engine.dispose()
        self._drop()

    def actor(self, username: str) -> Actor | None:
        if username not in self.actors:
            with self.rt.uows(readonly=True) as uow:
                user = uow.users.by_username(username)
            if user is None:
                return None
            self.actors[username] = user.actor()
        return self.actors[username]

    def load(self, case_id: int) -> Case:
        with self.rt.uows(readonly=True) as uow:
            case = uow.cases.get(case_id)
        assert case is not None
        return case

    def snapshot(self) -> Snapshot:
        """Everything an operation could touch, for every case of this example."""
        with self.rt.uows(readonly=True) as uow:
            rows = []
            for case_id in self.cases:
                case = uow.cases.get(case_id)
                rows.append(
                    (
                        case,
                        uow.cases.timeline(case_id),
                        [(d.id, d.status, d.warned_at) for d in uow.deadlines.for_case(case_id)],
                    )
                )
            events = uow.connection.execute(select(func.count()).select_from(outbox)).scalar_one()
        return tuple(rows), events

    def photo(self, actor: Actor) -> int:
        if actor.role is Role.SYSTEM:
            return 2**31 - 1  # the platform uploads nothing; no such attachment

        def store(data: bytes) -> tuple[str, str]:
            return hashlib.sha256(data).hexdigest(), "memory"

        with self.rt.uows(actor) as uow:
            return evidence.upload(
                uow,
                actor,
                striped_png(),
                "p.png",
                self.rt.env,
                store,
                10_000_000,
                clean=PhotoCleaner(40_000_000),
            ).id

    def remember(self, case: Case) -> None:
        self.seen.setdefault(case.id, []).append(case.version)

    # -- rules ----------------------------------------------------------------------------------

    @initialize(grid=st.integers(0, len(GRIDS) - 1))
    def first_report(self, grid: int) -> None:
        self.report(grid, "citizen01", None, "暴露垃圾")

    @precondition(lambda self: len(self.cases) < MAX_CASES)
    @rule(
        grid=st.integers(0, len(GRIDS) - 1),
        reporter=st.sampled_from(["citizen01", "citizen02", f"op.{TOWN.unit.code}"]),
        key=st.sampled_from([None, "k-1", "k-2"]),
        title=st.sampled_from(["暴露垃圾", "占道经营"]),
    )
    def report(self, grid: int, reporter: str, key: str | None, title: str) -> None:
        actor = self.actor(reporter)
        assert actor is not None
        self.reporters[actor.user_id] = reporter
        g = GRIDS[grid]
        draft = CaseDraft("E0102", title, "", g.lng, g.lat)
        before = self.snapshot()
        earlier = self.keys.get((actor.user_id, key)) if key else None
        if earlier is not None and earlier[0] != draft.fingerprint():
            with pytest.raises(DomainError) as refused:
                report_case(self.rt.uows, actor, draft, self.rt.env, key)
            assert refused.value.code == "idempotency.key_reused"
            assert self.snapshot() == before
            return
        result = report_case(self.rt.uows, actor, draft, self.rt.env, key)
        if earlier is not None:
            assert result.replayed and result.case.id == earlier[1]
            assert self.snapshot() == before  # a retry writes nothing
            return
        assert not result.replayed and result.case.version == 1
        assert result.case.id not in self.cases
        if key:
            self.keys[(actor.user_id, key)] = (draft.fingerprint(), result.case.id)
        self.cases.append(result.case.id)
        self.remember(result.case)

    @precondition(lambda self: bool(self.cases))
    @rule(
        data=st.data(),
        action=st.sampled_from(list(Action)),
        who=st.sampled_from(
            ["owner-op", "owner-cmd", "town-op", "handler", "worker", "reporter", "other", "system"]
        ),
        complete=st.booleans(),
        etag=st.sampled_from(["fresh", "fresh", "fresh", "stale", "any"]),
        passed=st.booleans(),
        department=st.sampled_from([None, "cgj", "scj"]),
    )
    def act(
        self,
        data: st.DataObject,
        action: Action,
        who: str,
        complete: bool,
        etag: str,
        passed: bool,
        department: str | None,
    ) -> None:
        case_id = data.draw(st.sampled_from(self.cases), label="case")
        case = self.load(case_id)
        actor = self.pick_actor(who, case)
        if actor is None:
            return
        command = Command(action)
        if complete:
            needs = RULES[action].requires
            command = Command(
                action,
                note="现场记录" if "note" in needs else None,
                reason="理由" if "reason" in needs else None,
                department_id=f"{DISTRICT.unit.code}-{department}" if department else None,
                photo_ids=(self.photo(actor),) if "photo_ids" in needs else (),
                passed=passed if "passed" in needs else None,
                satisfaction=data.draw(st.integers(0, 6), label="satisfaction")
                if "satisfaction" in needs
                else None,
                target_case_id=data.draw(st.sampled_from(self.cases), label="target")
                if "target_case_id" in needs
                else None,
            )
        stale = [v for v in self.seen.get(case_id, []) if v != case.version]
        if etag == "stale" and not stale:
            etag = "fresh"
        expected = {"fresh": case.version, "any": None}.get(etag) if etag != "stale" else None
        if etag == "stale":
            expected = data.draw(st.sampled_from(stale), label="stale version")
        self.attempt(actor, case, command, expected)

    @precondition(lambda self: bool(self.cases))
    @rule(data=st.data(), passed=st.booleans(), satisfaction=st.integers(1, 5))
    def advance(self, data: st.DataObject, passed: bool, satisfaction: int) -> None:
        """Take a step of the loop someone may take now, fully filled in, so cases get deep."""
        case = self.load(data.draw(st.sampled_from(self.cases), label="case"))
        candidates = [
            (action, actor)
            for who in ("owner-op", "owner-cmd", "handler", "worker", "reporter", "system")
            if (actor := self.pick_actor(who, case)) is not None
            for action in case.allowed(actor)
            if action in FORWARD
        ]
        if not candidates:
            return
        action, actor = data.draw(st.sampled_from(candidates), label="action")
        needs = RULES[action].requires
        others = [c for c in self.cases if c != case.id]
        command = Command(
            action,
            note="现场记录" if "note" in needs else None,
            reason="理由" if "reason" in needs else None,
            photo_ids=(self.photo(actor),) if "photo_ids" in needs else (),
            passed=passed if "passed" in needs else None,
            satisfaction=satisfaction if "satisfaction" in needs else None,
            target_case_id=data.draw(st.sampled_from(others), label="target")
            if "target_case_id" in needs and others
            else None,
        )
        self.attempt(actor, case, command, case.version)

    def attempt(self, actor: Actor, case: Case, command: Command, expected: int | None) -> None:
        before = self.snapshot()
        try:
            with self.rt.uows(actor) as uow:
                after = transition(uow, actor, case.id, command, self.rt.env, expected)
        except StaleVersion:
            TALLY["refused: stale"] += 1
            assert expected is not None and expected != case.version
            assert self.snapshot() == before, "a stale write changed something"
            return
        except NotFound:  # out of the actor's scope: not revealed, whatever the ETag
            TALLY["refused: not found"] += 1
            assert self.snapshot() == before, "an unseen case was changed"
            return
        except DomainError as refused:
            TALLY[f"refused: {type(refused).__name__}"] += 1
            assert expected in (None, case.version), "a stale ETag got past the version check"
            assert self.snapshot() == before, "a refused action changed something"
            return
        assert expected in (None, case.version), "a stale ETag was accepted"
        assert command.action in case.allowed(actor)
        stored = self.load(case.id)
        assert stored.version == after.version == case.version + 1
        self.remember(stored)
        TALLY[f"accepted: {command.action.value} -> {stored.state.value}"] += 1

    def pick_actor(self, who: str, case: Case) -> Actor | None:
        owner_code = case.owner_path.rsplit(".", 1)[-1]
        if who == "system":
            return SYSTEM_ACTOR
        username = {
            "owner-op": f"op.{owner_code}",
            "owner-cmd": f"cmd.{owner_code}",
            "town-op": f"op.{TOWN.unit.code}",
            "handler": f"h.{case.department_id or DISTRICT.unit.code + '-cgj'}",
            "worker": f"gw.{case.grid_code}",
            "other": "citizen03",
        }.get(who)
        if who == "reporter":
            return self.actor(self.reporters[case.reporter_id])
        assert username is not None
        return self.actor(username)

    @rule(hours=st.sampled_from([0.25, 0.5, 1.0, 2.0, 6.0, 24.0, 72.0]))
    def clock_jump(self, hours: float) -> None:
        before = {c: self.load(c) for c in self.cases}
        self.clock.advance(hours=hours)
        first = run_clocks(self.rt.uows, self.rt.env)
        second = run_clocks(self.rt.uows, self.rt.env)
        assert second.lapsed == 0, "a second pass at the same instant found more to do"
        TALLY["sla lapses"] += first.lapsed
        for case_id, earlier in before.items():
            now = self.load(case_id)
            with self.rt.uows(readonly=True) as uow:
                entries = uow.cases.timeline(case_id)[earlier.version :]
            assert now.version - earlier.version == len(entries)
            assert all(e.actor_role == "system" for _s, e in entries)
            self.remember(now)

    @rule()
    def restart(self) -> None:
        """Throw the process state away and start again on the same database."""
        self.rt.engine.dispose()
        self.rt = self._start()
        self.actors.clear()
        self.restarts += 1

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def every_case_is_its_timeline_replayed(self) -> None:
        with self.rt.uows(readonly=True) as uow:
            for case_id in self.cases:
                case = uow.cases.get(case_id)
                timeline = uow.cases.timeline(case_id)
                assert [seq for seq, _e in timeline] == list(range(1, case.version + 1))
                ghost = replay(case, timeline)
                for name in (
                    "state",
                    "version",
                    "owner_path",
                    "department_id",
                    "suspended_from",
                    "rework_count",
                    "escalation_count",
                    "supervision_count",
                    "satisfaction",
                    "merged_into",
                ):
                    assert getattr(ghost, name) == getattr(case, name), name
                events = uow.connection.execute(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.aggregate_id == case_id, outbox.c.type.like("case.%"))
                ).scalar_one()
                assert events == case.version, "every accepted write has its event"

    @invariant()
    def every_open_case_runs_exactly_the_clock_its_state_calls_for(self) -> None:
        with self.rt.uows(readonly=True) as uow:
            for case_id in self.cases:
                case = uow.cases.get(case_id)
                deadlines = uow.deadlines.for_case(case_id)
                live = [d for d in deadlines if d.status == LIVE]
                paused = [d for d in deadlines if d.status == PAUSED]
                if case.state in ACTIVE_STATES:
                    assert len(live) == 1 and not paused, (case.state, deadlines)
                    assert live[0].deadline.stage is case.stage()
                    assert case.due_at == live[0].deadline.due_at
                elif case.state is CaseState.SUSPENDED:
                    assert not live and len(paused) == 1, deadlines
                    assert case.due_at is None
                else:
                    assert not live and not paused, (case.state, deadlines)
                    assert case.due_at is None

    @invariant()
    def every_lapse_escalated_or_supervised_exactly_once(self) -> None:
        with self.rt.uows(readonly=True) as uow:
            for case_id in self.cases:
                lapsed = [d for d in uow.deadlines.for_case(case_id) if d.status == LAPSED]
                overdue = [
                    e
                    for _seq, e in uow.cases.timeline(case_id)
                    if e.actor_role == "system"
                    and e.action in ("escalate", "supervise")
                    and (e.note or "").startswith("sla.overdue:")
                ]
                assert len(lapsed) == len(overdue)
                assert sorted(d.lapsed_at for d in lapsed) == [e.at for e in overdue]


def run_machine(template: Template, examples: int, steps: int) -> None:
    machine: Callable[[], CaseLoopMachine] = type(
        f"CaseLoopOn{template.kind.title()}", (CaseLoopMachine,), {"template": template}
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            derandomize=False,
        ),
    )


def test_cases_keep_their_invariants_under_any_sequence_of_operations(template: Template) -> None:
    examples = budget("STATEFUL_EXAMPLES", 20 if template.kind == "sqlite" else 6)
    TALLY.clear()
    run_machine(template, examples, budget("STATEFUL_STEPS", 30))
    print(f"\n{template.kind}: {examples} examples;", dict(sorted(TALLY.items())))
