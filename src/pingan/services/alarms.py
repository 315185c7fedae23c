"""What an operator does with an alarm that waits for a decision: confirm it (a case is opened in
the closed loop) or dismiss it with a reason (a false alarm, a drill)."""

from __future__ import annotations

from pingan.domain.access import CENTRE_ROLES, Actor
from pingan.domain.alarms import Alarm, AlarmState
from pingan.domain.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from pingan.services.ports import Env, UnitOfWork
from pingan.services.telemetry import emit_alarm_event, open_case_for


def _load(uow: UnitOfWork, actor: Actor, alarm_id: int) -> Alarm:
    if actor.role not in CENTRE_ROLES:
        raise Forbidden("alarms.not_permitted")
    alarm: Alarm | None = uow.alarms.get(alarm_id)
    if alarm is None:
        raise NotFound("alarms.not_found", alarm_id=alarm_id)
    if alarm.state is not AlarmState.OPEN:
        raise IllegalTransition("alarms.not_open", state=alarm.state.value)
    return alarm


def confirm(uow: UnitOfWork, actor: Actor, alarm_id: int, env: Env) -> Alarm:
    alarm = _load(uow, actor, alarm_id)
    open_case_for(uow, alarm, env)
    alarm.note = f"confirmed by {actor.username}"
    uow.alarms.save(alarm)
    emit_alarm_event(uow, "alarm.confirmed", alarm, env.now())
    uow.commit()
    return alarm


def dismiss(uow: UnitOfWork, actor: Actor, alarm_id: int, reason: str, env: Env) -> Alarm:
    if not reason.strip():
        raise InvalidInput("case.missing_fields", action="dismiss", fields=["reason"])
    alarm = _load(uow, actor, alarm_id)
    alarm.state = AlarmState.DISMISSED
    alarm.closed_at = env.now()
    alarm.note = reason.strip()[:500]
    uow.alarms.save(alarm)
    emit_alarm_event(uow, "alarm.dismissed", alarm, env.now())
    uow.commit()
    return alarm
