"""Phone and ID numbers: validation and masking. Storage encrypts them (adapters.security);
anything shown or logged goes through the masks here."""
from __future__ import annotations

import re

from .errors import InvalidInput

# As sent: digits with an optional leading +, spaces and dashes between them ignored.
PHONE_PATTERN = r"^[ -]*\+?[ -]*(?:[0-9][ -]*){5,20}$"
# A resident ID card number (its check digit is checked too) or a passport number.
ID_NUMBER_PATTERN = r"^(?:[0-9]{17}[0-9Xx]|[A-Za-z0-9]{5,20})$"
_PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_RESIDENT_ID = re.compile(r"^[0-9]{17}[0-9X]$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def normalize_phone(value: object, field: str = "phone") -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    phone = re.sub(r"[ -]", "", value)
    if not _PHONE.match(phone):
        raise InvalidInput(f"{field} is not a phone number", field=field)
    return phone


def looks_like_phone(text: str) -> bool:
    """A search for a phone number, not for a name: a longer run of digits is searched as text."""
    return re.match(PHONE_PATTERN, text) is not None


def mask_phone(phone: str) -> str:
    if len(phone) <= 7:
        return phone[:2] + "*" * (len(phone) - 2)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str) -> str:
    """A name as lists show it: its first character (the family name), the rest starred."""
    return name[:1] + "*" * max(len(name) - 1, 0) if len(name) > 1 else "*" * len(name)


def resident_id_is_valid(number: str) -> bool:
    """GB 11643-1999 check digit of the 18-character resident identity card number."""
    if not _RESIDENT_ID.match(number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS))
    return _CHECK[total % 11] == number[17]


def normalize_id_number(value: object, id_type: str, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    number = value.upper()
    if id_type == "id_card":
        if not resident_id_is_valid(number):
            raise InvalidInput(f"{field} is not a valid resident ID number", field=field)
    elif not _PASSPORT.match(number):
        raise InvalidInput(f"{field} is not a valid passport number", field=field)
    return number


def mask_id_number(number: str) -> str:
    """At least half of any ID number hidden, however short (a 7-character passport shows 3):
    at most the first 3 and the last 4 characters stay, as on a resident ID card's usual mask."""
    shown = min(7, len(number) // 2)
    head = min(3, shown // 2)
    tail = shown - head
    return number[:head] + "*" * (len(number) - shown) + (number[-tail:] if tail else "")
