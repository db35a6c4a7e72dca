"""The venue cancels a session (场次取消): sales stop at once, then, step by step, every order that
holds it is settled: unpaid ones cancelled (their trade closed at WeChat first), paid ones' unused
tickets of it refunded in full through the refund lifecycle everyone else uses, and each order's
customer noticed once.

Why steps: a session may hold 20,000 tickets in thousands of orders; no request and no transaction
can hold that. `cancel_session` writes what must be atomic (the SKU and its shards flagged, the
progress record, the audit record: one transaction) and queues the first step; `run_step` reads one
page of the session's stock ledgers (a Query: every order reserved its units there, with its id),
settles the orders on it, each with its own conditional transactions, then moves the cursor
(conditional on the version it read) and queues the next step. A worker dying half way leaves the
cursor where it was: the redelivered message repeats that step, and every effect in it is
conditional (an order still pending, a ticket still VALID, a notice not yet recorded), so nothing
happens twice."""
from __future__ import annotations

import logging
from typing import Protocol

from ..domain import identifiers
from ..domain.errors import Busy, DomainError, NotFound
from ..domain.error_codes import ErrorCode
from ..domain.model import Order, OrderStatus
from ..domain.notifications import Event
from ..domain.refund_summary import contact_of, items_taken_back
from ..domain.refunds import REFUNDABLE_ORDER_STATES, SOURCE_SESSION_CANCELLED, Refund, RefundStatus, plan_refund
from ..domain.session_cancellation import (DEFERRED_DELAY_SECONDS, MOVEMENTS_PER_STEP, ORDER_CANCEL_REASON, Affected,
                                           CancellationStatus, RefundOutcomes, SessionCancellation, StepReport,
                                           check_cancellable, not_cancelled, tickets_to_refund)
from ..domain.tickets import TicketStatus
from . import ports
from .context import Actor
from .payments import confirm_trade, finish_issuing
from .publishing import announce_message, announce_stock_change
from .refunding import Refunding
from .refunds import approve_for_the_venue
from .retrying import attempts
from .tags import ItemTag, Tag
from .unpaid import end_unpaid
from .writes import attempted, commit

log = logging.getLogger("micromall.session_cancellation")
START_ATTEMPTS = 4
ORDER_ATTEMPTS = 3
SYSTEM = "system"


class CancellingSessions(Refunding, Protocol):
    @property
    def session_cancellations(self) -> ports.SessionCancellationStore: ...


# ------------------------------------------------------------------ the staff call

def cancel_session(ctx: CancellingSessions, actor: Actor, sku_id: str, reason: str) -> SessionCancellation:
    """Sales stop in one transaction: the SKU (and each shard of a hot one, as read) flagged
    cancelled, which every reservation's condition refuses, with the progress record and the
    audit record. Asked again, it answers the cancellation there is and changes nothing (only
    wakes its worker, in case its message was lost)."""
    existing = ctx.session_cancellations.get(sku_id) if identifiers.product_id_of(sku_id) else None
    if existing is not None:
        _wake(ctx, existing)
        return existing
    for _ in attempts(START_ATTEMPTS):
        sku = ctx.stock.skus([sku_id]).get(sku_id) if identifiers.product_id_of(sku_id) else None
        if sku is None:
            raise NotFound(f"SKU {sku_id[:60]} does not exist", code=ErrorCode.SKU_NOT_FOUND, sku_id=sku_id[:60])
        now = ctx.clock()
        if sku.cancelled:           # cancelled between our two reads
            found = ctx.session_cancellations.get(sku_id)
            if found is not None:
                return found
            continue
        check_cancellable(ctx.catalog.product(sku.product_id), sku, now)
        cancellation = SessionCancellation(
            sku_id=sku_id, product_id=sku.product_id, reason=reason, cancelled_at=now, cancelled_by=actor.name,
            buckets=sku.stock_shards + 1, tickets=sku.reserved + sku.sold)
        uow = ctx.unit_of_work()
        ctx.stock.cancel_sale(uow, sku, reason, ItemTag.SKU.of(sku_id))
        ctx.session_cancellations.start(uow, cancellation)
        ctx.audit.record(actor.name, "session_cancelled", now, target=sku_id, source_ip=actor.source_ip,
                         details={"reason": reason, "tickets": cancellation.tickets}, uow=uow)
        # Refused: cancelled meanwhile (answered above on the next round), or split meanwhile.
        if attempted(uow, {ItemTag.SKU: None, Tag.CANCELLATION: None}):
            ctx.metrics.count("SessionsCancelled")
            announce_stock_change(ctx, [sku_id])
            _wake(ctx, cancellation)
            return cancellation
    raise Busy("the session's stock kept changing while it was cancelled; try again", retry_after_seconds=1)


def _wake(ctx: CancellingSessions, cancellation: SessionCancellation) -> None:
    """Queues a step. Lost: asking to cancel again sends it again (a step run twice saves once)."""
    if cancellation.status is CancellationStatus.RUNNING:
        try:
            ctx.messages.session_cancellation_step(cancellation.sku_id)
        except Exception:
            log.exception("could not queue the cancellation of session %s; asking again queues it", cancellation.sku_id)


