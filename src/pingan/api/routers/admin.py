"""Dispatch rules (editable routing) and the working calendar's updatable days."""

from __future__ import annotations

from fastapi import APIRouter, Response

from pingan.api.deps import ActorDep, RuntimeDep
from pingan.api.errors import documented
from pingan.api.schemas import IdPath, RuleIn, RuleOut
from pingan.services import dispatch

router = APIRouter(prefix="/api/v1", tags=["rules"], responses=documented(400, 401, 422))


@router.get("/dispatch-rules", response_model=list[RuleOut])
def list_rules(rt: RuntimeDep, _actor: ActorDep) -> list[RuleOut]:
    with rt.uows(readonly=True) as uow:
        return [RuleOut.model_validate(r, from_attributes=True) for r in uow.dispatch_rules.all()]


@router.post(
    "/dispatch-rules",
    response_model=RuleOut,
    status_code=201,
    responses={
        403: {"description": "Needs rules:write in this area"},
        422: {"description": "Invalid"},
    },
)
def add_rule(body: RuleIn, rt: RuntimeDep, actor: ActorDep) -> RuleOut:
    with rt.uows(actor) as uow:
        rule_id = dispatch.add_rule(
            uow,
            actor,
            body.category_prefix,
            body.unit_path,
            body.department_id,
            body.priority,
            rt.env,
        )
    return RuleOut(id=rule_id, **body.model_dump())


@router.delete(
    "/dispatch-rules/{rule_id}",
    status_code=204,
    responses={403: {"description": "Needs rules:write"}, 404: {"description": "No such rule"}},
)
def remove_rule(rule_id: IdPath, rt: RuntimeDep, actor: ActorDep) -> Response:
    with rt.uows(actor) as uow:
        dispatch.remove_rule(uow, actor, rule_id)
    return Response(status_code=204)
