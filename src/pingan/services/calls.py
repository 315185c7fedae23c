"""Video-call use cases: place a call, answer or refuse it, add someone, hang up, let the ring
time out, relay the browsers' WebRTC signals between parties, and read the call log.

Every change is committed before anyone is told about it, so the log never disagrees with what the
browsers saw. Media never passes through the server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pingan.adapters.db.calls import CallView, Contact
from pingan.domain.access import CENTRE_ROLES, Actor, Role
from pingan.domain.calls import RING_TIMEOUT, Call, Callee, CallState, may_call
from pingan.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from pingan.services.evidence import safe_filename, sniff_video
from pingan.services.ports import UnitOfWork

LOG_ROLES = CENTRE_ROLES | {Role.AUDITOR, Role.ADMIN}


def _callee(uow: UnitOfWork, user_id: int) -> Callee:
    found: Contact | None = uow.calls.contact(user_id)
    if found is None:
        raise NotFound("call.no_such_user")
    return _as_callee(found)


def _as_callee(c: Contact) -> Callee:
    return Callee(c.user_id, Role(c.role), c.jurisdiction, c.disabled)


def place(
    uow: UnitOfWork, actor: Actor, callee_id: int, now: datetime, case_id: int | None = None
) -> CallView:
    """Ring `callee_id`; about a case when `case_id` is given (the caller must see the case)."""
    if case_id is not None and uow.cases.get(case_id) is None:
        raise NotFound("case.not_found")
    call = Call.place(actor, _callee(uow, callee_id), now, case_id)
    uow.calls.add(call)
    view = _view(uow, call.id)
    uow.commit()
    return view


def answer(uow: UnitOfWork, actor: Actor, call_id: int, now: datetime, *, accept: bool) -> CallView:
    call = _load(uow, actor, call_id)
    if accept:
        call.accept(actor.user_id, now)
    else:
        call.refuse(actor.user_id, now)
    return _save(uow, call)


def hang_up(uow: UnitOfWork, actor: Actor, call_id: int, now: datetime) -> CallView:
    call = _load(uow, actor, call_id)
    call.hang_up(actor.user_id, now)
    return _save(uow, call)


def invite(uow: UnitOfWork, actor: Actor, call_id: int, user_id: int, now: datetime) -> CallView:
    call = _load(uow, actor, call_id)
    call.invite(actor, _callee(uow, user_id), now)
    return _save(uow, call)


def expire(
    uow: UnitOfWork, call_id: int, now: datetime, timeout: timedelta = RING_TIMEOUT
) -> CallView | None:
    """Let unanswered rings lapse; the view when something changed, else None."""
    call = uow.calls.get(call_id, for_update=True)
    if call is None or not call.expire(now, timeout):
        return None
    return _save(uow, call)


def check_signal(uow: UnitOfWork, actor: Actor, call_id: int, to_user: int) -> None:
    """A browser may send WebRTC offers, answers and candidates only to another joined party
    of a live call it has joined itself."""
    call: Call | None = uow.calls.get(call_id)
    if call is None or call.state is CallState.ENDED:
        raise Conflict("call.ended")
    if not call.may_signal(actor.user_id, to_user):
        raise Forbidden("call.not_joined")


def read(uow: UnitOfWork, actor: Actor, call_id: int) -> CallView:
    view: CallView | None = uow.calls.view(call_id)
    if view is None or not _may_read(actor, view.call):
        raise NotFound("call.not_found")
    return view


def log(
    uow: UnitOfWork,
    actor: Actor,
    *,
    case_id: int | None = None,
    user_id: int | None = None,
    limit: int = 50,
) -> list[CallView]:
    """The calls about a case the actor can see, or a user's history (one's own, or a user's
    within the centre's jurisdiction)."""
    if case_id is not None and uow.cases.get(case_id) is None:
        raise NotFound("case.not_found")
    if case_id is None and user_id is None:
        user_id = actor.user_id
    if user_id is not None and user_id != actor.user_id:
        subject = uow.calls.contact(user_id)
        if subject is None or actor.role not in LOG_ROLES or not actor.sees(subject.jurisdiction):
            raise NotFound("call.no_such_user")
    views = uow.calls.log(case_id=case_id, user_id=user_id, limit=limit)
    return [v for v in views if _may_read(actor, v.call) or case_id is not None]


def contacts(uow: UnitOfWork, actor: Actor, case_id: int) -> list[Contact]:
    """Whom the actor may call about a case: its grid's workers and its department's handlers."""
    case = uow.cases.get(case_id)
    if case is None:
        raise NotFound("case.not_found")
    return _callable(actor, uow.calls.contacts_for(case.grid_code, case.department_id))


def keep_recording(
    uow: UnitOfWork,
    actor: Actor,
    call_id: int,
    data: bytes,
    filename: str | None,
    now: datetime,
    store: Callable[[bytes], tuple[str, str]],
) -> CallView:
    """The host's recording becomes evidence on the call's case (consent was shown in the call)."""
    call = uow.calls.get(call_id, for_update=True)
    if call is None or call.host_id != actor.user_id:
        raise NotFound("call.not_found")
    if call.case_id is None:
        raise Conflict("call.no_case")
    kind = sniff_video(data)
    if kind is None:
        raise InvalidInput("call.recording_type")
    sha, key = store(data)
    attachment_id = uow.attachments.add(
        sha256=sha,
        content_type=kind,
        size=len(data),
        filename=safe_filename(filename or "call", kind),
        storage_key=key,
        uploaded_by=actor.user_id,
        case_id=call.case_id,
        created_at=now,
    )
    uow.calls.set_recording(call.id, attachment_id)
    view = _view(uow, call.id)
    uow.commit()
    return view


def grid_contacts(uow: UnitOfWork, actor: Actor, grid_code: str) -> list[Contact]:
    """Whom the actor may call in a grid: its grid workers."""
    return _callable(actor, uow.calls.contacts_for(grid_code, None))


def _callable(actor: Actor, found: list[Contact]) -> list[Contact]:
    return [c for c in found if may_call(actor, _as_callee(c))]


def live_calls(uow: UnitOfWork) -> list[Call]:
    return list(uow.calls.live())


def _may_read(actor: Actor, call: Call) -> bool:
    return call.is_party(actor.user_id) or (actor.role in LOG_ROLES and actor.sees(call.unit_path))


def _load(uow: UnitOfWork, actor: Actor, call_id: int) -> Call:
    call: Call | None = uow.calls.get(call_id, for_update=True)
    if call is None or not call.is_party(actor.user_id):
        raise NotFound("call.not_found")
    return call


def _save(uow: UnitOfWork, call: Call) -> CallView:
    uow.calls.save(call)
    view = _view(uow, call.id)
    uow.commit()
    return view


def _view(uow: UnitOfWork, call_id: int) -> CallView:
    view: CallView | None = uow.calls.view(call_id)
    assert view is not None
    return view
