"""The Case aggregate and its closed loop (全闭环).

    reported -> filed -> dispatched -> accepted -> handled -> verified -> closed -> evaluated
            \\-> rejected        \\-> (returned) filed       \\-> rework -> handled ...
    any open state: escalate (上报), supervise (督办), suspend/resume (挂起/恢复)
    before dispatch: merge duplicates (合并)

Each action is a `Rule`: the states it starts from, the roles that may take it, how the actor must
relate to the case (owning centre, assigned department, the grid's own worker, the reporter),
and the fields it must carry. `Case.apply` checks all of that before it changes anything, so a
refused action leaves the case exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pingan.domain.access import Actor, Role
from pingan.domain.errors import Forbidden, IllegalTransition, InvalidInput
from pingan.domain.events import DomainEvent
from pingan.domain.geo import is_within, parent_of
from pingan.domain.sla import Stage, Urgency


class CaseState(StrEnum):
    REPORTED = "reported"  # 上报
    FILED = "filed"  # 立案
    REJECTED = "rejected"  # 不予立案
    DISPATCHED = "dispatched"  # 派遣
    ACCEPTED = "accepted"  # 签收
    HANDLED = "handled"  # 处置完成
    REWORK = "rework"  # 返工
    VERIFIED = "verified"  # 核查通过
    CLOSED = "closed"  # 结案
    EVALUATED = "evaluated"  # 已评价
    SUSPENDED = "suspended"  # 挂起
    MERGED = "merged"  # 已合并


OPEN_STATES = frozenset(
    {
        CaseState.REPORTED,
        CaseState.FILED,
        CaseState.DISPATCHED,
        CaseState.ACCEPTED,
        CaseState.HANDLED,
        CaseState.REWORK,
        CaseState.VERIFIED,
        CaseState.SUSPENDED,
    }
)
ACTIVE_STATES = OPEN_STATES - {CaseState.SUSPENDED}


class Action(StrEnum):
    FILE = "file"
    REJECT = "reject"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RETURN = "return"
    HANDLE = "handle"
    VERIFY = "verify"
    CLOSE = "close"
    EVALUATE = "evaluate"
    ESCALATE = "escalate"
    SUPERVISE = "supervise"
    SUSPEND = "suspend"
    RESUME = "resume"
    MERGE = "merge"


class Relation(StrEnum):
    """How the actor must stand to the case, beyond holding the role."""

    OWNER = "owner"  # jurisdiction contains the centre that owns the case
    DEPARTMENT = "department"  # the case is dispatched to the actor's department
    GRID = "grid"  # the case lies in the actor's own grid
    REPORTER = "reporter"  # the actor reported the case


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    sources: frozenset[CaseState]
    grants: tuple[tuple[Role, Relation], ...]
    requires: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "from": sorted(s.value for s in self.sources),
            "who": [{"role": r.value, "relation": rel.value} for r, rel in self.grants],
            "requires": list(self.requires),
        }


_CENTRE = ((Role.OPERATOR, Relation.OWNER), (Role.COMMANDER, Relation.OWNER))
_SYSTEM = ((Role.SYSTEM, Relation.OWNER),)
_DEPT = ((Role.HANDLER, Relation.DEPARTMENT),)
_PRE_DISPATCH = frozenset({CaseState.REPORTED, CaseState.FILED})

RULES: dict[Action, Rule] = {
    r.action: r
    for r in (
        Rule(Action.FILE, frozenset({CaseState.REPORTED}), _CENTRE),
        Rule(Action.REJECT, frozenset({CaseState.REPORTED}), _CENTRE, ("reason",)),
        Rule(Action.DISPATCH, frozenset({CaseState.FILED}), _CENTRE, ("department_id",)),
        Rule(Action.ACCEPT, frozenset({CaseState.DISPATCHED}), _DEPT),
        Rule(
            Action.RETURN, frozenset({CaseState.DISPATCHED, CaseState.ACCEPTED}), _DEPT, ("reason",)
        ),
        Rule(
            Action.HANDLE,
            frozenset({CaseState.ACCEPTED, CaseState.REWORK}),
            _DEPT,
            ("note", "photo_ids"),
        ),
        Rule(
            Action.VERIFY,
            frozenset({CaseState.HANDLED}),
            ((Role.GRID_WORKER, Relation.GRID),),
            ("passed", "note", "photo_ids"),
        ),
        Rule(Action.CLOSE, frozenset({CaseState.VERIFIED}), _CENTRE),
        Rule(
            Action.EVALUATE,
            frozenset({CaseState.CLOSED}),
            ((Role.CITIZEN, Relation.REPORTER), *_CENTRE),
            ("satisfaction",),
        ),
        Rule(Action.ESCALATE, ACTIVE_STATES, _CENTRE + _SYSTEM, ("reason",)),
        Rule(
            Action.SUPERVISE,
            ACTIVE_STATES,
            ((Role.COMMANDER, Relation.OWNER), *_SYSTEM),
            ("note",),
        ),
        Rule(Action.SUSPEND, ACTIVE_STATES - {CaseState.REPORTED}, _CENTRE, ("reason",)),
        Rule(Action.RESUME, frozenset({CaseState.SUSPENDED}), _CENTRE),
        Rule(Action.MERGE, _PRE_DISPATCH, _CENTRE, ("target_case_id",)),
    )
}


@dataclass(frozen=True, slots=True)
class Command:
    """What an actor asks of a case; which fields matter depends on the action's rule."""

    action: Action
    note: str | None = None
    reason: str | None = None
    department_id: str | None = None
    photo_ids: tuple[int, ...] = ()
    passed: bool | None = None
    satisfaction: int | None = None
    target_case_id: int | None = None

    def missing(self, rule: Rule) -> list[str]:
        gaps = []
        for name in rule.requires:
            value = getattr(self, name)
            if name == "photo_ids" and self.action is Action.VERIFY and self.passed is False:
                continue  # a failed check needs the reason, a photo is welcome but not required
            if value is None or value == () or (isinstance(value, str) and not value.strip()):
                gaps.append(name)
        return gaps


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a case's history: who did what, when, from which state to which."""

    action: str
    from_state: CaseState | None
    to_state: CaseState
    actor_id: int
    actor_role: str
    at: datetime
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    """A reported problem and everything done about it; the unit of consistency."""

    id: int
    tracking_no: str
    category_code: str
    urgency: Urgency
    title: str
    description: str
    lng: float
    lat: float
    grid_code: str
    location_path: str
    owner_path: str
    reporter_id: int
    channel: str
    created_at: datetime
    updated_at: datetime
    address: str = ""
    state: CaseState = CaseState.REPORTED
    department_id: str | None = None
    suspended_from: CaseState | None = None
    version: int = 1
    rework_count: int = 0
    escalation_count: int = 0
    supervision_count: int = 0
    satisfaction: int | None = None
    merged_into: int | None = None
    closed_at: datetime | None = None
    photo_ids: tuple[int, ...] = ()
    due_at: datetime | None = None  # the live SLA deadline, kept here so lists can filter on it
    overdue_since: datetime | None = None  # set when the current stage's time ran out
    pending_timeline: list[TimelineEntry] = field(default_factory=list, repr=False)
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False)

    @classmethod
    def report(cls, actor: Actor, now: datetime, **fields: Any) -> Case:
        case = cls(created_at=now, updated_at=now, reporter_id=actor.user_id, **fields)
        case._record("report", None, actor, now, None, {"channel": case.channel})
        case._emit("case.reported", now, {"category": case.category_code, "urgency": case.urgency})
        return case

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def allowed(self, actor: Actor) -> list[Action]:
        """The actions this actor could take now; drives the buttons a user sees."""
        return [
            rule.action
            for rule in RULES.values()
            if self.state in rule.sources
            and self._relation_ok(rule, actor)
            and not (rule.action is Action.ESCALATE and parent_of(self.owner_path) is None)
        ]

    def authorize(self, action: Action, actor: Actor) -> Rule:
        """Raise 409 when the state does not allow `action`, 403 when the actor may not take it;
        asked before anything the body names (an office, a merge target) is looked up, so a
        refusal answers the same whatever the body carries."""
        rule = RULES[action]
        if self.state not in rule.sources:
            raise IllegalTransition(action=action.value, state=self.state.value)
        if not self._relation_ok(rule, actor):
            raise Forbidden("case.not_permitted", action=action.value, role=actor.role.value)
        return rule

    def check(self, command: Command, actor: Actor) -> Rule:
        """Raise the first reason `command` may not run; change nothing."""
        rule = self.authorize(command.action, actor)
        missing = command.missing(rule)
        if missing:
            raise InvalidInput("case.missing_fields", action=command.action.value, fields=missing)
        if command.action is Action.EVALUATE and not 1 <= (command.satisfaction or 0) <= 5:
            raise InvalidInput("case.satisfaction_range", value=command.satisfaction)
        if command.action is Action.ESCALATE and parent_of(self.owner_path) is None:
            raise IllegalTransition("case.top_level", owner=self.owner_path)
        if command.action is Action.MERGE and command.target_case_id == self.id:
            raise InvalidInput("case.merge_self")
        return rule

    def apply(self, command: Command, actor: Actor, now: datetime) -> None:
        """Run an action: check it, change state, and record the timeline entry and event."""
        self.check(command, actor)
        before = self.state
        self.updated_at = now  # before the transition, which may stamp it (closed_at)
        data = _TRANSITIONS[command.action](self, command)
        self.version += 1
        note = command.note or command.reason
        self._record(command.action.value, before, actor, now, note, data)
        self._emit(f"case.{_EVENT_NAMES.get(command.action, command.action.value)}", now, data)

    def stage(self) -> Stage | None:
        """Which SLA clock should be running in the current state."""
        return _STAGE_OF.get(self.state)

    def _relation_ok(self, rule: Rule, actor: Actor) -> bool:
        for role, relation in rule.grants:
            if actor.role is not role:
                continue
            if relation is Relation.OWNER and (
                role is Role.SYSTEM or is_within(self.owner_path, actor.jurisdiction)
            ):
                return True
            if (
                relation is Relation.DEPARTMENT
                and self.department_id is not None
                and actor.department_id == self.department_id
            ):
                return True
            if relation is Relation.GRID and actor.grid_code == self.grid_code:
                return True
            if relation is Relation.REPORTER and actor.user_id == self.reporter_id:
                return True
        return False

    def _record(
        self,
        action: str,
        before: CaseState | None,
        actor: Actor,
        now: datetime,
        note: str | None,
        data: dict[str, Any],
    ) -> None:
        self.pending_timeline.append(
            TimelineEntry(
                action, before, self.state, actor.user_id, actor.role.value, now, note, data
            )
        )

    def _emit(self, event_type: str, now: datetime, data: dict[str, Any]) -> None:
        payload = {
            "case_id": self.id,
            "tracking_no": self.tracking_no,
            "state": self.state.value,
            "version": self.version,
            "owner_path": self.owner_path,
            "department_id": self.department_id,
            "reporter_id": self.reporter_id,
            **data,
        }
        self.pending_events.append(
            DomainEvent(event_type, self.id, self.location_path, now, payload)
        )


