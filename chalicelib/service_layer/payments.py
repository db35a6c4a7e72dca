"""Payment: prepaying an order, and the WeChat Pay notification that makes it PAID and issues
its tickets, in one conditional transaction."""
from __future__ import annotations

import copy
import logging
from enum import StrEnum
from typing import Mapping, Protocol

from ..domain import identifiers
from ..domain.error_codes import ErrorCode
from ..domain.errors import Busy, Conflict, NotAuthenticated, Unavailable
from ..domain.model import CANCELLED_PAYMENT_MISMATCH, Order, OrderStatus
from ..domain.notifications import Event
from ..domain.ordering import unpaid_units
from ..domain.payments import PaymentNotice, TradeState
from ..domain.refund_summary import contact_of
from ..domain.refunds import Refund, RefundStatus
from ..domain.tickets import CodeKind, Ticket, issue_for
from ..domain.transactions import MAX_ITEMS
from . import ports
from .context import Actor
from .publishing import Publishing, announce_message, announce_stock_change, enqueue_refund, send_alert
from .retrying import attempts
from .tags import Tag
from .unpaid import end_unpaid
from .writes import commit

log = logging.getLogger("micromall.payments")
CONFIRM_ATTEMPTS = 4
# The transaction that marks an order paid holds the order, the payment record, one stock update
# per line (reserved -> sold) and as many tickets as fit; later batches hold the order and tickets.
NEXT_BATCH = MAX_ITEMS - 1


class PaymentOutcome(StrEnum):
    """What a verified payment came to; the payment record keeps it (paid or refund_due)."""
    PAID = "paid"
    DUPLICATE = "duplicate"          # an earlier delivery of the same transaction had the effect
    REFUND_DUE = "refund_due"        # the money goes back: no such order, no longer pending, wrong amount


class Prepaying(Publishing, Protocol):
    @property
    def wechat_pay(self) -> ports.PaymentGateway: ...


class Paying(Prepaying, Protocol):
    """What confirming a payment touches."""
    @property
    def orders(self) -> ports.OrderStore: ...
    @property
    def stock(self) -> ports.StockStore: ...
    @property
    def tickets(self) -> ports.TicketStore: ...
    @property
    def payment_ledger(self) -> ports.PaymentRecords: ...
    @property
    def refunds(self) -> ports.RefundStore: ...
    @property
    def counters(self) -> ports.PurchaseCounterStore: ...
    @property
    def unpaid(self) -> ports.UnpaidHoldStore: ...
    @property
    def qr(self) -> ports.QrSigner: ...
    @property
    def user_coupons(self) -> ports.UserCouponStore: ...
    def unit_of_work(self) -> ports.Writes: ...


def first_batch_size(order: Order) -> int:
    return (MAX_ITEMS - 2 - (1 if order.holds_unpaid else 0) - (1 if order.coupon_id else 0)
            - sum(len(line.shares) for line in order.lines))


def payment_parameters(ctx: Prepaying, actor: Actor, order: Order) -> dict[str, str] | None:
    """The wx.requestPayment parameters of a pending order (prepaying is idempotent at WeChat for
    the same out_trade_no). None when the gateway is unreachable: the order stands, the client
    asks again through POST /orders/{id}/payment."""
    if order.status is not OrderStatus.PENDING_PAYMENT or not actor.principal.openid or order.total == 0:
        return None                       # a free order waits for its settlement, not for WeChat
    description = ", ".join(sorted({line.product_name for line in order.lines}))
    try:
        return {**ctx.wechat_pay.prepay(order.trade_no, description, order.total, actor.principal.openid,
                                        order.created_at, order.expires_at), "out_trade_no": order.trade_no}
    except ports.PaymentGatewayError:
        log.warning("prepay failed for order %s", order.order_id)
        return None


def pay_again(ctx: Prepaying, actor: Actor, order: Order) -> dict[str, str]:
    if order.status is not OrderStatus.PENDING_PAYMENT:
        raise Conflict(f"the order is {order.status.value}", code=ErrorCode.INVALID_STATE, status=order.status.value)
    params = payment_parameters(ctx, actor, order)
    if params is None:
        raise Conflict("the payment service is unavailable; try again shortly", code=ErrorCode.PAYMENT_UNAVAILABLE)
    return params


