"""The audit trail for auditors: read it, and check that its hash chain is unbroken."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import documented
from pingan.api.schemas import AuditEntryOut, AuditVerifyOut
from pingan.domain.access import Scope
from pingan.domain.errors import Forbidden
from pingan.domain.ids import MAX_ID

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=documented(401, 403))


def _require_auditor(actor: ActorDep) -> None:
    if not actor.has(Scope.AUDIT_READ):
        raise Forbidden("audit.not_permitted")


@router.get("", response_model=list[AuditEntryOut], summary="Audit entries after a sequence number")
def list_entries(
    rt: RuntimeDep,
    actor: ActorDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Annotated[str | None, Query(max_length=48)] = None,
) -> list[AuditEntryOut]:
    _require_auditor(actor)
    with rt.uows(readonly=True) as uow:
        rows = uow.audit.entries(after, limit, action)
    return [
        AuditEntryOut(
            seq=e.seq,
            at=e.at,
            actor_id=e.actor_id,
            actor=e.actor,
            action=e.action,
            subject=e.subject,
            detail=e.detail,
            hash=h,
        )
        for e, h in rows
    ]


@router.get("/verify", response_model=AuditVerifyOut, summary="Walk the hash chain")
def verify(rt: RuntimeDep, actor: ActorDep) -> AuditVerifyOut:
    _require_auditor(actor)
    with rt.uows(snapshot=True) as uow:  # the chain and its head as of one moment
        checked, broken = uow.audit.verify()
    return AuditVerifyOut(
        ok=broken is None,
        checked=checked,
        first_broken_seq=broken.seq if broken else None,
        reason=broken.reason if broken else None,
    )