def _file(case: Case, cmd: Command) -> dict[str, Any]:
    case.state = CaseState.FILED
    return {}


def _reject(case: Case, cmd: Command) -> dict[str, Any]:
    case.state = CaseState.REJECTED
    case.closed_at = case.updated_at
    return {"reason": cmd.reason}


def _dispatch(case: Case, cmd: Command) -> dict[str, Any]:
    case.state = CaseState.DISPATCHED
    case.department_id = cmd.department_id
    return {"department_id": cmd.department_id}


def _accept(case: Case, cmd: Command) -> dict[str, Any]:
    case.state = CaseState.ACCEPTED
    return {}


def _return(case: Case, cmd: Command) -> dict[str, Any]:
    returned_by = case.department_id
    case.state = CaseState.FILED
    case.department_id = None
    return {"reason": cmd.reason, "returned_by": returned_by}


def _handle(case: Case, cmd: Command) -> dict[str, Any]:
    case.state = CaseState.HANDLED
    case.photo_ids = case.photo_ids + cmd.photo_ids
    return {"photo_ids": list(cmd.photo_ids)}


def _verify(case: Case, cmd: Command) -> dict[str, Any]:
    case.photo_ids = case.photo_ids + cmd.photo_ids
    if cmd.passed:
        case.state = CaseState.VERIFIED
    else:
        case.state = CaseState.REWORK
        case.rework_count += 1
    return {"passed": bool(cmd.passed), "photo_ids": list(cmd.photo_ids)}


