"""改单: what a customer may change of an unpaid order, and how the changed order is built.

The model is pretty much pretix's OrderChangeManager cut to what an unpaid order needs: the new
lines are priced and checked as a new order would be (stock, purchase limits, promotions), but
against the catalog *without* what the order itself holds, since its own units and its own
purchase-limit count are given back in the same transaction that takes the new ones. The order
keeps its id, its contact, its fulfilment and address, and its `expires_at`; it moves on to its
next payment attempt, because WeChat refuses a reused out_trade_no with a new amount."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from .commands import PlaceOrder, RequestedLine, parse_coupon_id, parse_lines, parse_visitors
from .error_codes import ErrorCode
from .errors import Conflict, InvalidInput, RuleViolation
from . import identifiers
from .model import Fulfillment, Kind, Order, OrderStatus, Product, Sku, Visitor
from .ordering import unpaid_units
from .stock_shards import Shares, take_from
from .transactions import MAX_ITEMS
from .validation import Fields

# What the body of a change may name; contact, fulfilment and address are named only to be refused.
CHANGEABLE = ("items", "visitors", "coupon_id")
NOT_CHANGEABLE = ("contact", "fulfillment", "address")


@dataclass(frozen=True)
class ChangeOrder:
    """What a change asks for: each field None when it keeps what the order has. `coupon_given`
    tells `"coupon_id": null` (take the coupon off) from no coupon_id at all (keep it)."""
    lines: list[RequestedLine] | None
    visitors: list[Visitor] | None
    coupon_id: str | None
    coupon_given: bool


def parse_change_order(data: object) -> ChangeOrder:
    f = Fields(data)
    fixed = [name for name in NOT_CHANGEABLE if f.data.get(name) is not None]
    if fixed:
        raise RuleViolation(f"{', '.join(fixed)} cannot be changed; cancel the order and place a new one",
                            code=ErrorCode.NOT_CHANGEABLE, fields=fixed)
    if f.data.get("items") is None and f.data.get("visitors") is None and "coupon_id" not in f.data:
        raise InvalidInput("name what to change: items, visitors or coupon_id", field="items")
    lines = parse_lines(f) if f.data.get("items") is not None else None
    visitors = parse_visitors(f) if f.data.get("visitors") is not None else None
    return ChangeOrder(lines, visitors, parse_coupon_id(f), "coupon_id" in f.data)


def check_changeable(order: Order, now: datetime) -> None:
    if order.status is not OrderStatus.PENDING_PAYMENT:
        raise Conflict(f"an order in {order.status.value} cannot be changed", code=ErrorCode.INVALID_STATE,
                       status=order.status.value)
    if now >= order.expires_at:
        raise Conflict("the order's time to pay is over; it can no longer be changed", code=ErrorCode.INVALID_STATE,
                       status=order.status.value)
    if order.changes_left <= 0:
        raise RuleViolation("this order was changed as often as it may be; cancel it and place a new one",
                            code=ErrorCode.CHANGE_LIMIT_REACHED, changes_left=0)


def as_new_order(order: Order, change: ChangeOrder) -> PlaceOrder:
    """The changed order as the body of a new one: what the change names, the rest as it is."""
    lines = change.lines if change.lines is not None else [RequestedLine(l.sku_id, l.quantity) for l in order.lines]
    visitors = change.visitors if change.visitors is not None else [
        dataclasses.replace(v, sku_id="") for v in order.visitors]
    return PlaceOrder(lines=lines, contact_name=order.contact_name, contact_phone=order.contact_phone,
                      visitors=visitors, fulfillment=order.fulfillment, address=order.address,
                      coupon_id=change.coupon_id if change.coupon_given else order.coupon_id)


def with_fulfilment(order: Order, command: PlaceOrder, products: dict[str, Product]) -> PlaceOrder:
    """The changed order's fulfilment is the order's: none once it holds no goods, and goods
    added to an order without any are picked up (goods that can only be shipped need an address,
    which a change cannot add)."""
    merch = [products[p] for p in {identifiers.product_id_of(l.sku_id) for l in command.lines}
             if p in products and products[p].kind is Kind.MERCH]
    if not merch:
        return dataclasses.replace(command, fulfillment=None, address=None)
    if order.fulfillment is None and not all(Fulfillment.PICKUP in p.fulfillment for p in merch):
        raise RuleViolation("goods that can only be shipped need an address, which a change cannot add; "
                            "place a new order for them", code=ErrorCode.NOT_CHANGEABLE, fields=["fulfillment"])
    return command


def unchanged(order: Order, command: PlaceOrder) -> bool:
    """A change that asks for what the order already is (a client sending its PATCH again): it
    spends neither a change nor a trade."""
    return ([(l.sku_id, l.quantity) for l in command.lines] == [(l.sku_id, l.quantity) for l in order.lines]
            and [(v.name, v.id_type, v.id_number) for v in command.visitors]
            == [(v.name, v.id_type, v.id_number) for v in order.visitors]
            and command.coupon_id == order.coupon_id)


def change_items(before: Order, after: Order, counted: set[str], limited: set[str]) -> int:
    """What the change's one transaction writes: per SKU its stock writes (each bucket given back,
    one bucket taken from) with a movement each way, each purchase count that moves, the unpaid
    holds, the coupon(s) and the order."""
    items = 1
    for change in stock_changes(before, after):
        items += len(change.give_back) + (1 if change.give_back else 0) + (2 if change.take else 0)
    had = {p: q for p, q in before.quantities_by_product().items() if p in counted}
    has = {p: q for p, q in after.quantities_by_product().items() if p in limited}
    items += sum(1 for p in set(had) | set(has) if had.get(p, 0) != has.get(p, 0))
    if before.holds_unpaid and unpaid_units(before) != unpaid_units(after):
        items += 1
    if before.coupon_id != after.coupon_id:
        items += (1 if before.coupon_id else 0) + (1 if after.coupon_id else 0)
    return items


def check_fits(before: Order, after: Order, counted: set[str], limited: set[str]) -> None:
    """Checked before the trade is closed: a change too large for one transaction changes nothing."""
    if change_items(before, after, counted, limited) > MAX_ITEMS:
        raise Conflict("too many lines change at once; change fewer, or cancel and place a new order",
                       code=ErrorCode.INVALID_CHANGE)


def without_own_holdings(order: Order, counted: set[str], skus: dict[str, Sku],
                         purchased: dict[str, int]) -> tuple[dict[str, Sku], dict[str, int]]:
    """The catalog and the customer's counts as they would be without this order: its reserved
    units free again and its purchase-limit count given back (both happen in the change's own
    transaction), so that keeping 2 tickets of a session with none left is not SOLD_OUT."""
    held: dict[str, int] = {}
    for line in order.lines:
        held[line.sku_id] = held.get(line.sku_id, 0) + line.quantity
    freed = {sku_id: dataclasses.replace(sku, available=sku.available + held[sku_id])
             if sku_id in held and sku.stock_known else sku for sku_id, sku in skus.items()}
    own = {p: q for p, q in order.quantities_by_product().items() if p in counted}
    return freed, {p: max(0, q - own.get(p, 0)) for p, q in purchased.items()}


def changed(before: Order, built: Order) -> Order:
    """The order after the change: the new lines, visitors and price on the same order, on its
    next payment attempt. A change may not move the fulfilment: goods are picked up or shipped as
    the order said; an order without goods may gain goods to pick up, never goods to ship (that
    needs an address, which a change cannot add); an order may give up its goods."""
    if built.fulfillment is not None and before.fulfillment is not None and built.fulfillment != before.fulfillment:
        raise RuleViolation("the goods' fulfilment cannot be changed", code=ErrorCode.NOT_CHANGEABLE,
                            fields=["fulfillment"])
    if built.fulfillment is not None and before.fulfillment is None and built.address is not None:
        raise RuleViolation("goods to ship need an address, which a change cannot add", code=ErrorCode.NOT_CHANGEABLE,
                            fields=["address"])
    return dataclasses.replace(
        before, lines=built.lines, visitors=built.visitors, promotions=built.promotions, coupon_id=built.coupon_id,
        fulfillment=built.fulfillment, address=built.address if built.fulfillment else None,
        attempt=before.attempt + 1, changes=before.changes + 1, history=list(before.history))


@dataclass(frozen=True)
class StockChange:
    """One SKU's part of a change: the units to give back (from the buckets the order holds them
    in) or to take, and the buckets the order holds after the change (before any new take)."""
    sku_id: str
    give_back: Shares
    take: int
    kept: Shares


def stock_changes(before: Order, after: Order) -> list[StockChange]:
    """Per SKU, the difference between what the order holds and what it will hold: one write per
    stock item, as DynamoDB's transactions allow (never a release and a take of one item)."""
    held = {line.sku_id: line for line in before.lines}
    wanted = {line.sku_id: line.quantity for line in after.lines}
    changes = []
    for sku_id in sorted(set(held) | set(wanted)):
        had = held[sku_id].shares if sku_id in held else {}
        has = sum(had.values())
        want = wanted.get(sku_id, 0)
        back = take_from(had, has - want) if want < has else {}
        kept = {b: u - back.get(b, 0) for b, u in had.items() if u - back.get(b, 0) > 0}
        if back or want > has:
            changes.append(StockChange(sku_id, back, max(0, want - has), kept))
        else:
            changes.append(StockChange(sku_id, {}, 0, kept))
    return changes


def merged(kept: Shares, taken: Shares, take: int) -> Shares:
    """The buckets a line holds after the change; an unsharded SKU's (all bucket 0) stay empty."""
    shares = dict(kept)
    for bucket, units in (taken or ({0: take} if take else {})).items():
        shares[bucket] = shares.get(bucket, 0) + units
    return {} if set(shares) <= {0} else shares
