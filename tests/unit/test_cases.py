"""The Case aggregate as a specification: the closed loop, who may take each step, what each step
must carry, and that a refused step changes nothing.

The tables at the top (SOURCES, PERMITTED, REQUIRED) restate the rules from the architecture
document independently of `pingan.domain.cases.RULES`, so an accidental edit of the rules fails
here.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.domain.access import SYSTEM_ACTOR, Actor, Role
from pingan.domain.cases import (
    ACTIVE_STATES,
    OPEN_STATES,
    RULES,
    Action,
    Case,
    CaseState,
    Command,
)
from pingan.domain.errors import DomainError, Forbidden, IllegalTransition, InvalidInput
from pingan.domain.sla import Stage, Urgency

S = CaseState
A = Action

# --- a small world: one town in Nanhu district of Jiaxing, one grid, two departments -------------

CITY = "330400"
DISTRICT = "330400.330402"
TOWN = "330400.330402.330402007"
OTHER_TOWN = "330400.330402.330402001"
COMMUNITY = f"{TOWN}.330402007003"
GRID = "330402007003G01"
OTHER_GRID = "330402007003G02"
DEPT = "330402.cgj"
OTHER_DEPT = "330402.gaj"
T0 = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)

ACTORS: dict[str, Actor] = {
    "operator": Actor(11, "op-town", Role.OPERATOR, TOWN),
    "district_operator": Actor(12, "op-district", Role.OPERATOR, DISTRICT),
    "operator_other_town": Actor(13, "op-other", Role.OPERATOR, OTHER_TOWN),
    "operator_in_dept": Actor(14, "op-dept", Role.OPERATOR, OTHER_TOWN, department_id=DEPT),
    "commander": Actor(21, "cmd-district", Role.COMMANDER, DISTRICT),
    "city_commander": Actor(22, "cmd-city", Role.COMMANDER, CITY),
    "commander_other_town": Actor(23, "cmd-other", Role.COMMANDER, OTHER_TOWN),
    "handler": Actor(31, "handler", Role.HANDLER, DISTRICT, department_id=DEPT),
    "handler_other_dept": Actor(32, "handler-x", Role.HANDLER, DISTRICT, department_id=OTHER_DEPT),
    "grid_worker": Actor(41, "gw", Role.GRID_WORKER, COMMUNITY, grid_code=GRID),
    "grid_worker_other_grid": Actor(42, "gw-x", Role.GRID_WORKER, COMMUNITY, grid_code=OTHER_GRID),
    "reporter": Actor(51, "citizen", Role.CITIZEN, CITY),
    "other_citizen": Actor(52, "citizen-x", Role.CITIZEN, CITY),
    "citizen_in_grid": Actor(53, "citizen-g", Role.CITIZEN, CITY, grid_code=GRID),
    "auditor": Actor(61, "auditor", Role.AUDITOR, CITY),
    "admin": Actor(71, "admin", Role.ADMIN, CITY),
    "system": SYSTEM_ACTOR,
}
ACTOR_NAMES = sorted(ACTORS)

# --- the rules, restated -------------------------------------------------------------------------

ACTIVE = {S.REPORTED, S.FILED, S.DISPATCHED, S.ACCEPTED, S.HANDLED, S.REWORK, S.VERIFIED}
SOURCES: dict[Action, set[CaseState]] = {
    A.FILE: {S.REPORTED},
    A.REJECT: {S.REPORTED},
    A.DISPATCH: {S.FILED},
    A.ACCEPT: {S.DISPATCHED},
    A.RETURN: {S.DISPATCHED, S.ACCEPTED},
    A.HANDLE: {S.ACCEPTED, S.REWORK},
    A.VERIFY: {S.HANDLED},
    A.CLOSE: {S.VERIFIED},
    A.EVALUATE: {S.CLOSED},
    A.ESCALATE: ACTIVE,
    A.SUPERVISE: ACTIVE,
    A.SUSPEND: ACTIVE - {S.REPORTED},
    A.RESUME: {S.SUSPENDED},
    A.MERGE: {S.REPORTED, S.FILED},
}
CENTRE = {"operator", "district_operator", "commander", "city_commander"}
PERMITTED: dict[Action, set[str]] = {
    A.FILE: CENTRE,
    A.REJECT: CENTRE,
    A.DISPATCH: CENTRE,
    A.ACCEPT: {"handler"},
    A.RETURN: {"handler"},
    A.HANDLE: {"handler"},
    A.VERIFY: {"grid_worker"},
    A.CLOSE: CENTRE,
    A.EVALUATE: CENTRE | {"reporter"},
    A.ESCALATE: CENTRE | {"system"},
    A.SUPERVISE: {"commander", "city_commander", "system"},
    A.SUSPEND: CENTRE,
    A.RESUME: CENTRE,
    A.MERGE: CENTRE,
}
REQUIRED: dict[Action, tuple[str, ...]] = {
    A.FILE: (),
    A.REJECT: ("reason",),
    A.DISPATCH: ("department_id",),
    A.ACCEPT: (),
    A.RETURN: ("reason",),
    A.HANDLE: ("note", "photo_ids"),
    A.VERIFY: ("passed", "note", "photo_ids"),
    A.CLOSE: (),
    A.EVALUATE: ("satisfaction",),
    A.ESCALATE: ("reason",),
    A.SUPERVISE: ("note",),
    A.SUSPEND: ("reason",),
    A.RESUME: (),
    A.MERGE: ("target_case_id",),
}
EVENT_TYPES: dict[Action, str] = {
    A.FILE: "case.filed",
    A.REJECT: "case.rejected",
    A.DISPATCH: "case.dispatched",
    A.ACCEPT: "case.accepted",
    A.RETURN: "case.returned",
    A.HANDLE: "case.handled",
    A.VERIFY: "case.verified",
    A.CLOSE: "case.closed",
    A.EVALUATE: "case.evaluated",
    A.ESCALATE: "case.escalated",
    A.SUPERVISE: "case.supervised",
    A.SUSPEND: "case.suspended",
    A.RESUME: "case.resumed",
    A.MERGE: "case.merged",
}

# --- factories -----------------------------------------------------------------------------------


def full_command(action: Action, **overrides: Any) -> Command:
    """A command for `action` carrying every field any rule could require."""
    fields: dict[str, Any] = {
        "note": f"{action.value} note",
        "reason": f"{action.value} reason",
        "department_id": DEPT,
        "photo_ids": (101, 102),
        "passed": True,
        "satisfaction": 5,
        "target_case_id": 2,
    }
    fields.update(overrides)
    return Command(action, **fields)


def minimal_command(action: Action, **overrides: Any) -> Command:
    """A command carrying only what the spec says `action` requires."""
    filled = full_command(action)
    fields = {name: getattr(filled, name) for name in REQUIRED[action]}
    fields.update(overrides)
    return Command(action, **fields)


def report_case(owner_path: str = TOWN, **overrides: Any) -> Case:
    fields: dict[str, Any] = {
        "id": 1,
        "tracking_no": "PA2026031600001",
        "category_code": "E0102",
        "urgency": Urgency.ROUTINE,
        "title": "暴露垃圾",
        "description": "Rubbish bags left by the canal path",
        "lng": 120.7555,
        "lat": 30.7461,
        "grid_code": GRID,
        "location_path": COMMUNITY,
        "owner_path": owner_path,
        "channel": "app",
    }
    fields.update(overrides)
    return Case.report(ACTORS["reporter"], T0, **fields)


class Clock:
    """Hands out strictly increasing instants, one minute apart."""

    def __init__(self) -> None:
        self.now = T0

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


DEFAULT_ACTOR: dict[Action, str] = {
    A.FILE: "operator",
    A.REJECT: "operator",
    A.DISPATCH: "operator",
    A.ACCEPT: "handler",
    A.RETURN: "handler",
    A.HANDLE: "handler",
    A.VERIFY: "grid_worker",
    A.CLOSE: "operator",
    A.EVALUATE: "reporter",
    A.ESCALATE: "operator",
    A.SUPERVISE: "commander",
    A.SUSPEND: "operator",
    A.RESUME: "operator",
    A.MERGE: "operator",
}

Step = Action | tuple[Action, dict[str, Any]]

_LOOP: list[Step] = [A.FILE, A.DISPATCH, A.ACCEPT, A.HANDLE]
PATH_TO: dict[CaseState, list[Step]] = {
    S.REPORTED: [],
    S.FILED: [A.FILE],
    S.REJECTED: [A.REJECT],
    S.MERGED: [A.MERGE],
    S.DISPATCHED: [A.FILE, A.DISPATCH],
    S.ACCEPTED: [A.FILE, A.DISPATCH, A.ACCEPT],
    S.HANDLED: _LOOP,
    S.REWORK: [*_LOOP, (A.VERIFY, {"passed": False})],
    S.VERIFIED: [*_LOOP, A.VERIFY],
    S.CLOSED: [*_LOOP, A.VERIFY, A.CLOSE],
    S.EVALUATED: [*_LOOP, A.VERIFY, A.CLOSE, A.EVALUATE],
    S.SUSPENDED: [A.FILE, A.SUSPEND],
}


def step(case: Case, clock: Clock, action: Action, actor: str | None = None, **fields: Any) -> None:
    case.apply(full_command(action, **fields), ACTORS[actor or DEFAULT_ACTOR[action]], clock.tick())


def case_in(state: CaseState, clock: Clock | None = None, **overrides: Any) -> Case:
    case = report_case(**overrides)
    clock = clock or Clock()
    for item in PATH_TO[state]:
        action, fields = item if isinstance(item, tuple) else (item, {})
        step(case, clock, action, **fields)
    assert case.state is state
    return case


def snapshot(case: Case) -> dict[str, Any]:
    """A deep copy of everything the case holds, to compare before and after."""
    return dataclasses.asdict(case)


def quick_snapshot(case: Case) -> dict[str, Any]:
    """Every attribute, with the append-only lists of frozen entries copied shallowly; fast enough
    to take at every step of a property run."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in vars(case).items()}


