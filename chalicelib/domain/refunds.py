"""The refund policy: what may be refunded, how much, and whether staff must look first."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from .errors import Conflict, NotFound, RuleViolation
from .model import Kind, Order, OrderLine, OrderStatus
from .tickets import CodeKind, Ticket, TicketStatus

MAX_TICKETS_PER_REFUND = 90     # a refund and its revocations are one transaction
REFUNDABLE_ORDER_STATES = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED,
                                     OrderStatus.REFUNDING, OrderStatus.PARTIALLY_REFUNDED})


class RefundStatus(str, Enum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


@dataclass
class RefundPlan:
    amount: int
    tickets: list[Ticket] = field(default_factory=list)
    merch_lines: list[OrderLine] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        """Goods come back through staff (condition, return shipping); unused tickets need no one."""
        return bool(self.merch_lines)

    def stock_lines(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for ticket in self.tickets:
            counts[ticket.sku_id] = counts.get(ticket.sku_id, 0) + 1
        for line in self.merch_lines:
            counts[line.sku_id] = counts.get(line.sku_id, 0) + line.quantity
        return sorted(counts.items())


def not_refundable(message: str, **details: object) -> Conflict:
    return Conflict(message, code="NOT_REFUNDABLE", **details)


def plan_refund(order: Order, tickets: list[Ticket], ticket_ids: list[str] | None, merch_claimed: bool,
                now: datetime) -> RefundPlan:
    """Unused tickets within their validity are refunded at once; used or expired ones are not
    refundable; goods wait for staff. Without ticket_ids, everything still refundable."""
    if order.status not in REFUNDABLE_ORDER_STATES:
        raise Conflict(f"an order in {order.status.value} cannot be refunded", code="INVALID_STATE",
                       status=order.status.value)
    admissions = {t.ticket_id: t for t in tickets if t.kind is CodeKind.TICKET}
    if ticket_ids is not None:
        unknown = [t for t in ticket_ids if t not in admissions]
        if unknown:
            raise NotFound("no such ticket in this order", code="TICKET_NOT_FOUND", ticket_ids=unknown)
        chosen = [admissions[t] for t in dict.fromkeys(ticket_ids)]
        merch: list[OrderLine] = []
    else:
        chosen = [t for t in admissions.values() if t.status is not TicketStatus.REVOKED]
        merch = [] if merch_claimed else [line for line in order.lines if line.kind is Kind.MERCH]
    for ticket in chosen:
        if ticket.status is TicketStatus.REDEEMED:
            raise not_refundable("a used ticket cannot be refunded", ticket_id=ticket.ticket_id)
        if ticket.status is TicketStatus.REVOKED:
            raise not_refundable("this ticket was already refunded", ticket_id=ticket.ticket_id)
        if now >= ticket.valid_until:
            raise not_refundable("this ticket is no longer valid", ticket_id=ticket.ticket_id)
    if not chosen and not merch:
        raise not_refundable("nothing left to refund in this order")
    if len(chosen) > MAX_TICKETS_PER_REFUND:
        raise RuleViolation(f"at most {MAX_TICKETS_PER_REFUND} tickets per refund; choose them with ticket_ids",
                            code="TOO_MANY_TICKETS")
    prices = {line.sku_id: line.unit_price for line in order.lines}
    amount = sum(prices[t.sku_id] for t in chosen) + sum(line.subtotal for line in merch)
    return RefundPlan(amount=amount, tickets=chosen, merch_lines=merch)


def settled_status(total: int, refunded: int) -> OrderStatus:
    return OrderStatus.REFUNDED if refunded >= total else OrderStatus.PARTIALLY_REFUNDED


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
    ticket_codes: list[str] = field(default_factory=list)
    stock_lines: list[tuple[str, int]] = field(default_factory=list)   # (sku_id, quantity) back to stock
    decided_by: str | None = None
    reject_reason: str | None = None
    last_error: str | None = None

    @property
    def returns_goods_and_stock(self) -> bool:
        """Automatic refunds (late or mismatched payments) never sold anything: no stock moves."""
        return self.source == "customer"


def check_refund_transition(current: RefundStatus, target: RefundStatus) -> None:
    allowed = {RefundStatus.REQUESTED: {RefundStatus.APPROVED, RefundStatus.REJECTED},
               RefundStatus.APPROVED: {RefundStatus.PROCESSING},
               RefundStatus.PROCESSING: {RefundStatus.SUCCEEDED, RefundStatus.FAILED}}
    if target not in allowed.get(current, set()):
        raise Conflict(f"a refund in {current.value} cannot become {target.value}", code="INVALID_STATE",
                       status=current.value)