def cancellation_of(ctx: CancellingSessions, sku_id: str) -> tuple[SessionCancellation, RefundOutcomes]:
    """The progress, with the refunds counted as they are now: read from the cancellation's own
    refunds (a Query of its links, then batched reads of the refunds), so a refund that succeeds or
    fails later shows here at once, whoever settled it."""
    cancellation = ctx.session_cancellations.get(sku_id) if identifiers.product_id_of(sku_id) else None
    if cancellation is None:
        raise not_cancelled(sku_id[:60])
    refunds = ctx.refunds.for_reconciliation(ctx.session_cancellations.refund_ids(sku_id)).values()
    by_status = [r.status for r in refunds]
    return cancellation, RefundOutcomes(
        requested=len(by_status), succeeded=by_status.count(RefundStatus.SUCCEEDED.value),
        failed=by_status.count(RefundStatus.FAILED.value),
        in_flight=sum(1 for s in by_status if s in (RefundStatus.APPROVED.value, RefundStatus.PROCESSING.value)),
        refunded_amount=sum(r.amount for r in refunds if r.status == RefundStatus.SUCCEEDED.value))


# ------------------------------------------------------------------ the worker

def run_step(ctx: CancellingSessions, sku_id: str) -> StepReport:
    """One bounded step: one page of a ledger (or, once every ledger is read, the orders that had
    to wait), each order settled, then the cursor saved from the version read and the next step
    queued. A step whose save loses (another delivery of the same step saved first) stops its
    chain there; raising anywhere leaves the cursor as it was, for the redelivery."""
    report = StepReport()
    c = ctx.session_cancellations.get(sku_id)
    if c is None or c.status is CancellationStatus.DONE:
        report.done = c is not None
        return report
    if not c.ledgers_read:
        rows, after = ctx.stock.reservations_page(sku_id, c.bucket, c.after, MOVEMENTS_PER_STEP)
        for order_id in dict.fromkeys(order_id for _, order_id in rows):
            _settle_or_defer(ctx, c, order_id, report)
        bucket, done = (c.bucket, False) if after else (c.bucket + 1, False)
        delay = 0
    else:
        # The orders put aside, a page at a time after the last one asked about, round again from
        # the first: none waits behind others that keep waiting. Done once a round finds none.
        waiting = ctx.session_cancellations.deferred(sku_id, MOVEMENTS_PER_STEP, c.after)
        for order_id in waiting:
            if _settle_or_defer(ctx, c, order_id, report, again=True):
                ctx.session_cancellations.undefer(sku_id, order_id)
        bucket = c.bucket
        after = waiting[-1] if len(waiting) == MOVEMENTS_PER_STEP else None
        done = not waiting and c.after is None
        # Orders still waiting (for staff's review, say) are asked about again a minute later.
        delay = DEFERRED_DELAY_SECONDS if waiting and len(report.deferred) == len(waiting) else 0
    report.saved = ctx.session_cancellations.advance(c, bucket, after, done, ctx.clock())
    report.done = done and report.saved
    if report.saved and not done:
        # Not swallowed: a lost message would stop the work, so the step fails and comes back.
        ctx.messages.session_cancellation_step(sku_id, delay)
    if report.done:
        ctx.metrics.count("SessionCancellationsDone")
    return report


def _settle_or_defer(ctx: CancellingSessions, c: SessionCancellation, order_id: str, report: StepReport,
                     again: bool = False) -> bool:
    """True when the order holds nothing of the session any more; else it is put aside (or left
    aside) and asked about again once the ledgers are read."""
    report.orders_seen += 1
    try:
        if _settle(ctx, c, order_id, report):
            return True
    except DomainError as refused:
        # Changed meanwhile (a ticket used, a refund in flight), or refused by a rule: it waits and
        # is asked about again with the others put aside, never holding up the rest.
        log.info("order %s of cancelled session %s waits: %s", order_id, c.sku_id, refused)
    report.deferred.append(order_id)
    if not again:
        ctx.session_cancellations.defer(c.sku_id, order_id)
    return False


def _settle(ctx: CancellingSessions, c: SessionCancellation, order_id: str, report: StepReport) -> bool:
    for _ in attempts(ORDER_ATTEMPTS):
        found = ctx.orders.get(order_id)
        if found is None:
            return True
        order, counted = found
        if order.status is OrderStatus.PENDING_PAYMENT:
            if not any(line.sku_id == c.sku_id for line in order.lines):
                return True                         # changed to other sessions before it was paid
            if _cancel_unpaid(ctx, c, order, counted):
                report.cancelled += 1
                _notice(ctx, c, order, Affected.CANCELLED, 0)
                return True
            # Paid (confirmed just now) or changed meanwhile: asked again once the ledgers are read,
            # when the index of its tickets has them all.
            return False
        if order.status in REFUNDABLE_ORDER_STATES or order.status is OrderStatus.REFUNDED:
            # A paid order is judged by its tickets, not its lines: a ticket rescheduled (改签)
            # into the session is the order's, though its lines name the session it was bought for.
            if order.tickets_issued < order.tickets_total:
                finish_issuing(ctx, order)          # its last tickets must exist to be refunded
                return False                        # asked again when the index has them
            # REFUNDED: its refunds may be ours, settled before a redelivered step recorded the notice.
            return _refund_paid(ctx, c, order, report)
        if order.status is OrderStatus.CANCELLED and order.cancel_reason == ORDER_CANCEL_REASON:
            _notice(ctx, c, order, Affected.CANCELLED, 0)   # ours; its notice may not be recorded yet
        return True                                 # ended otherwise: holds nothing
    return False


