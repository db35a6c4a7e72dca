"""Domain errors. Each carries the machine-readable code of API.md; the API layer maps its
category to an HTTP status, so the domain never speaks HTTP."""
from __future__ import annotations

from typing import Any

from .error_codes import ErrorCode


class DomainError(Exception):
    code = ErrorCode.ERROR

    def __init__(self, message: str, code: ErrorCode | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class InvalidInput(DomainError):
    """Malformed request: wrong types, missing fields, out-of-range numbers."""
    code = ErrorCode.VALIDATION_ERROR


class NotAuthenticated(DomainError):
    code = ErrorCode.UNAUTHORIZED


class NotAllowed(DomainError):
    code = ErrorCode.FORBIDDEN


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    """The request does not fit the current state (sold out, wrong order status, taken name)."""
    code = ErrorCode.CONFLICT


class RuleViolation(DomainError):
    """Well-formed but against a business rule (purchase limit, visitors missing)."""
    code = ErrorCode.BUSINESS_RULE


class TooManyAttempts(DomainError):
    code = ErrorCode.TOO_MANY_ATTEMPTS


class Unavailable(DomainError):
    """Not decided yet through no fault of the caller (a payment we could not yet confirm): ask
    again later. WeChat Pay redelivers a notice answered this way."""
    code = ErrorCode.TRY_AGAIN_LATER


class Busy(Conflict):
    """Other writers kept colliding with this one (transaction conflicts) after every retry:
    nothing was written, and the same request may well succeed a moment later."""
    code = ErrorCode.TRY_AGAIN


class Saturated(Busy):
    """An item this write needs is taking writes faster than the database accepts them (a
    session selling faster than its stock item records): nothing was written, and asking again
    at once would only add to the storm, so the caller is told when to come back."""

    def __init__(self, message: str, hot: list[str], retry_after_seconds: int = 1) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.hot = hot              # the writes' tags: which items, for the caller, not the client
