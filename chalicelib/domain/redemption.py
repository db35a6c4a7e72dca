"""Redemption (核销) as explicit, ordered checks that each give a reason, as in pretix's
checkin service. The storage layer makes ONE conditional write; when it fails, the ticket as
it was is run through these same checks to say why."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from .tickets import Ticket, TicketStatus


class Reason(str, Enum):
    INVALID = "invalid"
    REVOKED = "revoked"
    UNPAID = "unpaid"
    ALREADY_REDEEMED = "already_redeemed"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Scan:
    """One scan at a gate. `at` is when the visitor stood there: the scanner's clock for offline
    scans, the server's for online ones."""
    gate: str
    device_id: str
    staff: str
    at: datetime
    nonce: str | None = None


def rejection_reason(ticket: Ticket | None, scan: Scan, expected_ticket_id: str | None = None) -> Reason | None:
    """None when the ticket may be admitted now; otherwise the first reason, in this order."""
    if ticket is None or (expected_ticket_id is not None and ticket.ticket_id != expected_ticket_id):
        return Reason.INVALID
    if ticket.status is TicketStatus.REVOKED:
        return Reason.REVOKED
    if ticket.extra.get("paid") == "false":
        return Reason.UNPAID
    if ticket.status is TicketStatus.REDEEMED:
        return Reason.ALREADY_REDEEMED
    if scan.at < ticket.valid_from:
        return Reason.NOT_YET_VALID
    if scan.at >= ticket.valid_until:
        return Reason.EXPIRED
    return None


def is_repeat_of_first_scan(ticket: Ticket | None, scan: Scan) -> bool:
    """A retry of the scan that redeemed the ticket (same nonce) gets the first answer."""
    return (ticket is not None and ticket.status is TicketStatus.REDEEMED and scan.nonce is not None
            and ticket.redeem_nonce == scan.nonce)
