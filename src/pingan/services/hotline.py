"""The 12345 hotline desk (热线受理): an operator takes a call and files it as a case, or adds it
to the open case it repeats; finds a caller's earlier calls by number; and records follow-up
calls (回访) on closed cases, rating the case when the caller was reached.

The caller's number and name are sealed in the same transaction as the case (so a crash never
leaves a case whose caller cannot be called back) and only ever shown masked here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from enum import StrEnum

from pingan.adapters.db.hotline import AwaitingFollowUp, SealedCall
from pingan.domain.access import CENTRE_ROLES, Actor
from pingan.domain.audit import Action as Audit
from pingan.domain.cases import OPEN_STATES, Action, Case, CaseState, Command
from pingan.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from pingan.domain.identity import Contact, mask_phone, normalise_phone
from pingan.services.intake import CaseDraft, create_case, replay
from pingan.services.personal_data import PHONE, Sealer, fields_of, put_contact, seal
from pingan.services.ports import Env, UnitOfWork, UnitOfWorkFactory
from pingan.services.transitions import transition

MAX_ATTEMPTS = 3  # unanswered follow-up calls before a case leaves the list


class FollowUpOutcome(StrEnum):
    REACHED = "reached"  # 已回访
    UNREACHABLE = "unreachable"  # 未接通


@dataclass(frozen=True, slots=True)
class HotlineCall:
    caller: Contact
    draft: CaseDraft
    duplicate_of: int | None = None

    def fingerprint(self) -> str:
        body = json.dumps(
            {"caller": asdict(self.caller), "draft": asdict(self.draft), "dup": self.duplicate_of},
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CallTaken:
    case: Case
    repeat: bool  # added to an open case instead of filing a new one
    replayed: bool  # an idempotent retry answered with what the first attempt did
    caller: Contact  # masked


def _desk(actor: Actor) -> None:
    if actor.role not in CENTRE_ROLES:
        raise Forbidden("hotline.not_permitted")


def take_call(
    uows: UnitOfWorkFactory,
    actor: Actor,
    sealer: Sealer,
    call: HotlineCall,
    env: Env,
    idempotency_key: str | None = None,
) -> CallTaken:
    """File the call as a case with its caller sealed, or add it to the case it repeats."""
    _desk(actor)
    if call.caller.phone is None:
        raise InvalidInput("hotline.phone_required")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        raise InvalidInput("idempotency.bad_key")
    fingerprint = call.fingerprint()
    repeat = call.duplicate_of is not None
    for _attempt in range(3):
        with uows(actor) as uow:
            if idempotency_key:
                earlier = replay(uow, actor, idempotency_key, fingerprint)
                if earlier is not None:
                    return CallTaken(earlier, repeat, True, call.caller.masked())
            now = env.now()
            sealed = seal(sealer, call.caller)
            if call.duplicate_of is not None:
                found: Case | None = uow.cases.get(call.duplicate_of)
                if found is None:
                    raise NotFound("case.not_found", case_id=call.duplicate_of)
                if found.state not in OPEN_STATES:
                    raise Conflict("hotline.case_not_open", case_id=found.id)
                case = found
            else:
                case = create_case(uow, actor, call.draft, env)
                put_contact(uow, actor, case.id, sealed, fields_of(call.caller), now)
            uow.hotline.add_call(
                case_id=case.id,
                operator_id=actor.user_id,
                received_at=now,
                account=call.draft.description,
                repeat=repeat,
                phone_enc=sealed["phone_enc"],
                phone_index=sealed["phone_index"],
                name_enc=sealed["name_enc"],
            )
            try:
                if idempotency_key:
                    uow.idempotency.put(actor.user_id, idempotency_key, fingerprint, case.id, now)
                uow.commit()
            except Conflict:
                if not idempotency_key:
                    raise
                continue  # a concurrent retry with the same key won; answer with its case
            return CallTaken(case, repeat, False, call.caller.masked())
    raise Conflict("idempotency.contended")


def caller_history(
    uow: UnitOfWork, actor: Actor, sealer: Sealer, phone: str, env: Env
) -> tuple[str, list[SealedCall]]:
    """The number, masked, and its earlier calls within the desk's jurisdiction. The lookup is
    audited by blind index, never by number."""
    _desk(actor)
    number = normalise_phone(phone)
    index = sealer.blind_index(number, PHONE)
    calls: list[SealedCall] = uow.hotline.calls_by_phone(index, actor.jurisdiction)
    uow.audit.append(
        actor, Audit.CONTACT_LOOKUP, env.now(), index[:16], {"by": "phone", "matches": len(calls)}
    )
    uow.commit()
    return mask_phone(number), calls


def awaiting_followup(
    uow: UnitOfWork, actor: Actor, sealer: Sealer
) -> list[tuple[AwaitingFollowUp, str]]:
    """Closed hotline cases not yet rated, each with its caller's number masked."""
    _desk(actor)
    due: list[AwaitingFollowUp] = uow.hotline.awaiting_followup(actor.jurisdiction, MAX_ATTEMPTS)
    return [(d, mask_phone(sealer.decrypt(d.phone_enc, PHONE))) for d in due]


def record_followup(
    uow: UnitOfWork,
    actor: Actor,
    case_id: int,
    outcome: FollowUpOutcome,
    env: Env,
    satisfaction: int | None = None,
    note: str | None = None,
) -> Case:
    """Record a follow-up call; a reached caller's satisfaction rates the case (评价)."""
    _desk(actor)
    case: Case | None = uow.cases.get(case_id)
    if case is None:
        raise NotFound("case.not_found", case_id=case_id)
    if case.state is not CaseState.CLOSED:
        raise Conflict("hotline.not_awaiting_followup", case_id=case_id)
    uow.hotline.add_followup(
        case_id=case_id,
        operator_id=actor.user_id,
        at=env.now(),
        outcome=outcome.value,
        satisfaction=satisfaction if outcome is FollowUpOutcome.REACHED else None,
        note=note,
    )
    if outcome is FollowUpOutcome.UNREACHABLE:
        uow.commit()
        return case
    command = Command(Action.EVALUATE, note=note or None, satisfaction=satisfaction)
    return transition(uow, actor, case_id, command, env)
