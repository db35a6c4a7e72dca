"""The goods a customer holds from an order, as after-sales see them: the order's goods lines and
the replacements that completed exchanges (换货) handed over. A replacement can itself be returned
or exchanged within the window of its own handover; its units refund the shares of `paid` of the
order line they came from (units move between specs, money stays with its line), and go back to
the stock buckets the replacement was sold from."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from .after_sales import AfterSale, AfterSaleStatus, AfterSaleType
from .error_codes import ErrorCode
from .errors import Conflict
from .model import Kind, Order, OrderLine
from .stock_shards import Shares


@dataclass(frozen=True)
class HeldGoods:
    line: OrderLine                  # the spec as a line: its sku_id, the units held, its origin's price
    origin: str                      # the order line whose `paid` these units refund (its sku_id)
    received_at: datetime | None = None     # handed over by an exchange then; None: with the order
    stock_shares: Shares = dataclasses.field(default_factory=dict)    # buckets its units were sold from
    mixed: bool = False              # units from two lines of the order: which money is whose is not known

    @property
    def replaced(self) -> bool:
        return self.received_at is not None


def _merged(a: Shares, b: Shares) -> Shares:
    return {bucket: a.get(bucket, 0) + b.get(bucket, 0) for bucket in [*a, *(k for k in b if k not in a)]}


def held_goods(order: Order, after_sales: list[AfterSale]) -> dict[str, HeldGoods]:
    """By spec: the order's goods lines, grown by the replacements completed exchanges handed
    over, in the order they were handed over (an exchanged replacement passes its origin on)."""
    held = {line.sku_id: HeldGoods(line, line.sku_id, None, dict(line.stock_shares))
            for line in order.lines if line.kind is Kind.MERCH}
    done = [a for a in after_sales if a.type is AfterSaleType.EXCHANGE and a.status is AfterSaleStatus.COMPLETED
            and a.exchange_sku_id and a.history]
    for exchange in sorted(done, key=lambda a: a.history[-1].at):
        [(source, units)] = exchange.lines
        came_from, target = held.get(source), exchange.exchange_sku_id or ""
        if came_from is None:
            continue
        before = held.get(target)
        shares = exchange.replacement_shares or {0: units}
        if before is None:
            line = dataclasses.replace(came_from.line, sku_id=target, quantity=units, stock_shares=dict(shares))
            held[target] = HeldGoods(line, came_from.origin, exchange.history[-1].at, dict(shares),
                                     came_from.mixed)
        else:
            line = dataclasses.replace(before.line, quantity=before.line.quantity + units)
            held[target] = HeldGoods(line, before.origin, exchange.history[-1].at,
                                     _merged(before.stock_shares, shares),
                                     before.mixed or came_from.mixed or before.origin != came_from.origin)
    return held


def needs_exchanges(order: Order, wanted: list[tuple[str, int]]) -> bool:
    """Whether the goods asked for go beyond the order's own lines (so the order's exchanges must
    be read): a spec not bought, or more units of one than were bought."""
    bought = {line.sku_id: line.quantity for line in order.lines if line.kind is Kind.MERCH}
    return any(quantity > bought.get(sku_id, 0) for sku_id, quantity in wanted)


def goods_asked(held: dict[str, HeldGoods], wanted: list[tuple[str, int]]) -> list[tuple[HeldGoods, int]]:
    """The goods asked for; never more units than the customer got of a spec (what is already
    taken is held by the counters' condition in the request's own transaction)."""
    chosen = []
    for sku_id, quantity in wanted:
        goods = held.get(sku_id)
        if goods is None:
            raise Conflict("these goods are not in this order", code=ErrorCode.INVALID_STATE, sku_id=sku_id)
        if goods.mixed:
            raise Conflict("these goods came from more than one line of the order; the shop's staff handle them",
                           code=ErrorCode.INVALID_STATE, sku_id=sku_id)
        if quantity > goods.line.quantity:
            raise Conflict("more units than were bought", code=ErrorCode.INVALID_STATE, sku_id=sku_id,
                           bought=goods.line.quantity)
        chosen.append((goods, quantity))
    return chosen