def _cancel_unpaid(ctx: CancellingSessions, c: SessionCancellation, order: Order, counted: set[str]) -> bool:
    """As the customer's own cancel: the trade is closed at WeChat first, so that it cannot be paid
    behind the cancellation; a trade WeChat reports paid is confirmed (and the order then refunded
    as a paid one). Unreachable, the trade expires at WeChat by itself and money still arriving for
    a cancelled order is refunded automatically."""
    try:
        ctx.wechat_pay.close(order.trade_no)
    except ports.TradeAlreadyPaid:
        try:
            trade = ctx.wechat_pay.query(order.trade_no)
        except ports.PaymentGatewayError:
            raise Busy("WeChat Pay says the order was paid but cannot be asked how; later") from None
        if trade is not None and trade.paid:
            confirm_trade(ctx, trade)
        return False
    except ports.PaymentGatewayError:
        log.warning("could not close the trade of order %s of cancelled session %s", order.order_id, c.sku_id)
    uow = ctx.unit_of_work()
    end_unpaid(ctx, uow, order, counted, OrderStatus.CANCELLED, SYSTEM, ORDER_CANCEL_REASON)
    if not commit(uow, {Tag.ORDER: None}):
        return False
    ctx.metrics.count("OrdersCancelled")
    announce_stock_change(ctx, [line.sku_id for line in order.lines])
    return True


def _refund_paid(ctx: CancellingSessions, c: SessionCancellation, order: Order, report: StepReport) -> bool:
    """Every unused ticket of the session refunded in full (its `paid`), approved with no review,
    in refunds of at most MAX_TICKETS_PER_REFUND; each refund's link to the cancellation is written
    in its approving transaction. Tickets another refund waits for review on are left to it: the
    order is asked about again until staff decide (rejected: refunded here then)."""
    for _ in range(1000):           # bounded by the order's tickets: each round revokes some
        tickets = ctx.tickets.of_order(order.order_id)
        earlier = ctx.refunds.of_order(order.order_id)
        under_review = {code for r in earlier if r.status is RefundStatus.REQUESTED for code in r.ticket_codes}
        bought = sum(line.quantity for line in order.lines if line.sku_id == c.sku_id)
        if sum(1 for t in tickets if t.sku_id == c.sku_id) < bought:
            return False            # the index of its tickets lags behind their issue: asked again
        chunks, waiting = tickets_to_refund(tickets, c.sku_id, under_review)
        if not chunks:
            if waiting:
                return False
            mine = {r.refund_id for r in earlier if r.source == SOURCE_SESSION_CANCELLED}
            refunded = sum(1 for t in tickets if t.sku_id == c.sku_id and t.status is TicketStatus.REVOKED
                           and t.revoked_by in mine)
            if refunded:
                _notice(ctx, c, order, Affected.REFUNDED, refunded)
            return True
        chunk = chunks[0]
        # As of the moment the venue cancelled: the session may have begun since; no review.
        plan = plan_refund(order, tickets, [t.ticket_id for t in chunk], True, c.cancelled_at)
        refund = Refund(refund_id=identifiers.new_reference("R"), order_id=order.order_id, amount=plan.amount,
                        total=order.total, status=RefundStatus.APPROVED, reason=c.reason,
                        source=SOURCE_SESSION_CANCELLED, created_at=ctx.clock(), user_id=order.user_id,
                        transaction_id=order.transaction_id, out_trade_no=order.trade_no, ticket_codes=plan.codes,
                        stock_lines=plan.stock_lines(), decided_by=c.cancelled_by,
                        items=items_taken_back(order, plan.tickets, plan.merch_lines), contact=contact_of(order))
        approve_for_the_venue(ctx, refund, order, c.cancelled_by,
                              lambda uow: ctx.session_cancellations.link_refund(uow, c.sku_id, refund.refund_id))
        report.refunds += 1
        found = ctx.orders.get(order.order_id)
        if found is None:
            return True
        order = found[0]
    raise Busy("too many rounds refunding one order")


def _notice(ctx: CancellingSessions, c: SessionCancellation, order: Order, kind: Affected, tickets: int) -> None:
    """The customer is told once per order: the `session_cancelled` event is recorded (conditional
    on its absence), with the counts it adds to, and only then its message queued."""
    if ctx.session_cancellations.record_affected(c.sku_id, order.order_id, order.user_id, kind, tickets, ctx.clock()):
        ctx.metrics.count("SessionCancelledNotices")
        announce_message(ctx, order.order_id, Event.SESSION_CANCELLED, c.sku_id)