def assert_refused(
    case: Case, command: Command, actor: Actor, error: type[DomainError], code: str
) -> DomainError:
    before = snapshot(case)
    attempt = f"{command.action} by {actor.username} in {case.state}"
    try:
        case.apply(command, actor, T0 + timedelta(days=30))
    except DomainError as raised:
        assert isinstance(raised, error), f"{attempt}: expected {error.__name__}, got {raised!r}"
        assert raised.code == code, attempt
        assert snapshot(case) == before, f"{attempt}: a refused action must change nothing"
        return raised
    pytest.fail(f"{attempt} was not refused")


# --- the rule table itself -----------------------------------------------------------------------


def test_rules_cover_every_action_once() -> None:
    assert set(RULES) == set(Action)
    assert all(rule.action is action for action, rule in RULES.items())


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_rule_sources_match_the_closed_loop(action: Action) -> None:
    assert set(RULES[action].sources) == SOURCES[action]


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_rule_requires_the_documented_fields(action: Action) -> None:
    assert RULES[action].requires == REQUIRED[action]


def test_open_and_active_states() -> None:
    assert ACTIVE_STATES == ACTIVE
    assert ACTIVE | {S.SUSPENDED} == OPEN_STATES
    for closed in (S.REJECTED, S.CLOSED, S.EVALUATED, S.MERGED):
        assert not case_in(closed).is_open


