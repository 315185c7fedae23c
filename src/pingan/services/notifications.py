"""Task notifications: who has something to do because of an event (a department when a case is
dispatched or sent back for rework, a grid worker when a case in their grid awaits verification).

Idempotent: the inbox records each event per consumer, so redelivery never notifies twice.
"""

from __future__ import annotations

from pingan.domain.access import SYSTEM_ACTOR
from pingan.domain.events import DomainEvent
from pingan.services.ports import Env, UnitOfWorkFactory

CONSUMER = "notifications"


def recipients(event: DomainEvent) -> list[tuple[str, str, str]]:
    """(recipient kind, recipient id, notification kind) for an event."""
    p = event.payload
    if event.type == "case.dispatched" and p.get("department_id"):
        return [("department", str(p["department_id"]), "to_accept")]
    if event.type == "case.verified" and p.get("passed") is False and p.get("department_id"):
        return [("department", str(p["department_id"]), "rework")]
    if event.type == "case.handled":
        grid = event.unit_path.rpartition(".")[2]
        return [("grid", grid, "to_verify")]
    if event.type in ("sla.warning", "sla.lapsed", "case.escalated", "case.supervised"):
        return [("unit", str(p.get("owner_path", "")), event.type)]
    return []


def handle(uows: UnitOfWorkFactory, env: Env, event: DomainEvent) -> bool:
    """Record the notifications for one event; False when it had been handled before."""
    targets = recipients(event)
    if not targets:
        return False
    with uows(SYSTEM_ACTOR) as uow:
        if not uow.inbox.claim(CONSUMER, event.event_id, env.now()):
            return False
        for kind, recipient, what in targets:
            uow.notifications.add(
                kind, recipient, event.aggregate_id, event.event_id, what, env.now()
            )
        uow.commit()
    return True
