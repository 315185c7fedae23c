"""Personal identifiers: checking them and masking them for display.

A resident identity number (居民身份证号码, GB 11643-1999) carries a check character computed from
the other 17 digits, so most typing errors are caught at the door; a mainland mobile number is 11
digits starting with 1. Masked forms keep just enough to recognise a record on a call.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from pingan.domain.errors import InvalidInput

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# ASCII digits only: `\d` alone would also take Arabic-Indic or Devanagari digits, which then
# would not match the same number's blind index.
_ID = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_LANDLINE = re.compile(r"^0[1-9]\d{1,2}[2-9]\d{6,7}$", re.ASCII)  # area code, then 7–8 digits


def _half_width(value: str) -> str:
    """Full-width digits, X and + (１３８…, as Chinese input methods type them) become ASCII, so
    the same number is stored and looked up alike however it was typed."""
    return unicodedata.normalize("NFKC", value)


def check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise_identity_number(value: str) -> str:
    """Upper-case, stripped and valid (checksum and birth date), or InvalidInput."""
    number = _half_width(value).strip().upper()
    if not _ID.match(number):
        raise InvalidInput("identity.format")
    if check_character(number[:17]) != number[17]:
        raise InvalidInput("identity.checksum")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidInput("identity.birth_date") from None
    if not date(1900, 1, 1) <= born <= date.today():
        raise InvalidInput("identity.birth_date")
    return number


def normalise_phone(value: str) -> str:
    """A mainland mobile or fixed-line number (with its area code) without spaces, dashes or
    +86, or InvalidInput. Hotline callers ring from both."""
    digits = re.sub(r"[\s\-()]", "", _half_width(value).strip())
    if digits.startswith(("+86", "0086")):
        digits = digits.removeprefix("+86").removeprefix("0086")
        if not digits.startswith("1"):
            digits = "0" + digits  # +86 573 … is the fixed line 0573 …
    if not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise InvalidInput("phone.format")
    return digits


def mask_identity_number(number: str) -> str:
    """330402********1234 — region code and last four only."""
    return number[:6] + "*" * 8 + number[-4:] if len(number) == 18 else "*" * len(number)


def mask_phone(phone: str) -> str:
    """138****5678 for a mobile; 0573****2345 for a fixed line (area code and last four)."""
    if len(phone) == 11 and phone.startswith("1"):
        return phone[:3] + "****" + phone[-4:]
    if phone.startswith("0") and len(phone) >= 10:
        area = 3 if phone[1] in "12" else 4  # 010, 02x are three digits; the rest four
        return phone[:area] + "*" * (len(phone) - area - 4) + phone[-4:]
    return "*" * len(phone)


def mask_name(name: str) -> str:
    """张** — the family name only (a single character stays as *)."""
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else "*" * len(name)


@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach the person behind a case (a caller to the hotline, a citizen), in plaintext.

    Only ever held in memory: stored encrypted, shown masked unless the reader holds `pii:read`.
    """

    name: str | None = None
    phone: str | None = None
    id_number: str | None = None

    @classmethod
    def checked(cls, name: str | None, phone: str | None, id_number: str | None) -> Contact:
        """Normalised and validated (GB 11643 checksum, mainland mobile), or InvalidInput."""
        name = (name or "").strip() or None
        if name is not None and len(name) > 64:
            raise InvalidInput("contact.name_too_long")
        contact = cls(
            name=name,
            phone=normalise_phone(phone) if phone else None,
            id_number=normalise_identity_number(id_number) if id_number else None,
        )
        if contact == cls():
            raise InvalidInput("contact.empty")
        return contact

    def masked(self) -> Contact:
        return Contact(
            name=mask_name(self.name) if self.name else None,
            phone=mask_phone(self.phone) if self.phone else None,
            id_number=mask_identity_number(self.id_number) if self.id_number else None,
        )