def test_rule_describes_itself_as_plain_data() -> None:
    described = RULES[A.VERIFY].describe()
    assert described == {
        "action": "verify",
        "from": ["handled"],
        "who": [{"role": "grid_worker", "relation": "grid"}],
        "requires": ["passed", "note", "photo_ids"],
    }


# --- reporting and the happy path ----------------------------------------------------------------


def test_report_starts_a_case_at_version_one_with_one_entry_and_one_event() -> None:
    case = report_case()
    assert case.state is S.REPORTED
    assert case.version == 1
    assert case.reporter_id == ACTORS["reporter"].user_id
    assert case.created_at == case.updated_at == T0
    [entry] = case.pending_timeline
    assert (entry.action, entry.from_state, entry.to_state) == ("report", None, S.REPORTED)
    assert entry.data == {"channel": "app"}
    [event] = case.pending_events
    assert event.type == "case.reported"
    assert event.aggregate_id == 1
    assert event.unit_path == COMMUNITY
    assert event.payload["version"] == 1
    assert event.payload["category"] == "E0102"


HAPPY_PATH: list[tuple[Action, str, CaseState]] = [
    (A.FILE, "operator", S.FILED),
    (A.DISPATCH, "operator", S.DISPATCHED),
    (A.ACCEPT, "handler", S.ACCEPTED),
    (A.HANDLE, "handler", S.HANDLED),
    (A.VERIFY, "grid_worker", S.VERIFIED),
    (A.CLOSE, "commander", S.CLOSED),
    (A.EVALUATE, "reporter", S.EVALUATED),
]


def test_happy_path_closes_the_loop_one_version_entry_and_event_per_action() -> None:
    case, clock = report_case(), Clock()
    for n, (action, actor, expected) in enumerate(HAPPY_PATH, start=1):
        before = case.state
        now = clock.tick()
        case.apply(full_command(action), ACTORS[actor], now)

        assert case.state is expected
        assert case.version == 1 + n
        assert case.updated_at == now
        entry = case.pending_timeline[-1]
        assert len(case.pending_timeline) == 1 + n
        assert (entry.action, entry.from_state, entry.to_state) == (action.value, before, expected)
        assert (entry.actor_id, entry.actor_role, entry.at) == (
            ACTORS[actor].user_id,
            ACTORS[actor].role.value,
            now,
        )
        event = case.pending_events[-1]
        assert len(case.pending_events) == 1 + n
        assert event.type == EVENT_TYPES[action]
        assert event.occurred_at == now
        assert event.aggregate_id == case.id
        assert event.payload["state"] == expected.value
        assert event.payload["version"] == case.version
        assert event.payload["tracking_no"] == case.tracking_no

    assert case.department_id == DEPT
    assert case.satisfaction == 5
    assert case.photo_ids == (101, 102, 101, 102)  # the handler's and the grid worker's evidence
    assert case.rework_count == 0
    assert not case.is_open
    assert [e.type for e in case.pending_events] == [
        "case.reported",
        "case.filed",
        "case.dispatched",
        "case.accepted",
        "case.handled",
        "case.verified",
        "case.closed",
        "case.evaluated",
    ]


