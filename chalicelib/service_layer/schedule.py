"""The every-minute schedule (EventBridge): expire unpaid orders, apply scheduled listing
changes, and re-send approved refunds whose queue message went missing."""
from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from ..adapters.dynamo import TransactionCancelled
from ..adapters.payments import PaymentGatewayError
from ..domain.model import OrderStatus, ProductStatus
from .context import Context
from .orders import end_unpaid
from .publishing import announce_stock_change

log = logging.getLogger("micromall.schedule")
EXPIRY_BATCH = 100
REFUND_SWEEP_AFTER = timedelta(minutes=2)


def run(ctx: Context) -> dict[str, int]:
    """Each job on its own: one failing does not stop the others."""
    done: dict[str, int] = {}
    for name, job in (("expired", expire_unpaid_orders), ("listing_changes", apply_listing_schedule),
                      ("refunds_resent", resend_stuck_refunds)):
        try:
            done[name] = job(ctx)
        except Exception:
            log.exception("scheduled job %s failed", name)
            done[name] = -1
    return done


def expire_unpaid_orders(ctx: Context) -> int:
    now = ctx.clock()
    expired = 0
    for order_id in ctx.orders.pending_expired(now, EXPIRY_BATCH):
        if expire_order(ctx, order_id):
            expired += 1
    return expired


def expire_order(ctx: Context, order_id: str) -> bool:
    """One conditional transaction: PENDING_PAYMENT -> EXPIRED with the stock and purchase-limit
    units back. A payment that wins the race leaves the order PAID; one that loses is refunded
    by the notify handler. Then the order is closed at the gateway."""
    found = ctx.orders.get(order_id)
    if found is None or found[0].status is not OrderStatus.PENDING_PAYMENT:
        return False
    order, counted = found
    uow = ctx.unit_of_work()
    end_unpaid(ctx, uow, order, counted, OrderStatus.EXPIRED, "system")
    try:
        uow.commit()
    except TransactionCancelled as cancelled:
        if "order" in cancelled.failed:
            return False
        raise
    ctx.metrics.count("OrdersExpired")
    try:
        ctx.payments.close(order.order_id)
    except PaymentGatewayError:
        log.warning("could not close order %s at the gateway; its time_expire stops payment", order.order_id)
    announce_stock_change(ctx, [line.sku_id for line in order.lines])
    return True


def apply_listing_schedule(ctx: Context) -> int:
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
                uow.commit()
                changed += 1
            except TransactionCancelled:
                pass           # edited meanwhile; the next tick sees the new version
        cursor = page.next
        if not cursor:
            return changed


def resend_stuck_refunds(ctx: Context) -> int:
    stuck = ctx.refunds.approved_before(ctx.clock() - REFUND_SWEEP_AFTER)
    for refund in stuck:
        ctx.messages.refund_approved(refund.refund_id)
    return len(stuck)