def _close(case: Case, cmd: Command) -> dict[str, Any]:
    case.state = CaseState.CLOSED
    case.closed_at = case.updated_at
    return {}


def _evaluate(case: Case, cmd: Command) -> dict[str, Any]:
    case.state = CaseState.EVALUATED
    case.satisfaction = cmd.satisfaction
    return {"satisfaction": cmd.satisfaction}


def _escalate(case: Case, cmd: Command) -> dict[str, Any]:
    before = case.owner_path
    case.owner_path = parent_of(case.owner_path) or case.owner_path
    case.escalation_count += 1
    return {"from_owner": before, "to_owner": case.owner_path, "reason": cmd.reason}


def _supervise(case: Case, cmd: Command) -> dict[str, Any]:
    case.supervision_count += 1
    return {"count": case.supervision_count}


def _suspend(case: Case, cmd: Command) -> dict[str, Any]:
    case.suspended_from = case.state
    case.state = CaseState.SUSPENDED
    return {"reason": cmd.reason}


def _resume(case: Case, cmd: Command) -> dict[str, Any]:
    case.state = case.suspended_from or CaseState.FILED
    case.suspended_from = None
    return {}


def _merge(case: Case, cmd: Command) -> dict[str, Any]:
    case.state = CaseState.MERGED
    case.closed_at = case.updated_at
    case.merged_into = cmd.target_case_id
    return {"target_case_id": cmd.target_case_id}