def test_event_ids_are_unique() -> None:
    case = case_in(S.EVALUATED)
    ids = [e.event_id for e in case.pending_events]
    assert len(set(ids)) == len(ids)


def test_dispatch_assigns_the_department() -> None:
    case = case_in(S.FILED)
    step(case, Clock(), A.DISPATCH, department_id=OTHER_DEPT)
    assert case.department_id == OTHER_DEPT
    assert case.pending_events[-1].payload["department_id"] == OTHER_DEPT


def test_close_records_when_the_case_was_closed() -> None:
    case, clock = case_in(S.VERIFIED), Clock()
    clock.now = T0 + timedelta(hours=5)
    step(case, clock, A.CLOSE)
    assert case.closed_at == clock.now


def test_timeline_note_is_the_command_note_or_else_its_reason() -> None:
    case, clock = case_in(S.ACCEPTED), Clock()
    case.apply(minimal_command(A.HANDLE, note="swept and bagged"), ACTORS["handler"], clock.tick())
    assert case.pending_timeline[-1].note == "swept and bagged"
    case.apply(minimal_command(A.SUSPEND), ACTORS["operator"], clock.tick())
    assert case.pending_timeline[-1].note == "suspend reason"


@pytest.mark.parametrize(
    ("state", "stage"),
    [
        (S.REPORTED, Stage.FILING),
        (S.FILED, Stage.DISPATCH),
        (S.DISPATCHED, Stage.HANDLING),
        (S.ACCEPTED, Stage.HANDLING),
        (S.REWORK, Stage.HANDLING),
        (S.HANDLED, Stage.VERIFY),
        (S.VERIFIED, Stage.CLOSING),
        (S.CLOSED, None),
        (S.EVALUATED, None),
        (S.REJECTED, None),
        (S.MERGED, None),
        (S.SUSPENDED, None),
    ],
    ids=str,
)
def test_each_state_runs_the_sla_clock_of_its_stage(state: CaseState, stage: Stage | None) -> None:
    assert case_in(state).stage() is stage


# --- reject, return, rework ----------------------------------------------------------------------


def test_reject_ends_the_case_with_its_reason() -> None:
    case, clock = report_case(), Clock()
    clock.now = T0 + timedelta(hours=3)
    command = minimal_command(A.REJECT, reason="duplicate of a closed case")
    case.apply(command, ACTORS["operator"], clock.tick())
    assert case.state is S.REJECTED
    assert not case.is_open
    assert case.closed_at == clock.now
    assert case.pending_events[-1].type == "case.rejected"
    assert case.pending_events[-1].payload["reason"] == "duplicate of a closed case"
    assert case.pending_timeline[-1].note == "duplicate of a closed case"


@pytest.mark.parametrize("state", [S.DISPATCHED, S.ACCEPTED], ids=str)
def test_return_sends_the_case_back_to_filed_and_clears_the_department(state: CaseState) -> None:
    case, clock = case_in(state), Clock()
    step(case, clock, A.RETURN, reason="not our competence")
    assert case.state is S.FILED
    assert case.department_id is None
    event = case.pending_events[-1]
    assert event.type == "case.returned"
    assert event.payload["returned_by"] == DEPT
    assert event.payload["reason"] == "not our competence"


def test_returned_case_no_longer_belongs_to_the_returning_department() -> None:
    case, clock = case_in(S.DISPATCHED), Clock()
    step(case, clock, A.RETURN)
    assert A.ACCEPT not in case.allowed(ACTORS["handler"])
    step(case, clock, A.DISPATCH, department_id=OTHER_DEPT)
    assert_refused(case, full_command(A.ACCEPT), ACTORS["handler"], Forbidden, "case.not_permitted")
    step(case, clock, A.ACCEPT, actor="handler_other_dept")
    assert case.state is S.ACCEPTED


