"""The every-minute schedule (EventBridge): expire unpaid orders, apply scheduled listing
changes, and re-send approved refunds whose queue message went missing."""
from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Callable, Protocol

from ..domain.model import OrderStatus, ProductStatus
from . import ports
from .orders import end_unpaid
from .publishing import announce_stock_change
from .refunds import Refunding
from .writes import commit

log = logging.getLogger("micromall.schedule")
EXPIRY_BATCH = 100
REFUND_SWEEP_AFTER = timedelta(minutes=2)


class Scheduling(Refunding, Protocol):
    """The schedule touches orders, refunds and the catalog."""


def run(ctx: Scheduling) -> dict[str, int]:
    """Each job on its own: one failing does not stop the others."""
    jobs: tuple[tuple[str, Callable[[Scheduling], int]], ...] = (
        ("expired", expire_unpaid_orders), ("listing_changes", apply_listing_schedule),
        ("refunds_resent", resend_stuck_refunds))
    done: dict[str, int] = {}
    for name, job in jobs:
        try:
            done[name] = job(ctx)
        except Exception:
            log.exception("scheduled job %s failed", name)
            done[name] = -1
    return done


def expire_unpaid_orders(ctx: Scheduling) -> int:
    now = ctx.clock()
    return sum(1 for order_id in ctx.orders.pending_expired(now, EXPIRY_BATCH) if expire_order(ctx, order_id))


def expire_order(ctx: Scheduling, order_id: str) -> bool:
    """One conditional transaction: PENDING_PAYMENT -> EXPIRED with the stock and purchase-limit
    units back. A payment that wins the race leaves the order PAID; one that loses is refunded
    by the notify handler. Then the order is closed at the gateway."""
    found = ctx.orders.get(order_id)
    if found is None or found[0].status is not OrderStatus.PENDING_PAYMENT:
        return False
    order, counted = found
    uow = ctx.unit_of_work()
    end_unpaid(ctx, uow, order, counted, OrderStatus.EXPIRED, "system")
    if not commit(uow, {"order": None}):
        return False
    ctx.metrics.count("OrdersExpired")
    try:
        ctx.payments.close(order.order_id)
    except ports.PaymentGatewayError:
        log.warning("could not close order %s at the gateway; its time_expire stops payment", order.order_id)
    announce_stock_change(ctx, [line.sku_id for line in order.lines])
    return True


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
            if commit(uow, {"product": None}):      # edited meanwhile: the next tick sees the new version
                changed += 1
        cursor = page.next
        if not cursor:
            return changed


def resend_stuck_refunds(ctx: Scheduling) -> int:
    stuck = ctx.refunds.approved_before(ctx.clock() - REFUND_SWEEP_AFTER)
    for refund in stuck:
        ctx.messages.refund_approved(refund.refund_id)
    return len(stuck)
