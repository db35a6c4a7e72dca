"""Refunds on WeChat's word. The refunds worker sends an approved refund (its out_refund_no
stable, so a redelivery never refunds twice); WeChat answers PROCESSING and later confirms by a
REFUND.* notice, or, when that notice is lost, by the query the schedule makes. SUCCESS settles
the refund (stock back once, order settled); CLOSED or the last failed attempt fail it: a
critical alert names it and the order is released for a retry or a new request. ABNORMAL (the
customer's card closed) holds the money at WeChat until staff settle it by hand: the refund
stays in flight, its order claimed, and is asked about until WeChat decides."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from ..domain import identifiers
from ..domain.after_sales import AfterSaleStatus, after_sale_of_refund
from ..domain.error_codes import ErrorCode
from ..domain.errors import Busy, Conflict
from ..domain.model import Kind, Order, OrderStatus
from ..domain.refunds import (HELD_BY_WECHAT, SOURCE_AFTER_SALE, Refund, RefundStatus, outcome_of, query_delay,
                              settled_status)
from ..domain.stock_shards import take_from
from . import ports
from .publishing import announce_refund_result, announce_stock_change, send_alert
from .refund_returns import all_back, coupon_back, goods_still_its_own, limits_back, units_returned
from .refunding import Refunding
from .retrying import attempts
from .tags import ItemTag, Tag
from .writes import commit

SETTLE_ATTEMPTS = 4


class SettlementOutcome(StrEnum):
    """What applying WeChat's word to a refund (or sending it) came to."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    HELD = "held"                    # held by this call: ABNORMAL, the money waits at WeChat
    STILL_HELD = "still_held"
    PROCESSING = "processing"        # WeChat has not decided yet
    CONFLICT = "conflict"            # paid back after its order moved on: recorded and raised, not settled
    SKIPPED = "skipped"              # already moved on (another delivery, notice, answer or query)


NO_MONEY = "NO_MONEY"                # the gateway status of a refund of 0 fen, settled without WeChat


def process_refund(ctx: Refunding, refund_id: str, attempt: int) -> SettlementOutcome:
    """The refunds worker. A gateway failure raises (the message comes back with backoff); on
    the last attempt WeChat is asked whether the refund reached it before it is called FAILED."""
    refund = ctx.refunds.get(refund_id)
    if refund is None or refund.status not in (RefundStatus.APPROVED, RefundStatus.PROCESSING):
        return SettlementOutcome.SKIPPED
    if refund.held_by_wechat:
        return SettlementOutcome.HELD   # WeChat holds its money: asked about, never sent again
    if refund.status is RefundStatus.APPROVED:
        now = ctx.clock()
        uow = ctx.unit_of_work()
        ctx.refunds.move(uow, refund, RefundStatus.PROCESSING, now, queries=0, gateway_status=None,
                         next_query_at=now + ctx.refund_query_after)
        if not commit(uow, {Tag.REFUND: None}):
            return SettlementOutcome.SKIPPED   # another delivery of this message moved it on
        refund.status = RefundStatus.PROCESSING
    if refund.amount == 0:
        # Units promotions paid in full: no money to send back, and WeChat takes no refund of 0
        # fen (nor any of a free order, which it never saw). They come back as a refund does.
        return succeed(ctx, refund, NO_MONEY)
    try:
        answer = ctx.wechat_pay.refund(refund.out_refund_no, refund.out_trade_no, refund.amount, refund.total,
                                     refund.reason)
    except ports.PaymentGatewayError as error:
        if attempt < ctx.refund_max_attempts:
            raise
        try:
            known = ctx.wechat_pay.query_refund(refund.out_refund_no)
        except ports.PaymentGatewayError:
            known = None
        if known is not None:
            ctx.refunds.accepted(refund, known.accepted_at or ctx.clock())
            return apply_outcome(ctx, refund, known.status)
        fail(ctx, refund, f"not accepted by WeChat Pay after {attempt} attempts: {error}")
        raise
    # The day of WeChat's bill this attempt belongs to, for reconciliation.
    ctx.refunds.accepted(refund, answer.accepted_at or ctx.clock())
    return apply_outcome(ctx, refund, answer.status)


def apply_outcome(ctx: Refunding, refund: Refund, gateway_status: str) -> SettlementOutcome:
    """What WeChat said of a refund, applied once whoever said it first (answer, notice, query)."""
    outcome = outcome_of(gateway_status)
    if gateway_status == HELD_BY_WECHAT:
        return hold(ctx, refund)
    if outcome is RefundStatus.SUCCEEDED:
        return succeed(ctx, refund, gateway_status)
    if outcome is RefundStatus.FAILED:
        return fail(ctx, refund, f"WeChat Pay reported {gateway_status}", gateway_status)
    return SettlementOutcome.PROCESSING


