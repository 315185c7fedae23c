"""SLA clocks on cases: keep exactly one live deadline per active case, warn before it lapses, and
escalate when it does — each exactly once, because every warning and lapse is claimed by a
conditional update inside the same transaction as its effect."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pingan.domain.access import SYSTEM_ACTOR
from pingan.domain.cases import Action, Case, CaseState, Command
from pingan.domain.categories import category
from pingan.domain.events import DomainEvent
from pingan.domain.geo import parent_of
from pingan.domain.sla import (
    STAGE_LIMITS,
    Stage,
    TimeLimit,
    remaining_seconds,
    resume_deadline,
    start_deadline,
)
from pingan.services.ports import Env, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


def limit_for(case: Case, stage: Stage) -> TimeLimit:
    if stage is Stage.HANDLING:
        return category(case.category_code).handling_limit(case.urgency)
    return STAGE_LIMITS[stage][case.urgency]


def sync_deadline(uow: UnitOfWork, case: Case, env: Env) -> None:
    """After a change of state, end the clock that no longer applies and start the one that does.

    Updates `case.due_at`/`overdue_since`; the caller saves the case afterwards.
    """
    now = env.now()
    live = uow.deadlines.live(case.id)
    if case.state is CaseState.SUSPENDED:
        if live:
            left = remaining_seconds(live.deadline, now, env.calendar)
            uow.deadlines.end(live.id, "paused", now, remaining=left)
        case.due_at = None
        return
    stage = case.stage()
    if live and live.deadline.stage is stage:
        return
    if live:
        uow.deadlines.end(
            live.id, "met" if _forward(live.deadline.stage, stage) else "cancelled", now
        )
    case.overdue_since = None
    if stage is None:
        case.due_at = None
        return
    paused = uow.deadlines.paused(case.id)
    if paused and paused.deadline.stage is stage and uow.deadlines.consume_paused(paused.id, now):
        deadline = resume_deadline(
            case.id,
            stage,
            now,
            paused.remaining_seconds or 0.0,
            paused.deadline.clock,
            env.calendar,
        )
    else:
        deadline = start_deadline(case.id, stage, now, limit_for(case, stage), env.calendar)
    uow.deadlines.start(deadline, case.owner_path)
    case.due_at = deadline.due_at


_ORDER = [Stage.FILING, Stage.DISPATCH, Stage.HANDLING, Stage.VERIFY, Stage.CLOSING]


def _forward(old: Stage, new: Stage | None) -> bool:
    return new is None or _ORDER.index(new) > _ORDER.index(old)


@dataclass(frozen=True, slots=True)
class ClockReport:
    warned: int
    lapsed: int
    escalated: int


def run_clocks(uows: UnitOfWorkFactory, env: Env, batch: int = 200) -> ClockReport:
    """One pass of the SLA clock; safe to run from several processes at once."""
    now = env.now()
    warned = lapsed = escalated = 0
    with uows(SYSTEM_ACTOR, readonly=True) as uow:
        to_warn = [d.id for d in uow.deadlines.warnable(now, batch)]
        to_lapse = [d.id for d in uow.deadlines.lapsed(now, batch)]
    for deadline_id in to_warn:
        with uows(SYSTEM_ACTOR) as uow:
            warned += _warn(uow, deadline_id, env)
    for deadline_id in to_lapse:
        with uows(SYSTEM_ACTOR) as uow:
            hit, up = _lapse(uow, deadline_id, env)
            lapsed += hit
            escalated += up
    return ClockReport(warned, lapsed, escalated)


def _warn(uow: UnitOfWork, deadline_id: int, env: Env) -> int:
    now = env.now()
    if not uow.deadlines.claim_warning(deadline_id, now):
        return 0
    stored = uow.deadlines.get(deadline_id)
    case = uow.cases.get(stored.deadline.case_id)
    if case is not None:
        uow.emit(
            DomainEvent(
                "sla.warning",
                case.id,
                case.location_path,
                now,
                {
                    "case_id": case.id,
                    "tracking_no": case.tracking_no,
                    "stage": stored.deadline.stage.value,
                    "due_at": stored.deadline.due_at.isoformat(),
                    "owner_path": case.owner_path,
                },
            )
        )
    uow.commit()
    return 1


def _lapse(uow: UnitOfWork, deadline_id: int, env: Env) -> tuple[int, int]:
    now = env.now()
    if not uow.deadlines.claim_lapse(deadline_id, now):
        return 0, 0
    stored = uow.deadlines.get(deadline_id)
    case = uow.cases.get(stored.deadline.case_id)
    escalated = 0
    if case is not None and case.is_open and case.state is not CaseState.SUSPENDED:
        loaded = case.version
        reason = f"sla.overdue:{stored.deadline.stage.value}"
        if parent_of(case.owner_path) is not None:
            case.apply(Command(Action.ESCALATE, reason=reason), SYSTEM_ACTOR, now)
            escalated = 1
        else:
            case.apply(Command(Action.SUPERVISE, note=reason), SYSTEM_ACTOR, now)
        uow.emit(
            DomainEvent(
                "sla.lapsed",
                case.id,
                case.location_path,
                now,
                {
                    "case_id": case.id,
                    "tracking_no": case.tracking_no,
                    "stage": stored.deadline.stage.value,
                    "due_at": stored.deadline.due_at.isoformat(),
                    "owner_path": case.owner_path,
                },
            )
        )
        restarted = start_deadline(
            case.id,
            stored.deadline.stage,
            now,
            limit_for(case, stored.deadline.stage),
            env.calendar,
        )
        uow.deadlines.start(restarted, case.owner_path)
        case.due_at = restarted.due_at
        case.overdue_since = case.overdue_since or now
        uow.cases.save(case, loaded)
    uow.commit()
    return 1, escalated