def test_failed_verification_sends_the_case_to_rework_and_it_can_be_handled_again() -> None:
    case, clock = case_in(S.HANDLED), Clock()
    step(case, clock, A.VERIFY, passed=False, note="bags still there")
    assert case.state is S.REWORK
    assert case.rework_count == 1
    assert case.pending_events[-1].type == "case.verified"
    assert case.pending_events[-1].payload["passed"] is False

    step(case, clock, A.HANDLE, note="cleared again")
    assert case.state is S.HANDLED
    step(case, clock, A.VERIFY, passed=False)
    step(case, clock, A.HANDLE)
    assert case.rework_count == 2
    step(case, clock, A.VERIFY, passed=True)
    assert case.state is S.VERIFIED
    assert case.rework_count == 2
    assert case.pending_events[-1].payload["passed"] is True


def test_failed_verification_needs_no_photo_but_a_passed_one_does() -> None:
    case = case_in(S.HANDLED)
    assert_refused(
        case,
        Command(A.VERIFY, passed=True, note="looks fine"),
        ACTORS["grid_worker"],
        InvalidInput,
        "case.missing_fields",
    )
    case.apply(Command(A.VERIFY, passed=False, note="not done"), ACTORS["grid_worker"], T0)
    assert case.state is S.REWORK


def test_failed_verification_still_needs_a_note() -> None:
    case = case_in(S.HANDLED)
    error = assert_refused(
        case,
        Command(A.VERIFY, passed=False),
        ACTORS["grid_worker"],
        InvalidInput,
        "case.missing_fields",
    )
    assert error.params["fields"] == ["note"]


# --- escalation, supervision, suspension, merge --------------------------------------------------


def test_escalation_moves_ownership_up_one_level_at_a_time_and_stops_at_the_top() -> None:
    case, clock = case_in(S.DISPATCHED), Clock()
    step(case, clock, A.ESCALATE, actor="operator", reason="overdue")
    assert case.owner_path == DISTRICT
    assert case.state is S.DISPATCHED
    assert case.escalation_count == 1
    assert case.pending_events[-1].type == "case.escalated"
    assert case.pending_events[-1].payload["from_owner"] == TOWN
    assert case.pending_events[-1].payload["to_owner"] == DISTRICT

    step(case, clock, A.ESCALATE, actor="system")
    assert case.owner_path == CITY
    assert case.escalation_count == 2

    assert_refused(
        case,
        full_command(A.ESCALATE),
        ACTORS["city_commander"],
        IllegalTransition,
        "case.top_level",
    )
    assert_refused(
        case, full_command(A.ESCALATE), SYSTEM_ACTOR, IllegalTransition, "case.top_level"
    )


def test_escalate_is_not_offered_at_the_top_level() -> None:
    case = report_case(owner_path=CITY)
    step(case, Clock(), A.FILE, actor="city_commander")
    assert A.ESCALATE not in case.allowed(ACTORS["city_commander"])
    assert A.ESCALATE not in case.allowed(SYSTEM_ACTOR)
    assert A.ESCALATE in case_in(S.FILED).allowed(ACTORS["city_commander"])


def test_escalated_case_leaves_the_town_centre_jurisdiction() -> None:
    case, clock = case_in(S.FILED), Clock()
    step(case, clock, A.ESCALATE)
    assert_refused(
        case, full_command(A.DISPATCH), ACTORS["operator"], Forbidden, "case.not_permitted"
    )
    step(case, clock, A.DISPATCH, actor="district_operator")
    assert case.state is S.DISPATCHED


def test_events_still_route_by_location_after_escalation() -> None:
    case, clock = case_in(S.FILED), Clock()
    step(case, clock, A.ESCALATE)
    assert case.pending_events[-1].unit_path == COMMUNITY
    assert case.pending_events[-1].payload["owner_path"] == DISTRICT


def test_supervision_counts_each_time_and_keeps_the_state() -> None:
    case, clock = case_in(S.ACCEPTED), Clock()
    for n in (1, 2, 3):
        step(case, clock, A.SUPERVISE, actor="commander" if n < 3 else "system")
        assert case.supervision_count == n
        assert case.pending_events[-1].payload["count"] == n
    assert case.state is S.ACCEPTED
    assert case.version == 1 + len(PATH_TO[S.ACCEPTED]) + 3


SUSPENDABLE = sorted(ACTIVE - {S.REPORTED})


@pytest.mark.parametrize("state", SUSPENDABLE, ids=str)
def test_suspend_then_resume_restores_the_prior_state(state: CaseState) -> None:
    case, clock = case_in(state), Clock()
    department = case.department_id
    step(case, clock, A.SUSPEND, reason="waiting for the owner to return")
    assert case.state is S.SUSPENDED
    assert case.suspended_from is state
    assert case.is_open
    assert case.stage() is None

    step(case, clock, A.RESUME)
    assert case.state is state
    assert case.suspended_from is None
    assert case.department_id == department
    assert [e.type for e in case.pending_events[-2:]] == ["case.suspended", "case.resumed"]


