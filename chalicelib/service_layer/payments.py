"""Payment: prepaying an order, and the WeChat Pay notification that makes it PAID and issues
its tickets, in one conditional transaction."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from ..adapters.dynamo import MAX_TRANSACTION_ITEMS, TransactionCancelled
from ..adapters.payments import NotificationRejected, PaymentGatewayError, PaymentNotice
from ..domain import identifiers
from ..domain.errors import Conflict, NotFound
from ..domain.model import Order, OrderStatus
from ..domain.tickets import CodeKind, Ticket, issue_for
from .context import Actor, Context
from .publishing import enqueue_refund

log = logging.getLogger("micromall.payments")
# The transaction that marks an order paid holds the order, the payment record, one stock update
# per line (reserved -> sold) and as many tickets as fit; later batches hold the order and tickets.
NEXT_BATCH = MAX_TRANSACTION_ITEMS - 1


def first_batch_size(order: Order) -> int:
    return MAX_TRANSACTION_ITEMS - 2 - len(order.lines)


def payment_parameters(ctx: Context, actor: Actor, order: Order) -> dict[str, str] | None:
    """The wx.requestPayment parameters of a pending order (prepaying is idempotent at WeChat for
    the same out_trade_no). None when the gateway is unreachable: the order stands, the client
    asks again through POST /orders/{id}/payment."""
    if order.status is not OrderStatus.PENDING_PAYMENT or not actor.principal.openid:
        return None
    description = ", ".join(sorted({line.product_name for line in order.lines}))
    try:
        return ctx.payments.prepay(order.order_id, description, order.total, actor.principal.openid,
                                   order.created_at, order.expires_at)
    except PaymentGatewayError:
        log.warning("prepay failed for order %s", order.order_id)
        return None


def pay_again(ctx: Context, actor: Actor, order: Order) -> dict[str, str]:
    if order.status is not OrderStatus.PENDING_PAYMENT:
        raise Conflict(f"the order is {order.status.value}", code="INVALID_STATE", status=order.status.value)
    params = payment_parameters(ctx, actor, order)
    if params is None:
        raise Conflict("the payment service is unavailable; try again shortly", code="PAYMENT_UNAVAILABLE")
    return params


def receive_notification(ctx: Context, headers: Mapping[str, str], body: str) -> tuple[int, dict[str, Any] | None]:
    """WeChat's rules: 204 when handled (also for a notice already handled: WeChat redelivers
    until it hears success); 4xx with {"code": "FAIL"} when it must not be trusted."""
    now = ctx.clock()
    try:
        notice = ctx.payments.parse_notification(headers, body, now.timestamp())
    except NotificationRejected as rejected:
        log.warning("payment notification rejected: %s", rejected)
        return 401, {"code": "FAIL", "message": str(rejected)}
    if notice.event_type != "TRANSACTION.SUCCESS" or notice.trade_state != "SUCCESS":
        return 204, None
    confirm_payment(ctx, notice)
    return 204, None


def confirm_payment(ctx: Context, notice: PaymentNotice) -> str:
    """Applies a verified payment once. Returns what happened: paid, duplicate or refund_due.

    One read of the order, then one transaction: PENDING_PAYMENT -> PAID at exactly the amount
    due, the payment record (unique per transaction id) and every ticket. Money for an order
    that is no longer pending, or of the wrong amount, never makes it PAID: it is recorded as a
    refund due."""
    now = ctx.clock()
    found = ctx.orders.get(notice.out_trade_no) if identifiers.ORDER_ID.match(notice.out_trade_no) else None
    order = found[0] if found else None
    if order is not None and order.transaction_id == notice.transaction_id:
        _finish_issuing(ctx, order)
        return "duplicate"
    if order is None or order.status is not OrderStatus.PENDING_PAYMENT or order.total != notice.amount:
        return _refund_due(ctx, notice, order)

    tickets = _signed(ctx, issue_for(order, now))
    first = tickets[:first_batch_size(order)]
    pickup = next((t.code for t in tickets if t.kind is CodeKind.PICKUP), None)
    uow = ctx.unit_of_work()
    ctx.orders.mark_paid(uow, order, notice.transaction_id, notice.amount, now, len(tickets), len(first), pickup)
    ctx.payment_ledger.record(uow, notice.transaction_id, order.order_id, notice.amount, "paid",
                              notice.notification_id, now)
    for line in order.lines:
        ctx.ledger.sell(uow, line.sku_id, line.quantity)
    for ticket in first:
        ctx.tickets.add(uow, ticket)
    try:
        uow.commit()
    except TransactionCancelled as cancelled:
        if "payment" in cancelled.failed:
            return "duplicate"
        old = cancelled.old_items.get("order")
        current = ctx.orders.from_raw(old) if old else None
        if current is not None and current.transaction_id == notice.transaction_id:
            return "duplicate"          # a concurrent delivery of the same notice won
        return _refund_due(ctx, notice, current)  # an expiry or cancellation won the race
    _issue_rest(ctx, order, tickets, len(first))
    ctx.metrics.count("OrdersPaid")
    ctx.metrics.count("GMV", notice.amount, unit="None")
    issued = sum(1 for t in tickets if t.kind is CodeKind.TICKET)
    if issued:
        ctx.metrics.count("TicketsIssued", issued)
    return "paid"


def _signed(ctx: Context, tickets: list[Ticket]) -> list[Ticket]:
    for ticket in tickets:
        ticket.qr = ctx.qr.sign(ticket)
    return tickets


def _issue_rest(ctx: Context, order: Order, tickets: list[Ticket], issued: int) -> None:
    """Orders with more tickets than one transaction holds: further transactions, each moving
    the order's issued count on from where the last one left it."""
    while issued < len(tickets):
        batch = tickets[issued:issued + NEXT_BATCH]
        uow = ctx.unit_of_work()
        ctx.orders.advance_issuance(uow, order.order_id, issued, issued + len(batch))
        for ticket in batch:
            ctx.tickets.add(uow, ticket)
        try:
            uow.commit()
        except TransactionCancelled:
            return  # another delivery of this notice is issuing them
        issued += len(batch)
        order.tickets_issued = issued


