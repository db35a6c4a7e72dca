"""Where a sharded SKU's units come from when the blind pick of one shard was short, and what a
refused stock write means: the order path's part of domain.stock_shards."""
from __future__ import annotations

from typing import Protocol

from ..domain.errors import Busy, DomainError
from ..domain.model import Order
from ..domain.ordering import sold_out
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
    them (one bucket if any holds them all). SOLD_OUT only when all of them together are short.
    Units scattered over more buckets than a line may touch are first gathered into one."""
    sharded = [line.sku_id for line in order.lines if line.stock_shares]
    quantities = {line.sku_id: line.quantity for line in order.lines}
    planned = {}
    for sku in ctx.stock.skus(sharded).values():
        shares = plan(quantities[sku.sku_id], sku.free_by_bucket or {})
        if shares is None:
            raise sold_out(sku.sku_id, sku.available)
        if len(shares) > MAX_PLAN_BUCKETS:
            gathered = ctx.order_writes()           # an order's: held back from a hot item like it
            ctx.stock.gather(gathered, sku, quantities[sku.sku_id])
            if attempted(gathered, {ItemTag.SKU: None}):
                shares = {0: quantities[sku.sku_id]}
            else:
                continue                  # moved meanwhile: the next attempt tries and reads again
        planned[sku.sku_id] = shares
    return planned


def stock_refused(ctx: Reserving, sku_id: str) -> DomainError:
    """The SKU held fewer units than the line when the order was written: sold out, unless staff
    split it meanwhile (its units moved to shards), when the order is tried again."""
    sku = ctx.stock.skus([sku_id]).get(sku_id)
    if sku is not None and sku.sharded:
        return Busy("the stock was being split; try again")
    return sold_out(sku_id, sku.available if sku else None)