def receive_notification(ctx: Paying, headers: Mapping[str, str], body: str) -> None:
    """WeChat's rules: handled (also a notice already handled: WeChat redelivers until it hears
    success), or refused as untrustworthy, saying nothing of why to the sender."""
    now = ctx.clock()
    try:
        notice = ctx.wechat_pay.parse_notification(headers, body, now.timestamp())
    except ports.NotificationRejected as rejected:
        log.warning("payment notification rejected: %s", rejected)
        raise NotAuthenticated("signature verification failed", code=ErrorCode.FAIL) from None
    if not isinstance(notice, PaymentNotice) or notice.event_type != "TRANSACTION.SUCCESS" \
            or notice.trade_state != "SUCCESS":
        return
    confirm_payment(ctx, notice)


def confirm_payment(ctx: Paying, notice: PaymentNotice) -> PaymentOutcome:
    """Applies a verified payment once. Returns what happened: paid, duplicate or refund_due.

    One read of the order, then one transaction: PENDING_PAYMENT -> PAID at exactly the amount
    due, the payment record (unique per transaction id) and every ticket. Money for an order
    that is no longer pending, or of the wrong amount, never makes it PAID: it is refunded.
    But only on proof: a refused write that does not show the order as no longer pending (a
    conflict with another writer, a ticket code taken) is tried again, and if still unproven,
    WeChat is asked to deliver again rather than the money being sent back."""
    paid_attempt = identifiers.attempt_of(notice.out_trade_no)
    for _ in attempts(CONFIRM_ATTEMPTS):
        now = ctx.clock()
        found = ctx.orders.get(paid_attempt[0]) if paid_attempt else None
        order, counted = found if found else (None, set())
        if order is not None and order.transaction_id == notice.transaction_id:
            finish_issuing(ctx, order)
            return PaymentOutcome.DUPLICATE
        if notice.amount == 0 and (order is None or order.status is not OrderStatus.PENDING_PAYMENT):
            return PaymentOutcome.DUPLICATE     # a free order that ended meanwhile: no money to give back
        if order is None or order.status is not OrderStatus.PENDING_PAYMENT or order.trade_no != notice.out_trade_no \
                or order.total != notice.amount:
            return _refund_due(ctx, notice, order, counted)

        tickets = _signed(ctx, issue_for(order, now))
        first = tickets[:first_batch_size(order)]
        pickup = next((t.code for t in tickets if t.kind is CodeKind.PICKUP), None)
        uow = ctx.unit_of_work()
        ctx.orders.mark_paid(uow, order, notice.transaction_id, notice.amount, now, len(tickets), len(first), pickup)
        ctx.payment_ledger.record(uow, notice.transaction_id, notice.out_trade_no, notice.amount, PaymentOutcome.PAID,
                                   notice.notification_id, now, notice.success_time or now)
        for line in order.lines:
            ctx.stock.sell(uow, line.sku_id, line.shares)
        if order.holds_unpaid:
            ctx.unpaid.release(uow, order.user_id, unpaid_units(order))
        if order.coupon_id:
            ctx.user_coupons.use(uow, order.coupon_id, order.order_id)
        for ticket in first:
            ctx.tickets.add(uow, ticket)
        try:
            if not commit(uow, {Tag.PAYMENT: None}):
                return PaymentOutcome.DUPLICATE
        except Busy:
            continue                              # other writers collided: not proof of anything
        except ports.WriteRefused as refused:
            old = refused.old_items.get(Tag.ORDER) if Tag.ORDER in refused.failed else None
            if old is None:
                continue                          # not proof of anything: read and try again
            current = ctx.orders.from_raw(old)
            if current.transaction_id == notice.transaction_id:
                return PaymentOutcome.DUPLICATE   # a concurrent delivery of the same notice won
            if notice.amount == 0:
                return PaymentOutcome.DUPLICATE   # a free order ended meanwhile: nothing to give back
            return _refund_due(ctx, notice, current, set())  # an expiry or cancellation won: nothing held
        _issue_rest(ctx, order, tickets, len(first))
        ctx.metrics.count("OrdersPaid")
        ctx.metrics.count("GMV", notice.amount, unit="None")
        issued = sum(1 for t in tickets if t.kind is CodeKind.TICKET)
        if issued:
            ctx.metrics.count("TicketsIssued", issued)
            announce_message(ctx, order.order_id, Event.TICKET_ISSUED)     # the customer's message, queued
        if pickup:
            announce_message(ctx, order.order_id, Event.PICKUP_READY)
        return PaymentOutcome.PAID
    log.warning("payment %s of order %s not confirmed yet; WeChat will deliver it again", notice.transaction_id,
                notice.out_trade_no)
    raise Unavailable("the payment could not be recorded yet; deliver it again", code=ErrorCode.FAIL)


