"""The audit chain and contact masking, without a database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from pingan.domain.audit import GENESIS, AuditEntry, chain_hash, first_break
from pingan.domain.errors import InvalidInput
from pingan.domain.identity import Contact, check_character

AT = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def chain(n: int) -> list[tuple[AuditEntry, str, str]]:
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        entry = AuditEntry(seq, AT, 7, "clerk", "pii.reveal", f"case:{seq}", {"fields": ["phone"]})
        digest = chain_hash(prev, entry)
        rows.append((entry, prev, digest))
        prev = digest
    return rows


def test_an_intact_chain_has_no_break() -> None:
    assert first_break(chain(5)) is None


def test_a_changed_entry_breaks_the_chain_at_that_entry() -> None:
    rows = chain(5)
    entry, prev, digest = rows[2]
    rows[2] = (dataclasses.replace(entry, subject="case:999"), prev, digest)
    broken = first_break(rows)
    assert broken is not None and (broken.seq, broken.reason) == (3, "hash")


def test_a_removed_entry_is_a_gap_and_a_rehashed_one_a_broken_link() -> None:
    rows = chain(5)
    gap = first_break(rows[:2] + rows[3:])
    assert gap is not None and (gap.seq, gap.reason) == (3, "gap")
    entry, _prev, _digest = rows[2]
    forged = dataclasses.replace(entry, subject="case:999")
    rows[2] = (forged, rows[1][2], chain_hash(rows[1][2], forged))  # re-hashed by the forger
    link = first_break(rows)
    assert link is not None and (link.seq, link.reason) == (4, "link")


def test_the_hash_covers_every_field_and_is_stable() -> None:
    entry = chain(1)[0][0]
    assert chain_hash(GENESIS, entry) == chain_hash(GENESIS, dataclasses.replace(entry))
    for change in (
        {"actor_id": 8},
        {"action": "auth.login"},
        {"detail": {}},
        {"at": AT.replace(second=1)},
    ):
        assert chain_hash(GENESIS, dataclasses.replace(entry, **change)) != chain_hash(
            GENESIS, entry
        )


def test_a_contact_is_normalised_checked_and_masked() -> None:
    first17 = "11010519491231002"
    number = first17 + check_character(first17)
    contact = Contact.checked(" 王小明 ", "+86 138-1234-5678", number.lower())
    assert contact == Contact("王小明", "13812345678", number)
    assert contact.masked() == Contact("王**", "138****5678", "110105********" + number[-4:])


@pytest.mark.parametrize(
    ("phone", "id_number", "code"),
    [
        (None, None, "contact.empty"),
        ("12345678901", None, "phone.format"),
        (None, "11010519491231002Y", "identity.format"),
        (None, "110105194912310021", "identity.checksum"),
    ],
)
def test_bad_contacts_are_refused_with_stable_codes(
    phone: str | None, id_number: str | None, code: str
) -> None:
    if code == "identity.checksum":
        first17 = id_number[:17]  # type: ignore[index]
        wrong = "0" if check_character(first17) != "0" else "1"
        id_number = first17 + wrong
    with pytest.raises(InvalidInput) as raised:
        Contact.checked(None, phone, id_number)
    assert raised.value.code == code
