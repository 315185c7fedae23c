"""Contacts of the people behind cases: masked by default, revealed to `pii:read` on the record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pingan.api.deps import ActorDep, KeyringDep, RuntimeDep
from pingan.api.errors import documented
from pingan.api.schemas import ContactedCaseOut, ContactIn, ContactOut, IdPath
from pingan.domain.identity import Contact
from pingan.services.personal_data import find_by_contact, read_contact, record_contact

router = APIRouter(prefix="/api/v1", tags=["personal data"])


def contact_out(contact: Contact, masked: bool) -> ContactOut:
    return ContactOut(
        name=contact.name, phone=contact.phone, id_number=contact.id_number, masked=masked
    )


@router.put(
    "/cases/{case_id}/contact",
    response_model=ContactOut,
    responses=documented(400, 401, 403, 404, 422),
    summary="Record how to reach the person behind a case (stored encrypted; answered masked)",
)
def put_contact(
    case_id: IdPath, body: ContactIn, rt: RuntimeDep, actor: ActorDep, keys: KeyringDep
) -> ContactOut:
    contact = Contact.checked(body.name, body.phone, body.id_number)
    with rt.uows(actor) as uow:
        masked = record_contact(uow, actor, keys, case_id, contact, rt.env)
    return contact_out(masked, True)


@router.get(
    "/cases/{case_id}/contact",
    response_model=ContactOut,
    responses=documented(401, 403, 404, 422, 503),
    summary="The case's contact, masked; `reveal=true` (pii:read) returns it in full, audited",
    description=(
        "503 `audit.unavailable`: the audit trail cannot be written, so nothing is revealed."
    ),
)
def get_contact(
    case_id: IdPath,
    rt: RuntimeDep,
    actor: ActorDep,
    keys: KeyringDep,
    reveal: bool = False,
    reason: Annotated[str, Query(max_length=200)] = "",
) -> ContactOut:
    with rt.uows(actor, readonly=not reveal) as uow:  # a reveal writes its audit entry
        contact = read_contact(uow, actor, keys, case_id, rt.env, reveal=reveal, reason=reason)
    return contact_out(contact, not reveal)


@router.get(
    "/contacts/cases",
    response_model=list[ContactedCaseOut],
    responses=documented(401, 403, 422),
    summary="Cases whose contact has this phone or identity number (blind-index lookup, masked)",
)
def cases_by_contact(
    rt: RuntimeDep,
    actor: ActorDep,
    keys: KeyringDep,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    id_number: Annotated[str | None, Query(max_length=32)] = None,
) -> list[ContactedCaseOut]:
    with rt.uows(actor) as uow:
        found = find_by_contact(uow, actor, keys, rt.env, phone=phone, id_number=id_number)
    return [
        ContactedCaseOut(
            case_id=f.case.id,
            tracking_no=f.case.tracking_no,
            state=f.case.state.value,
            title=f.case.title,
            contact=contact_out(f.contact, True),
        )
        for f in found
    ]