FREE_PREFIX = "FREE-"


def settle_free_order(ctx: Paying, order: Order) -> Order:
    """An order whose promotions took its whole price off is PAID at once, with no WeChat trade:
    confirmed as a payment of 0 would be (tickets, pickup code, stock sold, coupon used), under a
    transaction id of its own that no WeChat bill holds. If that fails, the order stands unpaid
    and the expiry job settles it the same way (schedule.expire_order)."""
    now = ctx.clock()
    try:
        confirm_payment(ctx, PaymentNotice(
            notification_id=f"free:{order.order_id}", nonce="", event_type="TRANSACTION.SUCCESS",
            out_trade_no=order.trade_no, transaction_id=FREE_PREFIX + order.order_id, trade_state="SUCCESS",
            amount=0, payer_openid=None, success_time=now))
    except (Unavailable, Busy):
        log.warning("free order %s not settled yet", order.order_id)
    found = ctx.orders.get(order.order_id)
    return found[0] if found else order


def confirm_trade(ctx: Paying, trade: TradeState) -> PaymentOutcome:
    """A payment WeChat reports when asked (its notice lost or late): applied exactly as its
    notice would be, keyed by the same transaction id, so a notice arriving later is a duplicate."""
    assert trade.transaction_id and trade.amount is not None
    return confirm_payment(ctx, PaymentNotice(
        notification_id=f"query:{trade.transaction_id}", nonce="", event_type="TRANSACTION.SUCCESS",
        out_trade_no=trade.out_trade_no, transaction_id=trade.transaction_id, trade_state="SUCCESS",
        amount=trade.amount, payer_openid=None, success_time=trade.success_time, payer_total=trade.payer_total))


def _signed(ctx: Paying, tickets: list[Ticket]) -> list[Ticket]:
    for ticket in tickets:
        ticket.qr = ctx.qr.sign(ticket)
    return tickets


def _issue_rest(ctx: Paying, order: Order, tickets: list[Ticket], issued: int) -> None:
    """Orders with more tickets than one transaction holds: further transactions, each moving
    the order's issued count on from where the last one left it."""
    while issued < len(tickets):
        batch = tickets[issued:issued + NEXT_BATCH]
        uow = ctx.unit_of_work()
        ctx.orders.advance_issuance(uow, order.order_id, issued, issued + len(batch),
                                    last=issued + len(batch) >= len(tickets))
        for ticket in batch:
            ctx.tickets.add(uow, ticket)
        try:
            commit(uow)
        except ports.WriteRefused:
            return  # another delivery of this notice is issuing them
        issued += len(batch)
        order.tickets_issued = issued


def finish_issuing(ctx: Paying, order: Order) -> None:
    """A paid order whose issuing was cut short is finished (by a redelivered notice, or by the
    schedule, which finds it in the pending index until its last ticket is out): the missing
    tickets are the tail of the same deterministic sequence."""
    if order.tickets_issued >= order.tickets_total:
        return
    tickets = _signed(ctx, issue_for(order, ctx.clock()))
    if order.pickup_code:
        for ticket in tickets:
            if ticket.kind is CodeKind.PICKUP:
                ticket.code = order.pickup_code
                ticket.qr = ctx.qr.sign(ticket)
    _issue_rest(ctx, order, tickets, order.tickets_issued)


