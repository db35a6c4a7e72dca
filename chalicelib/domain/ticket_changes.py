"""Changes to a ticket after payment: 改签 (another session of the same product at the same
price) and a change of its real-name visitor. Who may change what, and until when; the use case
(service_layer/ticket_changes.py) reads, asks here, and writes in one transaction."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from .error_codes import ErrorCode
from .errors import Conflict, RuleViolation
from .identifiers import new_reference
from .model import Order, OrderStatus, Product, Sku
from .personal_data import mask_id_number, normalize_id_number
from .tickets import CodeKind, Ticket, TicketStatus, new_code
from .validation import Fields

DEFAULT_RESCHEDULE_CUTOFF_MINUTES = 120
MAX_RESCHEDULE_CUTOFF_MINUTES = 10080        # a week: a cutoff beyond that closes 改签 for most sales
CUSTOMER_RESCHEDULES = 1                     # a customer's 改签 per ticket (staff: any number)
RESCHEDULED = "reschedule"                   # the revocation of a rescheduled ticket names its successor
# Orders whose tickets may still be live: a ticket's own state (VALID) decides, in the write's condition.
LIVE_TICKET_ORDER_STATES = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED,
                                      OrderStatus.REFUNDING, OrderStatus.PARTIALLY_REFUNDED})


class NotReschedulable(str, Enum):
    """`details.reason` of 409 NOT_RESCHEDULABLE."""
    USED = "used"
    REVOKED = "revoked"
    TOO_LATE = "too_late"
    LIMIT = "limit"
    OTHER_PRODUCT = "other_product"
    OTHER_PRICE = "other_price"
    SAME_SESSION = "same_session"
    UNDER_REFUND = "under_refund"


def not_reschedulable(reason: NotReschedulable, message: str, **details: object) -> Conflict:
    return Conflict(message, code=ErrorCode.NOT_RESCHEDULABLE, reason=reason.value, **details)


def reschedule_cutoff(product: Product) -> timedelta:
    minutes = product.reschedule_cutoff_minutes
    return timedelta(minutes=DEFAULT_RESCHEDULE_CUTOFF_MINUTES if minutes is None else minutes)


def revocation_ref(new_ticket_id: str) -> str:
    """What a rescheduled ticket's `revoked_by` says: never a refund's id, so no refund can take
    the code over (refunds take over only codes of refunds that failed)."""
    return f"{RESCHEDULED}:{new_ticket_id}"


def moved_away(revoked_by: str | None) -> bool:
    """Whether a ticket was revoked by a reschedule (its admission moved to its successor)."""
    return bool(revoked_by) and str(revoked_by).startswith(RESCHEDULED + ":")


def reschedules_left(ticket: Ticket, now: datetime) -> int:
    """What a customer may still do with this ticket: 1 or 0 (staff are not counted)."""
    if ticket.kind is not CodeKind.TICKET or ticket.shown_status(now) is not TicketStatus.VALID:
        return 0
    return max(0, CUSTOMER_RESCHEDULES - ticket.reschedules)


def starts_at(ticket: Ticket) -> datetime:
    """When the ticket's session starts (its admission opens, for a ticket without one)."""
    return ticket.session.start if ticket.session else ticket.valid_from


def check_order(status: OrderStatus) -> None:
    if status not in LIVE_TICKET_ORDER_STATES:
        raise Conflict(f"an order in {status.value} has no live tickets", code=ErrorCode.INVALID_STATE,
                       status=status.value)


def check_ticket_unused(ticket: Ticket) -> None:
    """The ticket's own state, as read; the write is conditional on it still being VALID."""
    if ticket.status is TicketStatus.REDEEMED or ticket.admitted_offline_at is not None:
        raise not_reschedulable(NotReschedulable.USED, "this ticket was used", ticket_id=ticket.ticket_id)
    if ticket.status is not TicketStatus.VALID:
        raise not_reschedulable(NotReschedulable.REVOKED, "this ticket was refunded or rescheduled",
                                ticket_id=ticket.ticket_id)


def check_reschedule(ticket: Ticket, current: Sku, target: Sku, product: Product, now: datetime,
                     by_staff: bool) -> None:
    """Another session of the same product at the same price, for an unused ticket. Customers:
    once per ticket and until the old session's start less the product's cutoff; staff: any
    time before use, any number of times."""
    check_ticket_unused(ticket)
    if target.sku_id == ticket.sku_id:
        raise not_reschedulable(NotReschedulable.SAME_SESSION, "the ticket is already for this session",
                                sku_id=target.sku_id)
    if target.product_id != current.product_id:
        raise not_reschedulable(NotReschedulable.OTHER_PRODUCT, "a ticket moves only to a session of its own product",
                                sku_id=target.sku_id)
    if target.price != current.price:
        raise not_reschedulable(NotReschedulable.OTHER_PRICE, "a ticket moves only to a session at the same price",
                                sku_id=target.sku_id, price=target.price, ticket_price=current.price)
    if not by_staff:
        if ticket.reschedules >= CUSTOMER_RESCHEDULES:
            raise not_reschedulable(NotReschedulable.LIMIT, "this ticket was already rescheduled once",
                                    ticket_id=ticket.ticket_id)
        until = starts_at(ticket) - reschedule_cutoff(product)
        if now >= until:
            raise not_reschedulable(NotReschedulable.TOO_LATE, "too close to the session's start to reschedule",
                                    ticket_id=ticket.ticket_id, until=until.isoformat())
    if not product.is_visible(now) or target.sale_has_ended(now) or target.cancelled:
        raise Conflict(f"{product.name} / {target.name} is not on sale", code=ErrorCode.NOT_ON_SALE,
                       sku_id=target.sku_id)


