"""Instants: parsed only with an explicit offset, stored as UTC, shown in the venue's zone."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from .errors import InvalidInput


def parse_instant(value: object, field: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput(f"{field} must be an ISO-8601 time with an offset", field=field)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field} is not an ISO-8601 time", field=field) from None
    if parsed.tzinfo is None:
        # A time without an offset is ambiguous for a venue in another zone than the server.
        raise InvalidInput(f"{field} needs a UTC offset, e.g. +08:00", field=field)
    return parsed.astimezone(timezone.utc)


def to_storage(instant: datetime) -> str:
    """UTC, fixed width, so that stored strings sort as the instants do."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def from_storage(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def to_display(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
