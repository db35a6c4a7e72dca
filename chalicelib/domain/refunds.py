"""The refund policy and lifecycle: what may be refunded, how much, whether staff must look
first, and what WeChat's answers mean for a refund."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Collection

from .error_codes import ErrorCode
from .errors import Conflict, NotFound, RuleViolation
from .model import Fulfillment, Kind, Order, OrderLine, OrderStatus
from .refund_summary import RefundContact, RefundItem
from .tickets import CodeKind, Ticket, TicketStatus
from .transactions import MAX_ITEMS, approval_items

MAX_TICKETS_PER_REFUND = 90     # a refund and its revocations are one transaction
REFUNDABLE_ORDER_STATES = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED,
                                     OrderStatus.REFUNDING, OrderStatus.PARTIALLY_REFUNDED})
MAX_QUERY_INTERVAL = timedelta(hours=6)
# Refunds that sold something and so return it: a customer's request, and the venue's own refund of
# a session it cancelled (domain/session_cancellation.py). Automatic ones (late money) sold nothing.
SOURCE_CUSTOMER = "customer"
SOURCE_SESSION_CANCELLED = "session_cancelled"
# A return received under after-sales (domain/after_sales.py): it settles its order like a
# customer's refund, but its `stock_lines` are empty: the goods went back to stock (or not, when
# damaged) in the after-sale's receiving transaction, never a second time through the refund.
SOURCE_AFTER_SALE = "after_sale"


class RefundStatus(str, Enum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


# What WeChat says of a refund (its notice or its query), as our state.
_GATEWAY_OUTCOME = {"SUCCESS": RefundStatus.SUCCEEDED, "CLOSED": RefundStatus.FAILED}
# ABNORMAL is not WeChat's last word: the money left the merchant and waits in WeChat's refund
# account because the customer's card was closed or frozen. Staff settle it by hand (merchant
# platform, 交易中心, or WeChat's 异常退款 API) and WeChat then reports SUCCESS. Asking WeChat for
# the same money again under a new number could pay the customer twice. So an ABNORMAL refund
# stays in flight here (PROCESSING, its order claimed) and is asked about until WeChat decides.
HELD_BY_WECHAT = "ABNORMAL"

# Why a refund waits for staff instead of being approved at once.
REVIEW_GOODS = "goods"                        # goods come back through staff
REVIEW_ADMISSION_OPEN = "admission_open"      # the visitor may already be inside (an offline gate)


def outcome_of(gateway_status: str) -> RefundStatus | None:
    """SUCCEEDED or FAILED when WeChat has decided; None while it is still PROCESSING or holds
    the money (ABNORMAL)."""
    return _GATEWAY_OUTCOME.get(gateway_status)


@dataclass
class RefundPlan:
    amount: int
    tickets: list[Ticket] = field(default_factory=list)
    merch_lines: list[OrderLine] = field(default_factory=list)
    pickup: Ticket | None = None
    review_reasons: list[str] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        """Goods come back through staff (condition, return shipping), and so do tickets whose
        admission has opened: an offline gate may have let their visitor in. Unused tickets
        before admission opens need no one."""
        return bool(self.review_reasons)

    @property
    def codes(self) -> list[str]:
        """Everything this refund takes back: admissions and the pickup code."""
        return [t.code for t in self.tickets] + ([self.pickup.code] if self.pickup else [])

    def stock_lines(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for ticket in self.tickets:
            counts[ticket.sku_id] = counts.get(ticket.sku_id, 0) + 1
        for line in self.merch_lines:
            counts[line.sku_id] = counts.get(line.sku_id, 0) + line.quantity
        return sorted(counts.items())


def not_refundable(message: str, **details: object) -> Conflict:
    return Conflict(message, code=ErrorCode.NOT_REFUNDABLE, **details)


def goods_not_returned(**details: object) -> Conflict:
    return Conflict("the goods were handed over; approve with goods_returned once they are back",
                    code=ErrorCode.GOODS_NOT_RETURNED, **details)


def is_refundable_code(ticket: Ticket, reclaimable: Collection[str]) -> bool:
    """Unused, or revoked by a refund that failed and may be taken over by a new one (unless an
    offline gate let its visitor in since: then it is used)."""
    return ticket.status is TicketStatus.VALID or (
        ticket.status is TicketStatus.REVOKED and ticket.revoked_by is not None and ticket.revoked_by in reclaimable
        and ticket.admitted_offline_at is None)


def plan_refund(order: Order, tickets: list[Ticket], ticket_ids: list[str] | None, merch_claimed: bool,
                now: datetime, reclaimable: Collection[str] = (), under_review: Collection[str] = ()) -> RefundPlan:
    """Unused tickets before admission opens (`valid_from`) are refunded at once; from then
    until `valid_until` staff review them; used or expired ones are not refundable; goods (and
    their pickup code) wait for staff. Without ticket_ids, everything still refundable. Codes
    revoked by a refund that FAILED (`reclaimable`) may be asked for again: the new refund takes
    them over, all of them at once, so that none is left behind revoked by a refund that can no
    longer complete. Codes another request already asks for (`under_review`) are not asked for
    twice."""
    if order.status not in REFUNDABLE_ORDER_STATES:
        raise Conflict(f"an order in {order.status.value} cannot be refunded", code=ErrorCode.INVALID_STATE,
                       status=order.status.value)
    admissions = {t.ticket_id: t for t in tickets if t.kind is CodeKind.TICKET}
    if ticket_ids is not None:
        unknown = [t for t in ticket_ids if t not in admissions]
        if unknown:
            raise NotFound("no such ticket in this order", code=ErrorCode.TICKET_NOT_FOUND, ticket_ids=unknown)
        chosen = [admissions[t] for t in dict.fromkeys(ticket_ids)]
        merch: list[OrderLine] = []
    else:
        chosen = [t for t in admissions.values()
                  if (t.status is not TicketStatus.REVOKED or is_refundable_code(t, reclaimable))
                  and t.code not in under_review]
        merch = [] if merch_claimed else [line for line in order.lines if line.kind is Kind.MERCH]
    for ticket in chosen:
        if ticket.status is TicketStatus.REDEEMED or ticket.admitted_offline_at is not None:
            raise not_refundable("a used ticket cannot be refunded", ticket_id=ticket.ticket_id)
        if not is_refundable_code(ticket, reclaimable):
            raise not_refundable("this ticket was already refunded", ticket_id=ticket.ticket_id)
        if now >= ticket.valid_until:
            raise not_refundable("this ticket is no longer valid", ticket_id=ticket.ticket_id)
        if ticket.code in under_review:
            raise not_refundable("a refund of this ticket is already waiting for review", ticket_id=ticket.ticket_id)
    if not chosen and not merch:
        raise not_refundable("nothing left to refund in this order")
    chosen_ids = {t.ticket_id for t in chosen}
    taken_over = {t.revoked_by for t in chosen if t.status is TicketStatus.REVOKED}
    for failed in taken_over:
        together = sorted(t.ticket_id for t in admissions.values()
                          if t.revoked_by == failed and t.admitted_offline_at is None)
        if not chosen_ids.issuperset(together):
            raise not_refundable("these tickets were refunded together; ask for all of them again",
                                 ticket_ids=together)
        if not merch and any(t.kind is CodeKind.PICKUP and t.revoked_by == failed for t in tickets):
            raise not_refundable("these tickets were refunded together with the goods; ask for the whole order "
                                 "again", ticket_ids=together)
    pickup = None
    if merch:
        pickup = next((t for t in tickets if t.kind is CodeKind.PICKUP), None)
        if pickup is not None and pickup.status is TicketStatus.REVOKED and not is_refundable_code(pickup, reclaimable):
            raise not_refundable("these goods were already refunded")
        if pickup is not None and pickup.status is TicketStatus.REVOKED:
            taken_over.add(pickup.revoked_by)
    codes = len(chosen) + (1 if pickup is not None else 0)
    if len(chosen) > MAX_TICKETS_PER_REFUND or approval_items(codes, len(taken_over)) > MAX_ITEMS:
        raise RuleViolation(f"at most {MAX_TICKETS_PER_REFUND} tickets per refund (fewer when they take over many "
                            "earlier refunds); choose them with ticket_ids", code=ErrorCode.TOO_MANY_TICKETS)
    reasons = ([REVIEW_GOODS] if merch else []) + (
        [REVIEW_ADMISSION_OPEN] if any(now >= t.valid_from for t in chosen) else [])
    # Each ticket refunds its unit's share of its line's paid (fen exact after promotions), so
    # the refunds of an order's units sum to what was paid whatever order they come in.
    prices = {line.sku_id: line.unit_price for line in order.lines}
    amount = sum(t.paid if t.paid is not None else prices[t.sku_id] for t in chosen) + \
        sum(line.paid for line in merch)
    return RefundPlan(amount=amount, tickets=chosen, merch_lines=merch, pickup=pickup, review_reasons=reasons)


def goods_handed_over(order: Order, pickup: Ticket | None) -> bool:
    """The customer has the goods: the pickup code was used, or the parcel was shipped."""
    return order.shipment is not None or (pickup is not None and pickup.status is TicketStatus.REDEEMED)


def settled_status(total: int, refunded: int, before_refund: OrderStatus, all_back: bool = True,
                   some_back: bool = False) -> OrderStatus:
    """Where an order goes when no refund of it is in flight any more. REFUNDED only when the
    money is back and so is everything it paid for (`all_back`): promotions may have made a unit
    free, and refunding every paid unit must not call an order with a usable free ticket refunded
    (nor give its coupon back). `some_back`: units came back that paid nothing (a free order's)."""
    if refunded >= total and all_back and (refunded > 0 or some_back):
        return OrderStatus.REFUNDED
    if refunded > 0 or some_back:
        return OrderStatus.PARTIALLY_REFUNDED
    return before_refund


def everything_back(order: Order, codes: list[Ticket], goods_returned: bool = False) -> bool:
    """Every ticket and pickup code of the order taken back, and its goods by post claimed by a
    refund: nothing it paid for is left to use. `goods_returned`: every unit of its goods came
    back through after-sales returns, so its used pickup code, or its parcel, holds nothing."""
    goods_by_post = order.fulfillment is Fulfillment.SHIPPING and any(line.kind is Kind.MERCH for line in order.lines)
    return all(t.status is TicketStatus.REVOKED or (goods_returned and t.kind is CodeKind.PICKUP) for t in codes) \
        and (not goods_by_post or order.merch_refund is not None or goods_returned)


def query_delay(queries: int, first: timedelta) -> timedelta:
    """How long to wait before asking WeChat about a refund again: doubling, up to six hours
    (a refund to a bank card can take days)."""
    return min(first * (2 ** min(queries, 20)), MAX_QUERY_INTERVAL)


@dataclass
class Refund:
    refund_id: str
    order_id: str
    amount: int
    total: int
    status: RefundStatus
    reason: str
    source: str                                   # customer | automatic
    created_at: datetime
    user_id: str | None = None
    transaction_id: str | None = None
    ticket_codes: list[str] = field(default_factory=list)            # every code it takes back
    stock_lines: list[tuple[str, int]] = field(default_factory=list)   # (sku_id, quantity) back to stock
    decided_by: str | None = None
    reject_reason: str | None = None
    last_error: str | None = None
    out_refund_no: str = ""                       # at WeChat: the refund_id, then -2, -3 after a failure
    goods_returned: bool = False
    queries: int = 0
    next_query_at: datetime | None = None
    gateway_status: str | None = None
    superseded_by: str | None = None
    claims_goods: bool = False
    review_reasons: list[str] = field(default_factory=list)
    # SUCCEEDED by WeChat's word after its order had moved on (its codes taken over by a newer
    # refund, its goods shipped): the money left twice, but this refund returned no stock.
    unsettled: bool = False
    # The payment attempt whose money it returns (WeChat's out_trade_no): the order's paid one, or
    # the attempt money landed on that the order was not paid by.
    out_trade_no: str = ""
    # What it takes back (by SKU) and for whom (the order's contact), for staff: kept when it is
    # made; None on a refund made before they were kept (read from its order then).
    items: list[RefundItem] | None = None
    contact: RefundContact | None = None

    def __post_init__(self) -> None:
        if not self.out_refund_no:
            self.out_refund_no = self.refund_id
        if not self.out_trade_no:
            self.out_trade_no = self.order_id

    @property
    def returns_goods_and_stock(self) -> bool:
        """Automatic refunds (late or mismatched payments) never sold anything: no stock moves."""
        return self.source in (SOURCE_CUSTOMER, SOURCE_SESSION_CANCELLED, SOURCE_AFTER_SALE)

    @property
    def held_by_wechat(self) -> bool:
        """Its money waits at WeChat for staff to settle it by hand: never sent again."""
        return self.gateway_status == HELD_BY_WECHAT and self.status in (RefundStatus.PROCESSING, RefundStatus.FAILED)

    @property
    def returned_stock(self) -> bool:
        """Its units went back to stock (what later refunds of the same lines build on)."""
        return self.status is RefundStatus.SUCCEEDED and not self.unsettled and self.returns_goods_and_stock

    def next_out_refund_no(self) -> str:
        """A refund WeChat closed or found abnormal is sent again under a new number."""
        head, _, n = self.out_refund_no.partition("-")
        return f"{head}-{int(n or 1) + 1}"


def refund_id_of(out_refund_no: str) -> str:
    return out_refund_no.partition("-")[0]


# What staff may do to a refund. The lifecycle's own moves (sending, WeChat's outcomes, a retry
# of a FAILED one) are decided by the settlement, not checked here.
_ALLOWED = {RefundStatus.REQUESTED: {RefundStatus.APPROVED, RefundStatus.REJECTED}}


def check_refund_transition(current: RefundStatus, target: RefundStatus) -> None:
    if target not in _ALLOWED.get(current, set()):
        raise Conflict(f"a refund in {current.value} cannot become {target.value}", code=ErrorCode.INVALID_STATE,
                       status=current.value)