_TRANSITIONS: dict[Action, Callable[[Case, Command], dict[str, Any]]] = {
    Action.FILE: _file,
    Action.REJECT: _reject,
    Action.DISPATCH: _dispatch,
    Action.ACCEPT: _accept,
    Action.RETURN: _return,
    Action.HANDLE: _handle,
    Action.VERIFY: _verify,
    Action.CLOSE: _close,
    Action.EVALUATE: _evaluate,
    Action.ESCALATE: _escalate,
    Action.SUPERVISE: _supervise,
    Action.SUSPEND: _suspend,
    Action.RESUME: _resume,
    Action.MERGE: _merge,
}

_EVENT_NAMES = {
    Action.FILE: "filed",
    Action.REJECT: "rejected",
    Action.DISPATCH: "dispatched",
    Action.ACCEPT: "accepted",
    Action.RETURN: "returned",
    Action.HANDLE: "handled",
    Action.VERIFY: "verified",
    Action.CLOSE: "closed",
    Action.EVALUATE: "evaluated",
    Action.ESCALATE: "escalated",
    Action.SUPERVISE: "supervised",
    Action.SUSPEND: "suspended",
    Action.RESUME: "resumed",
    Action.MERGE: "merged",
}

_STAGE_OF = {
    CaseState.REPORTED: Stage.FILING,
    CaseState.FILED: Stage.DISPATCH,
    CaseState.DISPATCHED: Stage.HANDLING,
    CaseState.ACCEPTED: Stage.HANDLING,
    CaseState.REWORK: Stage.HANDLING,
    CaseState.HANDLED: Stage.VERIFY,
    CaseState.VERIFIED: Stage.CLOSING,
}