def _finish(order: Order, refunded_after: int, in_flight_after: int, all_back: bool = False,
            some_back: bool = False) -> OrderStatus | None:
    """The status the order settles in once no refund of it is in flight: REFUNDED, PARTIALLY_
    REFUNDED, or, when nothing came back, the status it had before; None while others are in flight."""
    if in_flight_after:
        return None
    target = settled_status(order.total, refunded_after, order.before_refund or order.status, all_back, some_back)
    return None if target is order.status else target


def succeed(ctx: Refunding, refund: Refund, gateway_status: str) -> SettlementOutcome:
    """The money reached the customer: SUCCEEDED, stock back, purchase limits given back and the
    order settled, in ONE transaction conditional on the refund's state and the order as read,
    so they happen exactly once. A refund released as FAILED and confirmed late is claimed on
    its order again in the same step. A lost race is read again and decided again: WeChat says
    this once, and what it says is never dropped. A failed refund whose codes a newer refund
    took over is recorded as WeChat says, and raised as money paid twice."""
    for _ in attempts(SETTLE_ATTEMPTS):
        if refund.status not in (RefundStatus.PROCESSING, RefundStatus.FAILED):
            return SettlementOutcome.SKIPPED   # settled by a concurrent notice, answer or query
        late = refund.status is RefundStatus.FAILED
        if late and refund.superseded_by:
            return _paid_back_after_moving_on(ctx, refund, gateway_status)
        now = ctx.clock()
        uow = ctx.unit_of_work()
        ctx.refunds.move(uow, refund, RefundStatus.SUCCEEDED, now, gateway_status=gateway_status,
                         next_query_at=None)
        if refund.returns_goods_and_stock:
            order, counted = _order_of(ctx, refund)
            refunded_after = order.refunded_total + refund.amount
            finish = _finish(order, refunded_after, order.refunds_in_flight - (0 if late else 1),
                             all_back(ctx, order, refunded_after), some_back=True)
            if late:
                # Its codes are still its own: a newer refund taking them over would have marked
                # it superseded, which the refund's move is conditional on.
                goods_still_its_own(ctx, uow, refund, order)
                ctx.orders.settle_released_refund(uow, order, refund.refund_id, refund.amount, refund.claims_goods,
                                                  refund.goods_returned, finish, now)
            else:
                ctx.orders.settle_refund(uow, order, refund.amount, finish, now)
            if finish is OrderStatus.REFUNDED and order.coupon_id:
                coupon_back(ctx, uow, order, now)
            lines = {line.sku_id: line for line in order.lines}
            returned = units_returned(ctx, refund, order)
            for sku_id, quantity in refund.stock_lines:
                back = (take_from(lines[sku_id].shares, quantity, returned.get(sku_id, 0)) if sku_id in lines
                        else {0: quantity})
                ctx.stock.give_back_sold(uow, sku_id, back, refund.refund_id, now)
            by_product: dict[str, int] = {}
            for sku_id, quantity in limits_back(refund):
                product_id = identifiers.product_id_of(sku_id) or ""
                by_product[product_id] = by_product.get(product_id, 0) + quantity
            for product_id, quantity in by_product.items():   # one write per counter in a transaction
                if product_id in counted and refund.user_id:
                    ctx.counters.give_back(uow, refund.user_id, product_id, quantity)
        if refund.source == SOURCE_AFTER_SALE:
            _complete_after_sale(ctx, uow, refund, now)
        try:
            written = commit(uow, {Tag.REFUND: None, Tag.ORDER: None, Tag.AFTER_SALE: None})
        except ports.WriteRefused:
            if not late:
                raise
            written = False               # a code of it belongs to a newer refund now
        if written:
            ctx.metrics.count("Refunds", result=SettlementOutcome.SUCCEEDED)
            announce_refund_result(ctx, refund.refund_id, refund.order_id, RefundStatus.SUCCEEDED.value)
            if refund.returns_goods_and_stock:
                announce_stock_change(ctx, [sku for sku, _ in refund.stock_lines])
            return SettlementOutcome.SUCCEEDED
        current = ctx.refunds.get(refund.refund_id)
        if current is None:
            return SettlementOutcome.SKIPPED
        if late and current.status is RefundStatus.FAILED and _moved_on(ctx, current):
            return _paid_back_after_moving_on(ctx, current, gateway_status)
        refund = current                  # read again and decide again
    raise Busy("the refund's order kept changing; it is settled on the next notice or query")


