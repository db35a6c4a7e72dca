"""What a settled refund gives back besides the money: its units to the stock buckets they were
sold from, and, once nothing the order paid for is left to use, the order's coupon."""
from __future__ import annotations

from datetime import datetime

from ..domain.after_sales import all_goods_returned
from ..domain.coupons import UserCouponStatus
from ..domain.model import Kind, Order
from ..domain.refunds import SOURCE_AFTER_SALE, Refund, everything_back
from . import ports
from .refunding import Refunding


def all_back(ctx: Refunding, order: Order, refunded_after: int) -> bool:
    """Whether nothing the order paid for is left to use (read only when its money is all back)."""
    return refunded_after >= order.total and everything_back(
        order, ctx.tickets.of_order(order.order_id),
        goods_returned=all_goods_returned(order, {
            line.sku_id: ctx.after_sales.line_units(order.order_id, line.sku_id).refunded
            for line in order.lines if line.kind is Kind.MERCH}))


def coupon_back(ctx: Refunding, uow: ports.Writes, order: Order, now: datetime) -> None:
    """A fully refunded order gives its coupon back, in the settlement's own transaction, when
    the coupon may be returned and is still valid; otherwise it stays USED."""
    coupon = ctx.user_coupons.get(order.coupon_id or "")
    if coupon is not None and coupon.status is UserCouponStatus.USED and coupon.order_id == order.order_id \
            and coupon.returns_on_refund(now):
        ctx.user_coupons.give_back(uow, coupon.user_coupon_id, order.order_id)


def units_returned(ctx: Refunding, refund: Refund, order: Order) -> dict[str, int]:
    """Units the order's other refunds already gave back, by SKU, so that this one goes back to
    the buckets they left. Read from an index, which may lag a refund settled a moment ago: a
    shard's own `sold` may then be off by those units; the SKU's total is exact either way."""
    if not any(line.stock_shares for line in order.lines):
        return {}
    returned: dict[str, int] = {}
    for other in ctx.refunds.of_order(refund.order_id):
        if other.refund_id != refund.refund_id and other.returned_stock:
            for sku_id, quantity in other.stock_lines:
                returned[sku_id] = returned.get(sku_id, 0) + quantity
    return returned


def goods_still_its_own(ctx: Refunding, uow: ports.Writes, refund: Refund, order: Order) -> None:
    """A failed refund of goods taken up again (retried, or confirmed late) checks in its own
    write that no return took its goods meanwhile: they came back, and are refunded, there."""
    if refund.claims_goods:
        for line in order.lines:
            if line.kind is Kind.MERCH:
                ctx.after_sales.none_taken(uow, order.order_id, line.sku_id)


def limits_back(refund: Refund) -> list[tuple[str, int]]:
    """The units whose purchase limits a settled refund gives back: those it returns to stock, or
    a return's (back in stock since its receipt), as a refund of the same goods would."""
    return refund.stock_lines + ([(item.sku_id, item.quantity) for item in refund.items or []]
                                 if refund.source == SOURCE_AFTER_SALE else [])