def rescheduled(ticket: Ticket, target: Sku, now: datetime, by_staff: bool) -> Ticket:
    """The ticket issued instead: a new code (its QR signed by the caller), the same order,
    visitor and paid amount, the new session's validity; a customer's 改签 counted."""
    assert target.valid_from is not None and target.valid_until is not None
    return replace(
        ticket, code=new_code(), ticket_id=new_reference("T"), sku_id=target.sku_id, sku_name=target.name,
        valid_from=target.valid_from, valid_until=target.valid_until, issued_at=now, session=target.session,
        status=TicketStatus.VALID, qr="", redeemed_at=None, redeemed_gate=None, redeemed_device=None,
        redeemed_by=None, redeem_nonce=None, redeemed_scanned_at=None, revoked_by=None, revoked_at=None,
        admitted_offline_at=None, reschedules=ticket.reschedules + (0 if by_staff else 1),
        rescheduled_from=ticket.ticket_id)


def check_visitor_change(ticket: Ticket, now: datetime) -> None:
    """An unused real-name ticket, before its session starts: after that the gate may already
    know it. A ticket of a product sold without real names has no visitor to change."""
    if ticket.visitor is None:
        raise Conflict("this ticket names no visitor (its product is not real-name)", code=ErrorCode.INVALID_STATE,
                       status=ticket.status.value, reason="not_real_name")
    if ticket.status is not TicketStatus.VALID or ticket.admitted_offline_at is not None:
        raise Conflict(f"the visitor of a {ticket.status.value} ticket cannot change", code=ErrorCode.INVALID_STATE,
                       status=ticket.status.value)
    if now >= starts_at(ticket):
        raise Conflict("the session has started; its visitor can no longer change", code=ErrorCode.INVALID_STATE,
                       status=ticket.status.value)


def same_person(a: Ticket, visitor: dict[str, str], key: str | None) -> bool:
    """Whether `a` admits the visitor named: by the ID's blind index where both have one; a
    ticket issued without it (at payment) compares by name, ID type and masked number."""
    if a.visitor is None:
        return False
    if a.visitor_key is not None and key is not None:
        return a.visitor_key == key
    return all(a.visitor.get(k) == visitor.get(k) for k in ("name", "id_type", "id_number"))


def check_no_duplicate(holder: Ticket, sku_id: str, visitor: dict[str, str] | None, key: str | None,
                       tickets: list[Ticket]) -> None:
    """One person, one VALID ticket per session in an order (as when it was placed)."""
    if visitor is None:
        return
    for other in tickets:
        if other.code != holder.code and other.sku_id == sku_id and other.status is TicketStatus.VALID \
                and same_person(other, visitor, key):
            raise RuleViolation("one person cannot hold two tickets for the same session",
                                code=ErrorCode.DUPLICATE_VISITOR, sku_id=sku_id)


@dataclass(frozen=True)
class Reschedule:
    sku_id: str


@dataclass(frozen=True)
class VisitorChange:
    name: str
    id_type: str
    id_number: str                  # whole and checked: the store encrypts and masks it

    def shown(self) -> dict[str, str]:
        """As a ticket keeps it (encrypted at rest) and shows it: the ID number masked."""
        return {"name": self.name, "id_type": self.id_type, "id_number": mask_id_number(self.id_number)}

    @property
    def identity(self) -> str:
        """What makes two visitors one person (blind-indexed by the caller, never stored plain)."""
        return f"{self.id_type}:{self.id_number}"


def parse_reschedule(data: object) -> Reschedule:
    f = Fields(data)
    f.only({"sku_id"})
    return Reschedule(f.string("sku_id", max_len=64) or "")


def parse_visitor_change(data: object) -> VisitorChange:
    """As an order's visitors are taken (commands.parse_place_order): a name, an ID type
    (id_card by default) and an ID number valid for it."""
    f = Fields(data)
    f.only({"visitor"})
    v = f.obj("visitor")
    assert v is not None
    v.only({"name", "id_type", "id_number"})
    id_type = v.choice("id_type", ("id_card", "passport"), required=False, default="id_card") or "id_card"
    return VisitorChange(name=v.string("name", max_len=50) or "", id_type=id_type,
                         id_number=normalize_id_number(v.data.get("id_number"), id_type, "visitor.id_number"))


def take_bucket(sku: Sku) -> int:
    """Where a unit moving in is taken from: the SKU item, or the fullest bucket of a sharded
    SKU as read (the write is conditional on it still holding one)."""
    if not sku.sharded or not sku.free_by_bucket:
        return 0
    return max(sorted(sku.free_by_bucket), key=lambda b: sku.free_by_bucket[b] if sku.free_by_bucket else 0)


def return_bucket(ticket: Ticket, order: Order) -> int:
    """Where a unit moving out goes back: a ticket issued by 改签 was counted sold on its SKU
    item; one issued at payment goes back to a shard its line sold from (as a refund does),
    never taking the SKU item's own sold count from its line's other units."""
    if ticket.rescheduled_from is None:
        line = next((l for l in order.lines if l.sku_id == ticket.sku_id), None)
        shards = sorted(b for b in (line.stock_shares if line else {}) if b != 0)
        if shards:
            return shards[0]
    return 0