def _complete_after_sale(ctx: Refunding, uow: ports.Writes, refund: Refund, now: datetime) -> None:
    """A return's refund reached the customer: its after-sale COMPLETES in the same transaction,
    conditional on its being RECEIVED as read (once, whoever settles the refund)."""
    after_sale = ctx.after_sales.get(after_sale_of_refund(refund.refund_id))
    if after_sale is not None and after_sale.status is AfterSaleStatus.RECEIVED:
        ctx.after_sales.move(uow, after_sale, after_sale.moved(AfterSaleStatus.COMPLETED, now, "wechat_pay"))


def _order_of(ctx: Refunding, refund: Refund) -> tuple[Order, set[str]]:
    found = ctx.orders.get(refund.order_id)
    if found is None:
        raise Conflict(f"order {refund.order_id} of refund {refund.refund_id} is gone", code=ErrorCode.INVALID_STATE)
    return found


def _moved_on(ctx: Refunding, refund: Refund) -> bool:
    """A failed refund's order cannot take it back: its codes went to a newer refund, its goods
    were shipped, or its amount was refunded otherwise."""
    if refund.superseded_by:
        return True
    codes = {t.code: t for t in ctx.tickets.of_order(refund.order_id)}
    if any(codes.get(c) is None or codes[c].revoked_by != refund.refund_id for c in refund.ticket_codes):
        return True
    order, _ = _order_of(ctx, refund)
    return (refund.claims_goods and not refund.goods_returned and order.shipment is not None) or \
        order.refunded_total + refund.amount > order.total or \
        (refund.claims_goods and any(ctx.after_sales.line_units(order.order_id, line.sku_id).taken
                                     for line in order.lines if line.kind is Kind.MERCH))


def _paid_back_after_moving_on(ctx: Refunding, refund: Refund, gateway_status: str) -> SettlementOutcome:
    """WeChat paid back a refund whose order had moved on: the money record follows WeChat
    (SUCCEEDED, marked unsettled: it returned no stock, and later refunds of its lines do not
    count its units as back), the order and stock are left as they are, and finance is told,
    once, to recover the goods or the money by hand."""
    uow = ctx.unit_of_work()
    ctx.refunds.paid_unsettled(uow, refund, ctx.clock(), gateway_status,
                               "confirmed by WeChat Pay after its order moved on: not settled")
    if not commit(uow, {Tag.REFUND: None}):
        return SettlementOutcome.SKIPPED
    send_alert(ctx, "refund_twice", f"refund {refund.refund_id} of order {refund.order_id} was confirmed by WeChat "
               "Pay after it had failed and its order moved on: the customer may have been paid back twice",
               severity="critical", refund_id=refund.refund_id, order_id=refund.order_id, amount=refund.amount)
    return SettlementOutcome.CONFLICT


