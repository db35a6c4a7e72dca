"""The refund queue as staff read it: what each refund takes back and for whom. A refund keeps
that summary from when it was made; one made before is summarised from its order, the orders of a
whole page in one batched read."""
from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from ..domain.refund_summary import contact_of, items_from_order
from ..domain.refunds import Refund
from . import ports


class ReadingOrders(Protocol):
    @property
    def orders(self) -> ports.OrderStore: ...


def summarised(ctx: ReadingOrders, refunds: list[Refund]) -> list[Refund]:
    """The refunds, each with its items and contact: read from the orders (one batched read) only
    for refunds made before the summary was kept. One whose order is gone keeps none."""
    missing = sorted({r.order_id for r in refunds if r.items is None})
    if not missing:
        return refunds
    orders = ctx.orders.many(missing)
    shown = []
    for refund in refunds:
        order = orders.get(refund.order_id) if refund.items is None else None
        shown.append(replace(refund, items=items_from_order(order, refund.stock_lines, refund.amount),
                             contact=contact_of(order)) if order is not None else refund)
    return shown
