"""Contacts of the people behind cases: recorded sealed, shown masked, revealed only on the record.

Plaintext exists only in memory. A reveal needs `pii:read` and writes its audit entry, and commits
it, before a single plaintext character is returned: if the audit trail cannot be written, the
caller gets an error and no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pingan.domain.access import CENTRE_ROLES, Actor, Role, Scope
from pingan.domain.audit import Action
from pingan.domain.cases import Case
from pingan.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from pingan.domain.identity import Contact, normalise_identity_number, normalise_phone
from pingan.services.ports import Env, UnitOfWork

NAME, PHONE, ID_NUMBER = "contact.name", "contact.phone", "contact.id_number"
LOOKUP_ROLES = CENTRE_ROLES | {Role.AUDITOR}


class Sealer(Protocol):
    """Field encryption and blind indexing (adapters/crypto.py's Keyring)."""

    def encrypt(self, plaintext: str, context: str) -> str: ...
    def decrypt(self, stored: str, context: str) -> str:
        """Plaintext, or a ValueError when the key is missing or the value was altered."""
        ...

    def blind_index(self, value: str, context: str) -> str: ...


class Unreadable(DomainError):
    """A stored value was written under a key this process does not hold, or was altered."""

    code = "crypto.unreadable"


@dataclass(frozen=True, slots=True)
class ContactedCase:
    case: Case
    contact: Contact  # masked


def seal(sealer: Sealer, contact: Contact) -> dict[str, Any]:
    """The column values that store `contact`: ciphertext and blind indexes, no plaintext."""

    def enc(value: str | None, context: str) -> str | None:
        return sealer.encrypt(value, context) if value else None

    return {
        "name_enc": enc(contact.name, NAME),
        "phone_enc": enc(contact.phone, PHONE),
        "phone_index": sealer.blind_index(contact.phone, PHONE) if contact.phone else None,
        "id_number_enc": enc(contact.id_number, ID_NUMBER),
        "id_number_index": (
            sealer.blind_index(contact.id_number, ID_NUMBER) if contact.id_number else None
        ),
    }


def _open(sealer: Sealer, sealed: Any) -> Contact:
    def dec(value: str | None, context: str) -> str | None:
        if value is None:
            return None
        try:
            return sealer.decrypt(value, context)
        except ValueError:  # DecryptionFailed: a missing key or an altered value
            raise Unreadable() from None

    return Contact(
        name=dec(sealed.name_enc, NAME),
        phone=dec(sealed.phone_enc, PHONE),
        id_number=dec(sealed.id_number_enc, ID_NUMBER),
    )


def fields_of(contact: Contact) -> list[str]:
    return [f for f in ("name", "phone", "id_number") if getattr(contact, f)]


def _readable_case(uow: UnitOfWork, case_id: int) -> Case:
    case: Case | None = uow.cases.get(case_id)
    if case is None:
        raise NotFound("case.not_found", case_id=case_id)
    return case


def record_contact(
    uow: UnitOfWork, actor: Actor, sealer: Sealer, case_id: int, contact: Contact, env: Env
) -> Contact:
    """Store (or replace) the case's contact; the centre or the reporter may. Returns it masked."""
    case = _readable_case(uow, case_id)
    if actor.role not in CENTRE_ROLES and case.reporter_id != actor.user_id:
        raise Forbidden("contact.not_permitted")
    put_contact(uow, actor, case_id, seal(sealer, contact), fields_of(contact), env.now())
    uow.commit()
    return contact.masked()


def put_contact(
    uow: UnitOfWork,
    actor: Actor,
    case_id: int,
    sealed: dict[str, Any],
    fields: list[str],
    now: datetime,
) -> None:
    """Store sealed contact values on a case and put that on the record, in the caller's unit of
    work (a new hotline case stores its caller in the same transaction as the case)."""
    uow.contacts.put(case_id, {**sealed, "recorded_by": actor.user_id, "recorded_at": now})
    uow.audit.append(actor, Action.CONTACT_RECORDED, now, f"case:{case_id}", {"fields": fields})


def read_contact(
    uow: UnitOfWork,
    actor: Actor,
    sealer: Sealer,
    case_id: int,
    env: Env,
    *,
    reveal: bool = False,
    reason: str = "",
) -> Contact:
    """The case's contact, masked; in full only for `pii:read`, after the reveal is on record."""
    if reveal and not actor.has(Scope.PII_READ):
        raise Forbidden("pii.read_not_permitted")
    _readable_case(uow, case_id)
    sealed = uow.contacts.get(case_id)
    if sealed is None:
        raise NotFound("contact.not_found", case_id=case_id)
    contact = _open(sealer, sealed)
    if not reveal:
        return contact.masked()
    uow.audit.append(
        actor,
        Action.PII_REVEAL,
        env.now(),
        f"case:{case_id}",
        {"fields": fields_of(contact), "reason": reason[:200]},
    )
    uow.commit()
    return contact


def find_by_contact(
    uow: UnitOfWork,
    actor: Actor,
    sealer: Sealer,
    env: Env,
    *,
    phone: str | None = None,
    id_number: str | None = None,
) -> list[ContactedCase]:
    """Cases in the actor's jurisdiction whose contact has this phone and/or identity number.

    The lookup goes through the blind index, so the database compares HMACs, never plaintext.
    The search itself is recorded (by index, not by number): it tells who was looking for whom.
    """
    if actor.role not in LOOKUP_ROLES:
        raise Forbidden("contact.lookup_not_permitted")
    if not phone and not id_number:
        raise InvalidInput("contact.empty")
    phone_index = sealer.blind_index(normalise_phone(phone), PHONE) if phone else None
    id_index = (
        sealer.blind_index(normalise_identity_number(id_number), ID_NUMBER) if id_number else None
    )
    found: list[ContactedCase] = []
    for case_id in uow.contacts.case_ids_by_index(phone_index, id_index, actor):
        case = uow.cases.get(case_id)
        sealed = uow.contacts.get(case_id)
        if case is not None and sealed is not None:
            found.append(ContactedCase(case, _open(sealer, sealed).masked()))
    uow.audit.append(
        actor,
        Action.CONTACT_LOOKUP,
        env.now(),
        (phone_index or id_index or "")[:16],
        {"by": "phone" if phone else "id_number", "matches": len(found)},
    )
    uow.commit()
    return found
