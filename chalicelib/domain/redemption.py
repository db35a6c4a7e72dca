"""Redemption (核销) as explicit, ordered checks that each give a reason, as in pretix's
checkin service. The rule is written once, as data: the storage layer turns it into the ONE
conditional write of a scan, and when that write is refused, the same rule run over the ticket
as it was (the write's own answer) says which check failed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Union

from .tickets import Ticket, TicketStatus


class Reason(str, Enum):
    INVALID = "invalid"
    REVOKED = "revoked"
    UNPAID = "unpaid"              # in the contract; no code is issued before payment today
    ALREADY_REDEEMED = "already_redeemed"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    INVALID_TIME = "invalid_time"  # an offline scan's time before the code was issued, too old, or ahead


@dataclass(frozen=True)
class Scan:
    """One scan at a gate. `at` is when the visitor stood there: the scanner's clock for offline
    scans, the server's for online ones."""
    gate: str
    device_id: str
    staff: str
    at: datetime
    nonce: str | None = None


class ConflictKind(str, Enum):
    EARLIER_SCAN = "earlier_scan"                      # two gates admitted one code while offline
    ADMITTED_THEN_REFUNDED = "admitted_then_refunded"  # let in offline, then paid back
    ADMITTED_WHILE_REVOKED = "admitted_while_revoked"  # let in offline (an out-of-date pack) after it was taken back
    INVALID_TIME = "invalid_time"                      # an offline scan at a time it cannot have happened


@dataclass(frozen=True)
class ScanConflict:
    """An offline scan kept for review, and what it conflicts with: the scan that won the code,
    or the refund that took the code back after the visitor was let in."""
    kind: ConflictKind
    winner_scanned_at: datetime | None = None
    winner_gate: str | None = None
    refund_id: str | None = None


def scan_time_allowed(at: datetime, now: datetime, max_age: timedelta, clock_ahead: timedelta) -> bool:
    """An offline scan happened at most `max_age` ago, and not after now: a scanner's clock a
    little ahead (`clock_ahead`) is forgiven. Whether it happened after the code was issued is
    part of the write's own condition (`admission_checks`)."""
    return now - max_age <= at <= now + clock_ahead


def admitted_before_refund(ticket: Ticket | None, scan: Scan) -> bool:
    """An offline gate let the visitor in before the refund that revoked the ticket was
    approved, at a time the ticket admitted (a scan outside its validity was refused by the gate
    as well): the venue admitted someone it then paid back."""
    return (ticket is not None and ticket.status is TicketStatus.REVOKED and ticket.revoked_at is not None
            and ticket.revoked_by is not None and ticket.valid_from <= scan.at < ticket.valid_until
            and scan.at < ticket.revoked_at)


def admitted_while_revoked(ticket: Ticket | None, scan: Scan) -> bool:
    """An offline gate, its pack older than the refund, let the visitor in after the ticket was
    taken back, at a time the ticket admitted: the visitor is inside, so the ticket counts as
    used from now on (no new request takes it over, no retry pays it back)."""
    return (ticket is not None and ticket.status is TicketStatus.REVOKED and ticket.revoked_at is not None
            and ticket.revoked_by is not None and ticket.valid_from <= scan.at < ticket.valid_until
            and scan.at >= ticket.revoked_at)


# ------------------------------------------------------------------ the rule language

@dataclass(frozen=True)
class Present:
    field: str


@dataclass(frozen=True)
class Compare:
    field: str
    op: str                        # == != < <= > >=
    value: Any


@dataclass(frozen=True)
class AnyOf:
    parts: tuple["Rule", ...]


@dataclass(frozen=True)
class AllOf:
    parts: tuple["Rule", ...]


Rule = Union[Present, Compare, AnyOf, AllOf]

_OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def holds(rule: Rule, ticket: Ticket) -> bool:
    """The rule over a ticket, with DynamoDB's meaning: comparing a missing value is false."""
    if isinstance(rule, Present):
        return getattr(ticket, rule.field) is not None
    if isinstance(rule, Compare):
        value = getattr(ticket, rule.field)
        if value is None:
            return False
        value = value.value if isinstance(value, Enum) else value
        return bool(_OPS[rule.op](value, rule.value))
    if isinstance(rule, AnyOf):
        return any(holds(part, ticket) for part in rule.parts)
    return all(holds(part, ticket) for part in rule.parts)


# ------------------------------------------------------------------ the gate's rule

def admission_checks(at: datetime, expected_ticket_id: str | None,
                     earliest_wins: bool = False) -> list[tuple[Reason, Rule]]:
    """What a code must satisfy to be admitted at `at`, in the order the reasons are given.
    With `earliest_wins` (offline uploads) an earlier scan also takes over a redemption that a
    later scan recorded, but only a scan made once the code existed: one dated before its issue
    is refused as invalid_time, whatever the code's state, so a backdated scan never takes over."""
    checks: list[tuple[Reason, Rule]] = [(Reason.INVALID, Present("code"))]
    if expected_ticket_id is not None:
        checks.append((Reason.INVALID, Compare("ticket_id", "==", expected_ticket_id)))
    if earliest_wins:
        checks.append((Reason.INVALID_TIME, Compare("issued_at", "<=", at)))
    unused: Rule = Compare("status", "!=", TicketStatus.REDEEMED.value)
    if earliest_wins:
        unused = AnyOf((unused, Compare("redeemed_scanned_at", ">", at)))
    checks += [(Reason.REVOKED, Compare("status", "!=", TicketStatus.REVOKED.value)),
               (Reason.ALREADY_REDEEMED, unused),
               (Reason.NOT_YET_VALID, Compare("valid_from", "<=", at)),
               (Reason.EXPIRED, Compare("valid_until", ">", at))]
    return checks


def admission_condition(checks: list[tuple[Reason, Rule]]) -> Rule:
    return AllOf(tuple(rule for _, rule in checks))


class RuleDisagreement(Exception):
    """The write was refused but the rule admits the ticket as it was: never expected, since
    both read the same item. Surfaced, never papered over with a reason."""


def rejection_reason(ticket: Ticket | None, checks: list[tuple[Reason, Rule]]) -> Reason | None:
    """None when the ticket may be admitted; otherwise the first check it fails."""
    if ticket is None:
        return Reason.INVALID
    return next((reason for reason, rule in checks if not holds(rule, ticket)), None)


def refused_because(ticket: Ticket | None, checks: list[tuple[Reason, Rule]]) -> Reason:
    reason = rejection_reason(ticket, checks)
    if reason is None:
        raise RuleDisagreement(f"the write refused ticket {ticket.ticket_id if ticket else '?'} the rule admits")
    return reason


def is_repeat_of_first_scan(ticket: Ticket | None, scan: Scan) -> bool:
    """A retry of the scan that redeemed the ticket (same nonce, from the same device, by the
    same staff account) gets the first answer. The same nonce from another device or account is
    an ordinary scan: a nonce is the device's word for one scan, and another device repeating
    it has not made that scan (a device id is the client's word; the account is proven)."""
    return (ticket is not None and ticket.status is TicketStatus.REDEEMED and scan.nonce is not None
            and ticket.redeem_nonce == scan.nonce and ticket.redeemed_device == scan.device_id
            and ticket.redeemed_by == scan.staff)
