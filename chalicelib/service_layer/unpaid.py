"""How an unpaid order ends, whoever ends it: its customer (cancelled), the schedule (expired),
or a payment of the wrong amount (cancelled, the money refunded)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..domain.model import Order, OrderStatus
from ..domain import identifiers
from ..domain.error_codes import ErrorCode
from ..domain.errors import NotFound
from ..domain.ordering import UnpaidLimits, unpaid_units
from . import ports


class EndingUnpaid(Protocol):
    @property
    def orders(self) -> ports.OrderStore: ...
    @property
    def stock(self) -> ports.StockStore: ...
    @property
    def counters(self) -> ports.PurchaseCounterStore: ...
    @property
    def unpaid(self) -> ports.UnpaidHoldStore: ...
    @property
    def clock(self) -> ports.Clock: ...
    @property
    def user_coupons(self) -> ports.UserCouponStore: ...


@dataclass(frozen=True)
class UnpaidHolds:
    user_id: str
    orders: int
    units: dict[str, int]
    limits: UnpaidLimits


def customer_holds(ctx: EndingUnpaid, user_id: str) -> UnpaidHolds:
    """What a customer holds unpaid now, against the limits (staff looking into a complaint of
    UNPAID_LIMIT, or into a customer suspected of holding stock)."""
    if not identifiers.USER_ID.match(user_id):
        raise NotFound("no such customer", code=ErrorCode.CUSTOMER_NOT_FOUND, user_id=user_id[:40])
    orders, units = ctx.unpaid.of(user_id)
    return UnpaidHolds(user_id, orders, units, ctx.unpaid.limits)


def end_unpaid(ctx: EndingUnpaid, uow: ports.Writes, order: Order, counted: set[str], target: OrderStatus,
               by: str, reason: str | None = None) -> None:
    """An unpaid order ends: conditional on it still being pending, its reserved stock,
    purchase-limit units and its part of its customer's unpaid holds come back in the same
    transaction."""
    now = ctx.clock()
    ctx.orders.transition(uow, order, target, now, by, reason=reason)
    for line in order.lines:
        ctx.stock.release(uow, line.sku_id, line.shares, order.order_id, f"order_{target.value.lower()}", now)
    for product_id, quantity in order.quantities_by_product().items():
        if product_id in counted:
            ctx.counters.give_back(uow, order.user_id, product_id, quantity)
    if order.holds_unpaid:
        ctx.unpaid.release(uow, order.user_id, unpaid_units(order))
    if order.coupon_id:
        ctx.user_coupons.release(uow, order.coupon_id, order.order_id)
