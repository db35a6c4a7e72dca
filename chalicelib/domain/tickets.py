"""Tickets (one per admission) and pickup codes (one per merch pickup order): what is issued
when an order is paid, and the manual-entry code format."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from .identifiers import new_reference
from .model import Fulfillment, Kind, Order, Session
from .personal_data import mask_id_number

QR_PREFIX = "MM1"                # MM1.<kid>.<payload>.<signature>: see adapters/ticket_codes.py
CODE_DIGITS = 12                 # 10^12 codes: guessing a live one is hopeless at any scan rate
PICKUP_VALIDITY = timedelta(days=90)
_NON_DIGITS = re.compile(r"[\s-]")


class TicketStatus(str, Enum):
    VALID = "VALID"
    REDEEMED = "REDEEMED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"          # shown only: a VALID ticket past its validity


class CodeKind(str, Enum):
    TICKET = "ticket"
    PICKUP = "pickup"


def new_code() -> str:
    """Random digits from the OS CSPRNG, unlike time- or sequence-based codes."""
    return "".join(str(secrets.randbelow(10)) for _ in range(CODE_DIGITS))


@dataclass(frozen=True)
class QrClaims:
    """What a genuine QR payload says of its code."""
    ticket_id: str
    code: str
    kind: str
    sku_id: str
    valid_from: datetime
    valid_until: datetime


def looks_like_qr(text: str) -> bool:
    return text.startswith(QR_PREFIX + ".")


def display_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_manual_code(text: str) -> str | None:
    digits = _NON_DIGITS.sub("", text)
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() else None


@dataclass
class Ticket:
    """An admission (kind ticket) or a pickup code (kind pickup). Keyed by its code so that a
    scan, by QR or by hand, is one keyed write."""
    code: str
    ticket_id: str
    kind: CodeKind
    order_id: str
    user_id: str
    sku_id: str
    product_name: str
    sku_name: str
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    session: Session | None = None
    visitor: dict[str, str] | None = None
    status: TicketStatus = TicketStatus.VALID
    qr: str = ""
    redeemed_at: datetime | None = None
    redeemed_gate: str | None = None
    redeemed_device: str | None = None
    redeemed_by: str | None = None
    redeem_nonce: str | None = None
    redeemed_scanned_at: datetime | None = None   # when the winning scan happened (offline: the scanner's clock)
    revoked_by: str | None = None                  # the refund that took the code back
    revoked_at: datetime | None = None             # when that refund was approved
    admitted_offline_at: datetime | None = None    # an offline gate let it in after it was taken back
    paid: int | None = None                        # its unit's share of its line's paid (None: issued before promotions)
    reschedules: int = 0                           # 改签 its customer made, carried over to the ticket issued instead
    rescheduled_from: str | None = None            # the ticket this one replaced (改签)
    visitor_key: str | None = None                 # blind index of the visitor's ID (type and number): duplicates

    def shown_status(self, now: datetime) -> TicketStatus:
        if self.status is TicketStatus.VALID and now >= self.valid_until:
            return TicketStatus.EXPIRED
        return self.status


@dataclass(frozen=True)
class Revocation:
    """A code taken back, as the gates' offline pack lists it: its ticket id (what a QR names),
    when, and until when it could otherwise still be admitted."""
    ticket_id: str
    revoked_at: datetime | None
    valid_until: datetime


def issue_for(order: Order, now: datetime) -> list[Ticket]:
    """One ticket per unit of every ticket line (with its visitor, for real-name products), and
    one pickup code for an order with goods to collect."""
    tickets: list[Ticket] = []
    visitors_by_sku: dict[str, list[dict[str, str]]] = {}
    for v in order.visitors:
        visitors_by_sku.setdefault(v.sku_id, []).append(
            {"name": v.name, "id_type": v.id_type, "id_number": mask_id_number(v.id_number)})
    for line in order.lines:
        if line.kind is not Kind.TICKET:
            continue
        assigned = iter(visitors_by_sku.get(line.sku_id, []))
        for paid in line.unit_paid():
            tickets.append(Ticket(
                code=new_code(), ticket_id=new_reference("T"), kind=CodeKind.TICKET, order_id=order.order_id,
                user_id=order.user_id, sku_id=line.sku_id, product_name=line.product_name, sku_name=line.sku_name,
                valid_from=line.valid_from or now, valid_until=line.valid_until or now + PICKUP_VALIDITY,
                issued_at=now, session=line.session, visitor=next(assigned, None), paid=paid))
    if order.fulfillment is Fulfillment.PICKUP:
        goods = [f"{l.product_name} / {l.sku_name} x{l.quantity}" for l in order.lines if l.kind is Kind.MERCH]
        tickets.append(Ticket(
            code=new_code(), ticket_id=new_reference("K"), kind=CodeKind.PICKUP, order_id=order.order_id,
            user_id=order.user_id, sku_id="", product_name="; ".join(goods)[:500], sku_name="pickup",
            valid_from=now, valid_until=now + PICKUP_VALIDITY, issued_at=now))
    return tickets


def all_used(codes: list[Ticket]) -> bool:
    """An order is done at the gate when no code is left to use and at least one was used:
    refunded (revoked) codes do not hold it open."""
    return any(t.status is TicketStatus.REDEEMED for t in codes) and \
        all(t.status in (TicketStatus.REDEEMED, TicketStatus.REVOKED) for t in codes)