def test_a_suspended_case_can_only_be_resumed() -> None:
    case = case_in(S.SUSPENDED)
    assert case.allowed(ACTORS["city_commander"]) == [A.RESUME]
    for action in Action:
        if action is not A.RESUME:
            assert_refused(
                case,
                full_command(action),
                ACTORS["city_commander"],
                IllegalTransition,
                "case.illegal_transition",
            )


@pytest.mark.parametrize("state", [S.REPORTED, S.FILED], ids=str)
def test_merge_folds_an_early_case_into_another(state: CaseState) -> None:
    case, clock = case_in(state), Clock()
    step(case, clock, A.MERGE, target_case_id=7)
    assert case.state is S.MERGED
    assert case.merged_into == 7
    assert not case.is_open
    assert case.pending_events[-1].payload["target_case_id"] == 7


def test_merge_into_itself_is_refused() -> None:
    case = case_in(S.FILED)
    assert_refused(
        case,
        full_command(A.MERGE, target_case_id=case.id),
        ACTORS["operator"],
        InvalidInput,
        "case.merge_self",
    )


# --- evaluation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("score", [1, 5])
def test_satisfaction_bounds_are_accepted(score: int) -> None:
    case = case_in(S.CLOSED)
    step(case, Clock(), A.EVALUATE, satisfaction=score)
    assert case.satisfaction == score
    assert case.pending_events[-1].payload["satisfaction"] == score


@pytest.mark.parametrize("score", [0, 6, -1, 100])
def test_satisfaction_outside_one_to_five_is_refused(score: int) -> None:
    case = case_in(S.CLOSED)
    error = assert_refused(
        case,
        full_command(A.EVALUATE, satisfaction=score),
        ACTORS["reporter"],
        InvalidInput,
        "case.satisfaction_range",
    )
    assert error.params["value"] == score


def test_the_centre_may_record_an_evaluation_for_a_phone_reporter() -> None:
    case = case_in(S.CLOSED)
    step(case, Clock(), A.EVALUATE, actor="operator", satisfaction=3)
    assert case.state is S.EVALUATED


# --- every illegal transition is refused and changes nothing -------------------------------------


@pytest.mark.parametrize("state", list(CaseState), ids=str)
def test_illegal_transition_changes_nothing(state: CaseState) -> None:
    case = case_in(state)
    illegal = [action for action in Action if state not in SOURCES[action]]
    for action in illegal:
        for name in sorted(PERMITTED[action]):
            error = assert_refused(
                case,
                full_command(action),
                ACTORS[name],
                IllegalTransition,
                "case.illegal_transition",
            )
            assert error.params == {"action": action.value, "state": state.value}
        assert action not in case.allowed(ACTORS["city_commander"])


# --- every role x relation not granted is forbidden and changes nothing --------------------------

LEGAL_STATE: dict[Action, CaseState] = {
    A.FILE: S.REPORTED,
    A.REJECT: S.REPORTED,
    A.DISPATCH: S.FILED,
    A.ACCEPT: S.DISPATCHED,
    A.RETURN: S.ACCEPTED,
    A.HANDLE: S.REWORK,
    A.VERIFY: S.HANDLED,
    A.CLOSE: S.VERIFIED,
    A.EVALUATE: S.CLOSED,
    A.ESCALATE: S.HANDLED,
    A.SUPERVISE: S.DISPATCHED,
    A.SUSPEND: S.VERIFIED,
    A.RESUME: S.SUSPENDED,
    A.MERGE: S.FILED,
}


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_action_by_an_actor_without_the_grant_is_forbidden_and_changes_nothing(
    action: Action,
) -> None:
    case = case_in(LEGAL_STATE[action])
    for name in ACTOR_NAMES:
        if name in PERMITTED[action]:
            continue
        actor = ACTORS[name]
        error = assert_refused(case, full_command(action), actor, Forbidden, "case.not_permitted")
        assert error.params == {"action": action.value, "role": actor.role.value}, name
        assert action not in case.allowed(actor), name


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_action_by_a_granted_actor_is_offered_and_succeeds(action: Action) -> None:
    for name in sorted(PERMITTED[action]):
        case = case_in(LEGAL_STATE[action])
        assert action in case.allowed(ACTORS[name]), name
        case.apply(full_command(action), ACTORS[name], T0 + timedelta(days=1))
        assert case.version == 2 + len(PATH_TO[LEGAL_STATE[action]])