def hold(ctx: Refunding, refund: Refund) -> SettlementOutcome:
    """WeChat found the refund ABNORMAL: the money left the merchant but could not reach the
    customer's card, and waits at WeChat until staff settle it by hand (merchant platform,
    交易中心). The refund is held in flight (PROCESSING, its order claimed: its goods cannot
    ship or be refunded again meanwhile), marked and asked about until WeChat reports SUCCESS or
    CLOSED, and finance is told once. One that had failed here (WeChat unreachable, its order
    released) claims its order again in the same step; when the order has moved on meanwhile
    (shipped, or refunded otherwise), it stays failed and held, and finance is told that this
    money must go back to the merchant, not to the customer. "held" when this call held it."""
    for _ in attempts(SETTLE_ATTEMPTS):
        if refund.held_by_wechat and refund.status is RefundStatus.PROCESSING:
            return SettlementOutcome.STILL_HELD
        if refund.superseded_by:
            send_alert(ctx, "refund_twice", f"refund {refund.refund_id} of order {refund.order_id}, whose tickets or "
                       f"goods were refunded again by {refund.superseded_by}, is held by WeChat Pay (ABNORMAL): "
                       "settle it back to the merchant, not to the customer", severity="critical",
                       refund_id=refund.refund_id, order_id=refund.order_id, amount=refund.amount)
            return SettlementOutcome.SKIPPED
        if refund.status not in (RefundStatus.PROCESSING, RefundStatus.FAILED):
            return SettlementOutcome.SKIPPED
        now = ctx.clock()
        fields = dict(gateway_status=HELD_BY_WECHAT, queries=0, next_query_at=now + query_delay(1, ctx.refund_query_after),
                      last_error="WeChat Pay reported ABNORMAL: the money waits at WeChat")
        uow = ctx.unit_of_work()
        reclaim = refund.status is RefundStatus.FAILED and refund.returns_goods_and_stock
        ctx.refunds.move(uow, refund, RefundStatus.PROCESSING, now, **fields)
        if reclaim:
            order, _ = _order_of(ctx, refund)
            ctx.orders.claim_refund(uow, order, refund.refund_id, refund.amount, refund.claims_goods,
                                    refund.goods_returned, now, "wechatpay")
            goods_still_its_own(ctx, uow, refund, order)
        written, moved_on = commit(uow, {Tag.REFUND: None, Tag.ORDER: None, ItemTag.UNITS: None}), False
        if not written and reclaim:
            current = ctx.refunds.get(refund.refund_id)
            if current is not None and current.held_by_wechat:
                return SettlementOutcome.STILL_HELD
            if current is not None and current.status is RefundStatus.FAILED and not current.superseded_by \
                    and _moved_on(ctx, current):
                uow = ctx.unit_of_work()      # its order moved on: held as it is, failed
                ctx.refunds.move(uow, current, RefundStatus.FAILED, now, **fields)
                written, moved_on = commit(uow, {Tag.REFUND: None}), True
        if written:
            if moved_on:
                send_alert(ctx, "refund_abnormal", f"refund {refund.refund_id} of order {refund.order_id} failed here "
                           "and is now held by WeChat Pay (ABNORMAL), but its order moved on meanwhile (shipped or "
                           "refunded otherwise): settle it back to the merchant in the merchant platform (交易中心, "
                           "异常退款), not to the customer", severity="critical", refund_id=refund.refund_id,
                           order_id=refund.order_id, amount=refund.amount, out_refund_no=refund.out_refund_no)
            else:
                send_alert(ctx, "refund_abnormal", f"refund {refund.refund_id} of order {refund.order_id} could not "
                           "reach the customer's card (ABNORMAL): WeChat Pay holds the money. Settle it in the "
                           "merchant platform (交易中心, 异常退款); it completes here when WeChat reports it. Do not "
                           "refund it again", severity="critical", refund_id=refund.refund_id,
                           order_id=refund.order_id, amount=refund.amount, out_refund_no=refund.out_refund_no)
            return SettlementOutcome.HELD
        current = ctx.refunds.get(refund.refund_id)
        if current is None:
            return SettlementOutcome.SKIPPED
        refund = current                  # read again and decide again
    raise Busy("the refund kept changing; it is held on the next notice or query")


def fail(ctx: Refunding, refund: Refund, why: str, gateway_status: str | None = None) -> SettlementOutcome:
    """The refund did not happen: FAILED, a critical alert naming it, and in the same
    transaction the order released (its amount and goods free again, its status back to what it
    was) so that a retry or a new request can still complete it. The codes it took back stay
    revoked until one of them does. Only the number WeChat spoke of is failed: a refund sent
    again under a new number meanwhile is not. A held refund that had failed here before
    WeChat found it ABNORMAL, and is now CLOSED, is only no longer held (its order was released
    when it failed)."""
    number = refund.out_refund_no
    for _ in attempts(SETTLE_ATTEMPTS):
        released = refund.status is RefundStatus.FAILED and refund.held_by_wechat and not refund.superseded_by
        if (refund.status not in (RefundStatus.APPROVED, RefundStatus.PROCESSING) and not released) \
                or refund.out_refund_no != number or (refund.held_by_wechat and gateway_status != "CLOSED"):
            return SettlementOutcome.SKIPPED   # a held refund ends only when WeChat closes it
        now = ctx.clock()
        uow = ctx.unit_of_work()
        ctx.refunds.move(uow, refund, RefundStatus.FAILED, now, last_error=why[:300], gateway_status=gateway_status,
                         next_query_at=None)
        if refund.returns_goods_and_stock and not released:
            order, _ = _order_of(ctx, refund)
            ctx.orders.release_refund(uow, order, refund.refund_id, refund.amount, refund.claims_goods,
                                      _finish(order, order.refunded_total, order.refunds_in_flight - 1), now,
                                      receipt_due=now + ctx.auto_receipt_after)
        if commit(uow, {Tag.REFUND: None, Tag.ORDER: None}):
            ctx.metrics.count("Refunds", result=SettlementOutcome.FAILED)
            if released:
                return SettlementOutcome.FAILED   # its order was released, and raised, when it first failed
            announce_refund_result(ctx, refund.refund_id, refund.order_id, RefundStatus.FAILED.value)
            send_alert(ctx, "refund_failed", f"refund {refund.refund_id} of order {refund.order_id} failed: "
                       f"{why[:120]}", severity="critical", refund_id=refund.refund_id, order_id=refund.order_id,
                       amount=refund.amount, out_refund_no=refund.out_refund_no)
            return SettlementOutcome.FAILED
        current = ctx.refunds.get(refund.refund_id)
        if current is None:
            return SettlementOutcome.SKIPPED
        refund = current                  # read again and decide again
    raise Busy("the refund's order kept changing; it fails on the next attempt")
