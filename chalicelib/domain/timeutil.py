"""Instants: parsed only with an explicit offset, stored as UTC, shown in the venue's zone."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from .errors import InvalidInput

# RFC 3339 date-time (what JSON Schema's `date-time` means): a time without an offset is
# ambiguous for a venue in another zone than the server, so the offset is required.
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_INSTANT_LENGTH = 40
# A venue's sessions, sale windows and scans lie in this century or the next; a year like 0126 is a
# typing slip, and at the edges of the calendar a shift to the venue's zone would overflow.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2199
YEAR_PATTERN = r"^2[01][0-9]{2}-"


def parse_instant(value: object, field: str) -> datetime:
    match = _RFC3339.match(value) if isinstance(value, str) and len(value) <= MAX_INSTANT_LENGTH else None
    if match is None:
        raise InvalidInput(f"{field} must be an RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00+08:00",
                           field=field)
    day, clock, fraction, offset = match.groups()
    offset = "+00:00" if offset in "Zz" else offset
    if not EARLIEST_YEAR <= int(day[:4]) <= LATEST_YEAR:
        raise InvalidInput(f"{field} must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}", field=field)
    try:
        parsed = datetime.fromisoformat(f"{day}T{clock}{(fraction or '')[:7]}{offset}")
    except ValueError:
        raise InvalidInput(f"{field} is not a real date and time", field=field) from None
    return parsed.astimezone(timezone.utc)


def parse_date(value: object, field: str) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise InvalidInput(f"{field} must be a date, YYYY-MM-DD", field=field)
    if not EARLIEST_YEAR <= int(value[:4]) <= LATEST_YEAR:
        raise InvalidInput(f"{field} must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}", field=field)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} is not a real date", field=field) from None


def to_storage(instant: datetime) -> str:
    """UTC, fixed width, so that stored strings sort as the instants do."""
    return instant.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_storage(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def to_display(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