@pytest.mark.parametrize(
    ("action", "name"),
    [
        (A.ACCEPT, "handler_other_dept"),
        (A.HANDLE, "handler_other_dept"),
        (A.VERIFY, "grid_worker_other_grid"),
        (A.VERIFY, "citizen_in_grid"),
        (A.FILE, "operator_other_town"),
        (A.SUPERVISE, "commander_other_town"),
        (A.SUPERVISE, "operator"),
        (A.ACCEPT, "operator_in_dept"),
        (A.EVALUATE, "other_citizen"),
        (A.CLOSE, "auditor"),
        (A.DISPATCH, "admin"),
        (A.FILE, "system"),
    ],
    ids=str,
)
def test_the_wrong_relation_or_role_is_forbidden(action: Action, name: str) -> None:
    case = case_in(LEGAL_STATE[action])
    assert_refused(case, full_command(action), ACTORS[name], Forbidden, "case.not_permitted")


def test_a_citizen_who_is_not_the_reporter_may_not_evaluate() -> None:
    case = case_in(S.CLOSED)
    assert case.allowed(ACTORS["reporter"]) == [A.EVALUATE]
    assert case.allowed(ACTORS["other_citizen"]) == []


def test_auditors_and_admins_may_read_but_never_act() -> None:
    for state in CaseState:
        case = case_in(state)
        assert case.allowed(ACTORS["auditor"]) == []
        assert case.allowed(ACTORS["admin"]) == []


# --- required fields -----------------------------------------------------------------------------

_EMPTY: dict[str, Any] = {
    "note": None,
    "reason": None,
    "department_id": None,
    "photo_ids": (),
    "passed": None,
    "satisfaction": None,
    "target_case_id": None,
}
MISSING = [
    pytest.param(action, name, id=f"{action}-without-{name}")
    for action, names in REQUIRED.items()
    for name in names
]


@pytest.mark.parametrize(("action", "name"), MISSING)
def test_missing_required_field_is_refused_and_changes_nothing(action: Action, name: str) -> None:
    case = case_in(LEGAL_STATE[action])
    actor = ACTORS[DEFAULT_ACTOR[action]]
    command = minimal_command(action, **{name: _EMPTY[name]})
    error = assert_refused(case, command, actor, InvalidInput, "case.missing_fields")
    assert name in error.params["fields"]
    assert error.params["action"] == action.value


@pytest.mark.parametrize("name", ["note", "reason", "department_id"])
def test_blank_text_counts_as_missing(name: str) -> None:
    action = {"note": A.SUPERVISE, "reason": A.SUSPEND, "department_id": A.DISPATCH}[name]
    case = case_in(LEGAL_STATE[action])
    command = minimal_command(action, **{name: "  \t "})
    assert_refused(
        case, command, ACTORS[DEFAULT_ACTOR[action]], InvalidInput, "case.missing_fields"
    )


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_a_command_with_exactly_the_required_fields_is_enough(action: Action) -> None:
    case = case_in(LEGAL_STATE[action])
    case.apply(minimal_command(action), ACTORS[DEFAULT_ACTOR[action]], T0 + timedelta(days=1))
    assert case.version == 2 + len(PATH_TO[LEGAL_STATE[action]])


def test_handling_without_photo_evidence_is_refused() -> None:
    case = case_in(S.ACCEPTED)
    error = assert_refused(
        case,
        Command(A.HANDLE, note="done"),
        ACTORS["handler"],
        InvalidInput,
        "case.missing_fields",
    )
    assert error.params["fields"] == ["photo_ids"]


def test_all_missing_fields_are_named_together() -> None:
    case = case_in(S.HANDLED)
    error = assert_refused(
        case, Command(A.VERIFY), ACTORS["grid_worker"], InvalidInput, "case.missing_fields"
    )
    assert error.params["fields"] == ["passed", "note", "photo_ids"]


def test_state_is_checked_before_permission_and_permission_before_fields() -> None:
    reported = report_case()
    assert_refused(
        reported,
        Command(A.CLOSE),
        ACTORS["auditor"],
        IllegalTransition,
        "case.illegal_transition",
    )
    assert_refused(reported, Command(A.REJECT), ACTORS["auditor"], Forbidden, "case.not_permitted")


def test_check_raises_without_changing_anything_and_returns_the_rule() -> None:
    case = report_case()
    before = snapshot(case)
    assert case.check(full_command(A.FILE), ACTORS["operator"]) is RULES[A.FILE]
    assert snapshot(case) == before


# --- property: any sequence of attempts keeps the aggregate consistent ---------------------------