def _refund_due(ctx: Paying, notice: PaymentNotice, order: Order | None,
                counted: set[str]) -> PaymentOutcome:
    """Money that must go back (late or mismatched payment, or paid on an attempt the order is no
    longer on): approved at once, sent by the refunds worker with the refund's id as its stable
    out_refund_no, from the attempt the money landed on. A pending order whose open attempt was
    paid the wrong amount can no longer be paid (WeChat keeps one payment per trade): it ends in
    the same transaction, CANCELLED with its reason, its stock and purchase-limit units released,
    so that it never waits for a payment that cannot come. Money on an earlier attempt (closed
    by a change) leaves the order waiting on its open one."""
    other_attempt = order is not None and order.status is OrderStatus.PENDING_PAYMENT \
        and order.trade_no != notice.out_trade_no
    reason = ("unknown_order" if order is None
              else "other_attempt" if other_attempt
              else "amount_mismatch" if order.status is OrderStatus.PENDING_PAYMENT
              else f"order_{order.status.value.lower()}")
    now = ctx.clock()
    refund = Refund(refund_id=identifiers.new_reference("R"), order_id=order.order_id if order else notice.out_trade_no,
                    amount=notice.amount, total=notice.amount, status=RefundStatus.APPROVED, reason=reason,
                    source="automatic", created_at=now, transaction_id=notice.transaction_id,
                    out_trade_no=notice.out_trade_no, items=[], contact=contact_of(order))
    closing = order if order is not None and order.status is OrderStatus.PENDING_PAYMENT and not other_attempt \
        else None
    for _ in attempts(CONFIRM_ATTEMPTS):
        uow = ctx.unit_of_work()
        ctx.payment_ledger.record(uow, notice.transaction_id, notice.out_trade_no, notice.amount,
                                   PaymentOutcome.REFUND_DUE, notice.notification_id, now, notice.success_time or now)
        ctx.refunds.add(uow, refund, now)
        if closing is not None:            # a copy: the write records the move on what it is given
            end_unpaid(ctx, uow, copy.deepcopy(closing), counted, OrderStatus.CANCELLED, "wechatpay",
                       CANCELLED_PAYMENT_MISMATCH)
        try:
            commit(uow)
            break
        except Busy:
            continue
        except ports.WriteRefused as refused:
            if Tag.PAYMENT in refused.failed:
                if closing is not None:
                    _close_mismatched(ctx, closing.order_id)
                return PaymentOutcome.DUPLICATE
            if Tag.ORDER not in refused.failed:
                raise
            closing = None                # the order moved on meanwhile: the money still goes back
    else:
        raise Unavailable("the payment could not be recorded yet; deliver it again", code=ErrorCode.FAIL)
    log.warning("payment %s for order %s refunded automatically: %s", notice.transaction_id,
                notice.out_trade_no, reason)
    enqueue_refund(ctx, refund.refund_id)
    ctx.metrics.count("PaymentsRefundedAutomatically", reason=reason)
    if closing is not None:
        announce_stock_change(ctx, [line.sku_id for line in closing.lines])
        send_alert(ctx, "payment_amount_mismatch", f"order {closing.order_id} was paid {notice.amount} fen instead "
                   f"of {closing.total}: the money is refunded and the order cancelled", order_id=closing.order_id,
                   paid=notice.amount, due=closing.total, refund_id=refund.refund_id)
    return PaymentOutcome.REFUND_DUE


def _close_mismatched(ctx: Paying, order_id: str) -> None:
    """A redelivered notice of a wrong amount whose refund is already recorded: its order ends
    if it still waits (as orders paid a wrong amount before they were ended this way do)."""
    found = ctx.orders.get(order_id)
    if found is None or found[0].status is not OrderStatus.PENDING_PAYMENT:
        return
    uow = ctx.unit_of_work()
    end_unpaid(ctx, uow, found[0], found[1], OrderStatus.CANCELLED, "wechatpay", CANCELLED_PAYMENT_MISMATCH)
    if commit(uow, {Tag.ORDER: None}):
        announce_stock_change(ctx, [line.sku_id for line in found[0].lines])
