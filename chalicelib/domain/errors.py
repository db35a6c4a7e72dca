"""Domain errors. Each carries the machine-readable code of API.md; the API layer maps its
category to an HTTP status, so the domain never speaks HTTP."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "ERROR"

    def __init__(self, message: str, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class InvalidInput(DomainError):
    """Malformed request: wrong types, missing fields, out-of-range numbers."""
    code = "VALIDATION_ERROR"


class NotAuthenticated(DomainError):
    code = "UNAUTHORIZED"


class NotAllowed(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    """The request does not fit the current state (sold out, wrong order status, taken name)."""
    code = "CONFLICT"


class RuleViolation(DomainError):
    """Well-formed but against a business rule (purchase limit, visitors missing)."""
    code = "BUSINESS_RULE"


class TooManyAttempts(DomainError):
    code = "TOO_MANY_ATTEMPTS"


class Unavailable(DomainError):
    """Not decided yet through no fault of the caller (a payment we could not yet confirm): ask
    again later. WeChat Pay redelivers a notice answered this way."""
    code = "TRY_AGAIN_LATER"


class Busy(Conflict):
    """Other writers kept colliding with this one (transaction conflicts) after every retry:
    nothing was written, and the same request may well succeed a moment later."""
    code = "TRY_AGAIN"


class Saturated(Busy):
    """An item this write needs is taking writes faster than the database accepts them (a
    session selling faster than its stock item records): nothing was written, and asking again
    at once would only add to the storm, so the caller is told when to come back."""

    def __init__(self, message: str, hot: list[str], retry_after_seconds: int = 1) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.hot = hot              # the writes' tags: which items, for the caller, not the client