# Each move is a command with every required field filled, so only state and permission decide.
MOVES: dict[str, Command] = {
    "file": full_command(A.FILE),
    "reject": full_command(A.REJECT),
    "dispatch": full_command(A.DISPATCH),
    "dispatch_other_dept": full_command(A.DISPATCH, department_id=OTHER_DEPT),
    "accept": full_command(A.ACCEPT),
    "return": full_command(A.RETURN),
    "handle": full_command(A.HANDLE),
    "verify_pass": full_command(A.VERIFY, passed=True),
    "verify_fail": full_command(A.VERIFY, passed=False, photo_ids=()),
    "close": full_command(A.CLOSE),
    "evaluate": full_command(A.EVALUATE, satisfaction=4),
    "escalate": full_command(A.ESCALATE),
    "supervise": full_command(A.SUPERVISE),
    "suspend": full_command(A.SUSPEND),
    "resume": full_command(A.RESUME),
    "merge": full_command(A.MERGE, target_case_id=99),
}
ONE_COMMAND_PER_ACTION = list({c.action: c for c in MOVES.values()}.values())
TARGETS: dict[Action, set[CaseState]] = {
    A.FILE: {S.FILED},
    A.REJECT: {S.REJECTED},
    A.DISPATCH: {S.DISPATCHED},
    A.ACCEPT: {S.ACCEPTED},
    A.RETURN: {S.FILED},
    A.HANDLE: {S.HANDLED},
    A.VERIFY: {S.VERIFIED, S.REWORK},
    A.CLOSE: {S.CLOSED},
    A.EVALUATE: {S.EVALUATED},
    A.SUSPEND: {S.SUSPENDED},
    A.MERGE: {S.MERGED},
}  # escalate and supervise keep the state; resume returns to the state before suspension


def _reachable() -> set[CaseState]:
    seen, frontier = {S.REPORTED}, [S.REPORTED]
    while frontier:
        state = frontier.pop()
        for action, sources in SOURCES.items():
            if state not in sources:
                continue
            nexts = TARGETS.get(action, set())
            if action is A.RESUME:
                nexts = ACTIVE - {S.REPORTED}
            for target in nexts - seen:
                seen.add(target)
                frontier.append(target)
    return seen


REACHABLE = _reachable()


def test_every_state_is_reachable_from_reported() -> None:
    assert set(CaseState) == REACHABLE


def _accepted(case: Case, command: Command, actor: Actor) -> bool:
    try:
        case.check(command, actor)
    except DomainError:
        return False
    return True


OWNERS = st.sampled_from([TOWN, DISTRICT, CITY])


def _offered(case: Case) -> dict[str, list[str]]:
    """Who the case offers each move to right now."""
    offers: dict[str, list[str]] = {}
    for name, actor in ACTORS.items():
        allowed = case.allowed(actor)
        for move, command in MOVES.items():
            if command.action in allowed:
                offers.setdefault(move, []).append(name)
    return offers


def _draw_attempt(data: st.DataObject, case: Case) -> tuple[str, str]:
    """Mostly a move the case offers, so runs get deep into the loop; otherwise anything."""
    offers = _offered(case)
    if offers and data.draw(st.integers(0, 3), label="pick offered") > 0:
        move = data.draw(st.sampled_from(sorted(offers)), label="offered move")
        return move, data.draw(st.sampled_from(offers[move]), label="by")
    return data.draw(
        st.tuples(st.sampled_from(sorted(MOVES)), st.sampled_from(ACTOR_NAMES)), label="any"
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), owner=OWNERS, length=st.integers(0, 30))
def test_random_attempts_keep_the_case_consistent(
    data: st.DataObject, owner: str, length: int
) -> None:
    case, clock = report_case(owner_path=owner), Clock()
    accepted = 0
    for _ in range(length):
        move, name = _draw_attempt(data, case)
        command, actor = MOVES[move], ACTORS[name]

        for other in ACTORS.values():
            offered = set(case.allowed(other))
            accepts = {c.action for c in ONE_COMMAND_PER_ACTION if _accepted(case, c, other)}
            assert offered == accepts, (case.state, other.username)

        before, before_state, before_suspended = (
            quick_snapshot(case),
            case.state,
            case.suspended_from,
        )
        try:
            case.apply(command, actor, clock.tick())
        except DomainError:
            assert quick_snapshot(case) == before
            continue
        accepted += 1
        assert before_state in SOURCES[command.action]
        if command.action in (A.ACCEPT, A.RETURN, A.HANDLE):
            assert actor.role is Role.HANDLER
            assert actor.department_id == before["department_id"]
        else:
            assert name in PERMITTED[command.action]
        if command.action in (A.ESCALATE, A.SUPERVISE):
            assert case.state is before_state
        elif command.action is A.RESUME:
            assert case.state is before_suspended
        else:
            assert case.state in TARGETS[command.action]
        assert case.state in REACHABLE
        assert case.version == 1 + accepted
        assert len(case.pending_timeline) == len(case.pending_events) == 1 + accepted
        assert case.pending_timeline[-1].to_state is case.state
        assert case.pending_events[-1].payload["version"] == case.version
