"""How an unpaid order ends, whoever ends it: its customer (cancelled), the schedule (expired),
or a payment of the wrong amount (cancelled, the money refunded)."""
from __future__ import annotations

from typing import Protocol

from ..domain.model import Order, OrderStatus
from . import ports


class EndingUnpaid(Protocol):
    @property
    def orders(self) -> ports.OrderStore: ...
    @property
    def stock(self) -> ports.StockStore: ...
    @property
    def counters(self) -> ports.PurchaseCounterStore: ...
    @property
    def clock(self) -> ports.Clock: ...


def end_unpaid(ctx: EndingUnpaid, uow: ports.Writes, order: Order, counted: set[str], target: OrderStatus,
               by: str, reason: str | None = None) -> None:
    """An unpaid order ends: conditional on it still being pending, its reserved stock and
    purchase-limit units come back in the same transaction."""
    now = ctx.clock()
    ctx.orders.transition(uow, order, target, now, by, reason=reason)
    for line in order.lines:
        ctx.stock.release(uow, line.sku_id, line.shares, order.order_id, f"order_{target.value.lower()}", now)
    for product_id, quantity in order.quantities_by_product().items():
        if product_id in counted:
            ctx.counters.give_back(uow, order.user_id, product_id, quantity)
