"""Personal identifiers are checked and masked; encrypted fields hide them and survive rotation."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pingan.adapters.crypto import DecryptionFailed, Keyring
from pingan.domain.errors import InvalidInput
from pingan.domain.identity import (
    check_character,
    mask_identity_number,
    mask_phone,
    normalise_identity_number,
    normalise_phone,
)

# The worked example of GB 11643-1999, appendix: 11010519491231002X
SAMPLE_ID = "11010519491231002X"


def test_the_standards_worked_example_is_valid() -> None:
    assert check_character(SAMPLE_ID[:17]) == "X"
    assert normalise_identity_number(" 11010519491231002x ") == SAMPLE_ID


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "identity.checksum"),
        ("11010519491331002X", "identity.checksum"),
        ("1101051949123100", "identity.format"),
        ("ABCDEFGHIJKLMNOPQR", "identity.format"),
    ],
)
def test_wrong_identity_numbers_are_refused_with_a_reason(number: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_identity_number(number)
    assert refused.value.code == code


def test_an_impossible_birth_date_is_refused_even_with_a_right_checksum() -> None:
    first17 = "33040220261399001"  # month 13
    with pytest.raises(InvalidInput) as refused:
        normalise_identity_number(first17 + check_character(first17))
    assert refused.value.code == "identity.birth_date"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_one_changed_digit_is_always_caught(first17: str) -> None:
    number = first17 + check_character(first17)
    changed = "1" if number[5] != "1" else "2"
    tampered = number[:5] + changed + number[6:]
    assert check_character(tampered[:17]) != tampered[17]


def test_phone_numbers_are_normalised_and_masked() -> None:
    assert normalise_phone("+86 138-0013-8000") == "13800138000"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_identity_number(SAMPLE_ID) == "110105********002X"
    with pytest.raises(InvalidInput):
        normalise_phone("12345")


def test_full_width_digits_are_the_same_number_and_other_scripts_digits_are_refused() -> None:
    # Chinese input methods type full-width digits; the stored number (and its blind index) must
    # be the one typed in ASCII.
    assert normalise_phone("１３８００１３８０００") == "13800138000"
    assert normalise_phone("＋８６ 138 0013 8000") == "13800138000"
    assert normalise_identity_number("１１０１０５１９４９１２３１００２Ｘ") == SAMPLE_ID
    arabic_indic = "١٣٨٠٠١٣٨٠٠٠"  # 13800138000 in Arabic-Indic digits: \d, but not ASCII
    with pytest.raises(InvalidInput):
        normalise_phone("13" + arabic_indic[2:])
    first17 = "٣٣٠٤٠٢١٩٩٠٠١٠١١٢٣"
    with pytest.raises(InvalidInput) as refused:
        normalise_identity_number(first17 + check_character(first17))
    assert refused.value.code == "identity.format"


@given(st.text(max_size=30))
def test_any_text_is_a_normalised_ascii_phone_or_refused(text: str) -> None:
    try:
        phone = normalise_phone(text)
    except InvalidInput as exc:
        assert exc.code == "phone.format"
        return
    assert phone.isascii() and phone.isdigit() and 10 <= len(phone) <= 12
    assert normalise_phone(phone) == phone


@given(st.text(max_size=24) | st.text(alphabet="0123456789xX１２３ Ｘ", min_size=17, max_size=20))
def test_any_text_is_a_valid_identity_number_or_refused_with_a_reason(text: str) -> None:
    try:
        number = normalise_identity_number(text)
    except InvalidInput as exc:
        assert exc.code in {"identity.format", "identity.checksum", "identity.birth_date"}
        return
    assert number.isascii() and len(number) == 18
    assert check_character(number[:17]) == number[17]
    assert normalise_identity_number(number) == number


def _keyring(active: str = "k1", **extra: bytes) -> Keyring:
    keys = {"k1": b"\x01" * 32, **extra}
    return Keyring(keys, active, b"\x09" * 32)


def test_encrypted_values_hold_no_plaintext_and_read_back() -> None:
    ring = _keyring()
    stored = ring.encrypt("13800138000", "person.phone")
    assert "13800138000" not in stored and stored.startswith("v1.k1.")
    assert ring.decrypt(stored, "person.phone") == "13800138000"
    assert ring.encrypt("13800138000", "person.phone") != stored  # fresh nonce each time


def test_tampered_or_moved_values_are_refused() -> None:
    ring = _keyring()
    stored = ring.encrypt(SAMPLE_ID, "person.id")
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(DecryptionFailed):
        ring.decrypt(flipped, "person.id")
    with pytest.raises(DecryptionFailed):
        ring.decrypt(stored, "person.phone")  # bound to its field


def test_rotation_reencrypts_under_the_new_key_and_old_values_stay_readable() -> None:
    old = _keyring()
    stored = old.encrypt(SAMPLE_ID, "person.id")
    new = _keyring(active="k2", k2=os.urandom(32))
    assert new.decrypt(stored, "person.id") == SAMPLE_ID
    rotated = new.rotate(stored, "person.id")
    assert rotated.startswith("v1.k2.") and new.decrypt(rotated, "person.id") == SAMPLE_ID


def test_the_blind_index_finds_equal_values_without_revealing_them() -> None:
    ring = _keyring()
    a = ring.blind_index(SAMPLE_ID, "person.id")
    assert a == ring.blind_index(SAMPLE_ID, "person.id") and SAMPLE_ID not in a
    assert a != ring.blind_index(SAMPLE_ID, "person.phone")
    assert a != Keyring({"k1": b"\x01" * 32}, "k1", b"\x08" * 32).blind_index(
        SAMPLE_ID, "person.id"
    )
