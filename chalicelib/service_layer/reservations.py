"""Where a sharded SKU's units come from when the blind pick of one shard was short, and what a
refused stock write means: the order path's part of domain.stock_shards."""
from __future__ import annotations

from typing import Callable, Protocol

from ..domain.errors import Busy, DomainError
from ..domain.model import Order
from ..domain.ordering import sold_out
from ..domain.session_cancellation import not_on_sale
from ..domain.stock_shards import MAX_PLAN_BUCKETS, Shares, plan
from . import ports
from .tags import ItemTag
from .writes import attempted


class Reserving(Protocol):
    @property
    def stock(self) -> ports.StockStore: ...
    def unit_of_work(self) -> ports.Writes: ...
    def order_writes(self) -> ports.Writes: ...


def plan_sharded_lines(ctx: Reserving, order: Order) -> dict[str, Shares]:
    """A shard was short: every sharded line's buckets are read, and its units planned across
    them (one bucket if any holds them all). SOLD_OUT only when all of them together are short."""
    return plan_sharded(ctx, {line.sku_id: line.quantity for line in order.lines if line.stock_shares})


def plan_sharded(ctx: Reserving, quantities: dict[str, int],
                 short: Callable[[str, int | None], DomainError] = sold_out) -> dict[str, Shares]:
    """Each sharded stock item's buckets read, and its `quantities` planned across them; `short`
    when all of them together hold fewer. Units scattered over more buckets than a write may
    touch are first gathered into one. (An order's lines, a coupon's claim.)"""
    planned = {}
    for sku in ctx.stock.skus(list(quantities)).values():
        if sku.cancelled:
            raise not_on_sale(sku.sku_id)
        shares = plan(quantities[sku.sku_id], sku.free_by_bucket or {})
        if shares is None:
            raise short(sku.sku_id, sku.available)
        if len(shares) > MAX_PLAN_BUCKETS:
            gathered = ctx.order_writes()           # an order's: held back from a hot item like it
            ctx.stock.gather(gathered, sku, quantities[sku.sku_id])
            if attempted(gathered, {ItemTag.SKU: None}):
                shares = {0: quantities[sku.sku_id]}
            else:
                continue                  # moved meanwhile: the next attempt tries and reads again
        planned[sku.sku_id] = shares
    return planned


def stock_refused(ctx: Reserving, sku_id: str,
                  short: Callable[[str, int | None], DomainError] = sold_out) -> DomainError:
    """The SKU held fewer units than the line when the order was written: sold out, unless staff
    split it meanwhile (its units moved to shards), when the order is tried again."""
    sku = ctx.stock.skus([sku_id]).get(sku_id)
    if sku is not None and sku.cancelled:
        return not_on_sale(sku_id)        # the venue cancelled the session after it was read
    if sku is not None and sku.sharded:
        return Busy("the stock was being split; try again")
    return short(sku_id, sku.available if sku else None)
