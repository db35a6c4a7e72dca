"""The every-minute schedule (EventBridge): hand unpaid orders past their expiry to the expiry
workers (each asks WeChat, then expires its order), apply
scheduled listing changes, complete shipped orders nobody confirmed, ask WeChat about refunds
whose notice has not come, re-send approved refunds whose queue message went missing, and
reconcile yesterday with WeChat Pay's bill once it is ready."""
from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from enum import StrEnum
from typing import Callable, Protocol

from ..domain.errors import DomainError
from ..domain.model import Order, OrderStatus, ProductStatus
from . import ports
from .notifications import Notifying, remind_tomorrow
from .orders import complete_received_orders
from .payments import Paying, confirm_trade, finish_issuing, settle_free_order
from .publishing import announce_stock_change
from .reconciling import Reconciling, reconcile_if_due
from .refund_queries import query_processing_refunds
from .refunding import Refunding
from .tags import Tag
from .unpaid import end_unpaid
from .writes import commit

log = logging.getLogger("micromall.schedule")
# Orders handed to the expiry workers per run: every due one (a release's abandoned orders come
# due within minutes of each other), up to what one run may list in a few seconds.
EXPIRY_DISPATCH_LIMIT = 10_000
REFUND_SWEEP_AFTER = timedelta(minutes=2)


class Scheduling(Refunding, Paying, Reconciling, Notifying, Protocol):
    """The schedule touches orders, payments, refunds, the catalog, the reconciliation and the reminders."""


class Job(StrEnum):
    """A run's jobs, each answering how much it did (-1: it failed); the names of the run's
    answer (ScheduleRun of the API)."""
    EXPIRIES_DUE = "expiries_due"
    LISTING_CHANGES = "listing_changes"
    REFUNDS_RESENT = "refunds_resent"
    REFUNDS_QUERIED = "refunds_queried"
    RECEIVED = "received"
    RECONCILED = "reconciled"
    REMINDERS = "reminders"


def run(ctx: Scheduling) -> dict[str, int]:
    """Each job on its own: one failing does not stop the others."""
    jobs: tuple[tuple[Job, Callable[[Scheduling], int]], ...] = (
        (Job.EXPIRIES_DUE, dispatch_due_expiries), (Job.LISTING_CHANGES, apply_listing_schedule),
        (Job.REFUNDS_RESENT, resend_stuck_refunds), (Job.REFUNDS_QUERIED, query_processing_refunds),
        (Job.RECEIVED, complete_received_orders), (Job.RECONCILED, reconcile_if_due),
        (Job.REMINDERS, remind_tomorrow))
    done: dict[str, int] = {}
    for name, job in jobs:
        try:
            done[name] = job(ctx)
        except Exception:
            log.exception("scheduled job %s failed", name)
            done[name] = -1
    return done


def dispatch_due_expiries(ctx: Scheduling) -> int:
    """Every unpaid order past its expiry, from the sparse index (fanned out over its shards),
    handed to the expiry workers: the schedule only finds, so its other jobs never wait behind
    expiry, and the workers expire in parallel, each order once (its own conditional write)."""
    due = ctx.orders.pending_expired(ctx.clock(), EXPIRY_DISPATCH_LIMIT)
    ctx.messages.orders_due(due)
    return len(due)


def expire_order(ctx: Scheduling, order_id: str) -> bool:
    """An unpaid order is never expired blindly. WeChat is asked first: a trade it reports paid
    is confirmed as a payment (its notice was lost or is late); a customer still paying is
    waited for; otherwise the trade is closed, so that nothing can be paid behind the expiry,
    and then one conditional transaction makes the order EXPIRED and gives its stock and
    purchase-limit units back. If WeChat cannot be asked, the order waits for the next tick."""
    found = ctx.orders.get(order_id)
    if found is not None and found[0].status is OrderStatus.PAID and found[0].tickets_issued < found[0].tickets_total:
        finish_issuing(ctx, found[0])     # paid, its tickets cut short: it stays in the index until they are out
        return False
    if found is None or found[0].status is not OrderStatus.PENDING_PAYMENT:
        return False
    order, counted = found
    if order.total == 0:                  # no trade at WeChat: settled as placing it would have
        settle_free_order(ctx, order)
        return False
    if not _closed_unpaid_at_wechat(ctx, order):
        return False
    uow = ctx.unit_of_work()
    end_unpaid(ctx, uow, order, counted, OrderStatus.EXPIRED, "system")
    if not commit(uow, {Tag.ORDER: None}):
        return False
    ctx.metrics.count("OrdersExpired")
    announce_stock_change(ctx, [line.sku_id for line in order.lines])
    return True


def _closed_unpaid_at_wechat(ctx: Scheduling, order: Order) -> bool:
    """True once WeChat holds no money for the order's open attempt and can take none; a payment
    it reports is confirmed instead. (Earlier attempts were closed by the change that ended them.)"""
    order_id = order.trade_no
    try:
        trade = ctx.wechat_pay.query(order_id)
        if trade is not None and trade.state == "USERPAYING":
            return False
        if trade is not None and not trade.paid and trade.state != "CLOSED":
            try:
                ctx.wechat_pay.close(order_id)
            except ports.TradeAlreadyPaid:
                trade = ctx.wechat_pay.query(order_id)      # paid between our question and the close
        if trade is not None and trade.paid:
            confirm_trade(ctx, trade)
            return False
    except ports.PaymentGatewayError:
        log.warning("WeChat Pay could not be asked about order %s; it expires once it can", order_id)
        return False
    return trade is None or not trade.paid


def apply_listing_schedule(ctx: Scheduling) -> int:
    """Makes the stored status follow list_at / delist_at once their time has come."""
    now = ctx.clock()
    changed = 0
    cursor = None
    while True:
        page = ctx.catalog.catalog_page(200, cursor, None, None, None)
        for product in page.items:
            after = None
            if product.delist_at is not None and now >= product.delist_at:
                after = dataclasses.replace(product, status=ProductStatus.UNLISTED, delist_at=None, list_at=None)
            elif product.list_at is not None and now >= product.list_at:
                after = dataclasses.replace(product, status=ProductStatus.LISTED, list_at=None)
            if after is None:
                continue
            uow = ctx.unit_of_work()
            ctx.catalog.update_product(uow, product, after, ("status", "list_at", "delist_at"), now)
            try:
                if commit(uow, {Tag.PRODUCT: None}):  # edited meanwhile: the next tick sees the new version
                    changed += 1
            except DomainError:
                log.warning("listing change of %s not applied this time", product.product_id)
        cursor = page.next
        if not cursor:
            return changed


def resend_stuck_refunds(ctx: Scheduling) -> int:
    stuck = ctx.refunds.approved_before(ctx.clock() - REFUND_SWEEP_AFTER)
    for refund in stuck:
        ctx.messages.refund_approved(refund.refund_id)
    return len(stuck)