def _finish_issuing(ctx: Context, order: Order) -> None:
    """A redelivered notice of a paid order whose issuing was cut short finishes it: the
    missing tickets are the tail of the same deterministic sequence."""
    if order.tickets_issued >= order.tickets_total:
        return
    tickets = _signed(ctx, issue_for(order, ctx.clock()))
    if order.pickup_code:
        for ticket in tickets:
            if ticket.kind is CodeKind.PICKUP:
                ticket.code = order.pickup_code
                ticket.qr = ctx.qr.sign(ticket)
    _issue_rest(ctx, order, tickets, order.tickets_issued)


def _refund_due(ctx: Context, notice: PaymentNotice, order: Order | None) -> str:
    reason = ("unknown_order" if order is None
              else "amount_mismatch" if order.status is OrderStatus.PENDING_PAYMENT
              else f"order_{order.status.value.lower()}")
    uow = ctx.unit_of_work()
    ctx.payment_ledger.record(uow, notice.transaction_id, notice.out_trade_no, notice.amount, "refund_due",
                              notice.notification_id, ctx.clock())
    refund_id = ctx.payment_ledger.refund_due(uow, notice.out_trade_no, notice.transaction_id, notice.amount,
                                              reason, ctx.clock())
    try:
        uow.commit()
    except TransactionCancelled as cancelled:
        if "payment" in cancelled.failed:
            return "duplicate"
        raise
    log.warning("payment %s for order %s refunded automatically: %s", notice.transaction_id,
                notice.out_trade_no, reason)
    enqueue_refund(ctx, refund_id)
    ctx.metrics.count("PaymentsRefundedAutomatically", reason=reason)
    return "refund_due"


def simulate_payment(ctx: Context, order_id: str, amount: int | None, transaction_id: str | None = None,
                     notification_id: str | None = None) -> int:
    """Local sandbox: WeChat's notification for a successful payment of the order, signed and
    encrypted as WeChat does, delivered to the same handler as a real one. Giving the same
    transaction and notification id again is what WeChat's redelivery looks like."""
    from ..adapters.payment_sandbox import SandboxGateway
    gateway = ctx.payments
    if not isinstance(gateway, SandboxGateway):
        raise NotFound("no such route", code="NOT_FOUND")
    found = ctx.orders.get(order_id) if identifiers.ORDER_ID.match(order_id) else None
    if found is None and amount is None:
        raise NotFound("no such order", code="ORDER_NOT_FOUND", order_id=order_id)
    total = amount if amount is not None else found[0].total  # type: ignore[index]
    notice = gateway.payment_notice(order_id, total, None, transaction_id=transaction_id,
                                    notification_id=notification_id)
    status, _ = receive_notification(ctx, notice.headers, notice.body)
    return status
