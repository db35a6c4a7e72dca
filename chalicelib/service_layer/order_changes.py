"""改单: an unpaid order's lines, visitors or coupon changed by its customer (PATCH /orders/{id}).

The open trade is closed at WeChat first, so that nothing can be paid for the order as it was;
then one transaction replaces the lines, gives back the units and counts the order no longer
needs, takes the new ones, moves the coupon and opens the next payment attempt, all conditional
on the order still pending on the attempt it was read on. A trade WeChat reports paid is
confirmed instead, and the change refused."""
from __future__ import annotations

import dataclasses
import logging

from ..domain.coupons import UserCoupon, UserCouponStatus, coupon_unavailable
from ..domain.error_codes import ErrorCode
from ..domain.errors import Busy, Conflict, DomainError, Saturated
from ..domain.commands import PlaceOrder
from ..domain.model import Order, OrderStatus, Sku
from ..domain.order_changes import (ChangeOrder, as_new_order, changed, check_changeable, check_fits, merged,
                                    stock_changes, unchanged, with_fulfilment, without_own_holdings)
from ..domain.ordering import (check_unpaid_units, purchase_limit_exceeded, sold_out, unpaid_limit_exceeded,
                               unpaid_units)
from ..domain.stock_shards import Shares, plan_beside
from . import ports
from .context import Actor
from .order_pricing import priced, product_ids_of, wants_spend
from .orders import CONFLICT_ATTEMPTS, Ordering, PlacedOrder, own_order
from .payments import confirm_trade, payment_parameters, settle_free_order
from .publishing import announce_hot_stock, announce_stock_change
from .reservations import stock_refused
from .retrying import attempts
from .tags import ItemTag, Tag
from .writes import commit

log = logging.getLogger("micromall.order_changes")


@dataclasses.dataclass
class _Priced:
    """The changed order as priced from one read, and what its transaction needs of that read."""
    after: Order
    coupon: UserCoupon | None
    limits: dict[str, int]
    skus: dict[str, Sku]


def change_order(ctx: Ordering, actor: Actor, order_id: str, change: ChangeOrder) -> PlacedOrder:
    """The changed order and the next attempt's wx.requestPayment parameters. Everything is
    checked before WeChat is asked to close the trade; a change refused after that (the last
    units taken meanwhile) leaves the order as it was, on a fresh attempt of its own."""
    order, counted = own_order(ctx, actor, order_id)
    check_changeable(order, ctx.clock())
    command = as_new_order(order, change)
    if unchanged(order, command):
        return PlacedOrder(order, payment_parameters(ctx, actor, order))
    first = _reprice(ctx, order, counted, command)
    check_fits(order, first.after, counted, set(first.limits))
    close_open_trade(ctx, order)
    try:
        after = _commit(ctx, order, counted, command, first)
    except Exception:
        _reopen(ctx, order)      # whatever stopped it, the closed trade can never be paid
        raise
    ctx.metrics.count("OrdersChanged")
    if after.total == 0:
        return PlacedOrder(settle_free_order(ctx, after), None)
    return PlacedOrder(after, payment_parameters(ctx, actor, after))


def close_open_trade(ctx: Ordering, order: Order) -> None:
    """Nothing may be paid for the order as it was. WeChat answering that the customer has just
    paid it: that payment is confirmed (its notice would do the same) and the change refused."""
    try:
        ctx.wechat_pay.close(order.trade_no)
    except ports.TradeAlreadyPaid:
        try:
            trade = ctx.wechat_pay.query(order.trade_no)
            if trade is not None and trade.paid:
                confirm_trade(ctx, trade)
        except (ports.PaymentGatewayError, DomainError):
            log.warning("the payment of %s is confirmed when its notice comes", order.trade_no)
        raise Conflict("the order has just been paid and can no longer be changed", code=ErrorCode.INVALID_STATE,
                       status=OrderStatus.PAID.value) from None
    except ports.PaymentGatewayError:
        _closed_anyway(ctx, order)
        raise Conflict("the payment service is unavailable; the order is unchanged, try again shortly",
                       code=ErrorCode.PAYMENT_UNAVAILABLE) from None


def _closed_anyway(ctx: Ordering, order: Order) -> None:
    """The close's answer was lost or refused: WeChat is asked what became of the trade. Closed
    after all, the unchanged order moves on to a new attempt (a closed trade can never be paid);
    paid, it is confirmed."""
    try:
        trade = ctx.wechat_pay.query(order.trade_no)
    except ports.PaymentGatewayError:
        return                    # still unknown: the expiry asks again before it ends the order
    if trade is not None and trade.paid:
        try:
            confirm_trade(ctx, trade)
        except DomainError:
            log.warning("the payment of %s is confirmed when its notice comes", order.trade_no)
    elif trade is not None and trade.state == "CLOSED":
        _reopen(ctx, order)


def _reopen(ctx: Ordering, order: Order) -> None:
    """The change failed after its trade was closed: the unchanged order moves on to a new
    attempt, since a closed trade can never be paid. Not written if the order moved on anyway."""
    uow = ctx.unit_of_work()
    ctx.orders.open_attempt(uow, order)
    try:
        commit(uow, {Tag.ORDER: None})
    except DomainError:
        log.warning("order %s keeps its closed attempt; it expires unpaid", order.order_id)


def _held_by(coupon: UserCoupon | None, order: Order) -> UserCoupon | None:
    """The order's own coupon is LOCKED by it: priced as the customer's to use again."""
    if coupon is not None and coupon.status is UserCouponStatus.LOCKED and coupon.order_id == order.order_id:
        return dataclasses.replace(coupon, status=UserCouponStatus.AVAILABLE, order_id=None)
    return coupon


def _reprice(ctx: Ordering, order: Order, counted: set[str], command: PlaceOrder) -> _Priced:
    """The new lines priced and checked as a new order's, against the stock and counts as they
    would be without this order's own (given back in the same transaction)."""
    product_ids = product_ids_of(command)
    snapshot = ctx.placement.snapshot([l.sku_id for l in command.lines], product_ids, order.user_id, None,
                                      command.coupon_id, wants_spend(ctx))
    skus, purchased = without_own_holdings(order, counted, snapshot.skus, snapshot.purchased)
    own = dataclasses.replace(snapshot, skus=skus, purchased=purchased,
                              user_coupon=_held_by(snapshot.user_coupon, order))
    command = with_fulfilment(order, command, snapshot.products)
    built, coupon = priced(ctx, command, order.user_id, own, ctx.clock())
    after = changed(order, built)
    check_unpaid_units(after, ctx.unpaid.limits)
    limits = {p: snapshot.products[p].purchase_limit or 0 for p in product_ids
              if snapshot.products[p].purchase_limit is not None}
    return _Priced(after, snapshot.user_coupon if coupon is not None else None, limits, snapshot.skus)


def _commit(ctx: Ordering, order: Order, counted: set[str], command: PlaceOrder, first: _Priced) -> Order:
    current = first
    planned = _beside_held(ctx, order, current)
    for _ in attempts(CONFLICT_ATTEMPTS):
        uow = ctx.order_writes()
        after = _writes(ctx, uow, order, counted, current, planned)

        def order_moved(_: str) -> Conflict:
            return Conflict("the order changed meanwhile (paid, cancelled, expired or changed)",
                            code=ErrorCode.INVALID_STATE)
        try:
            written = commit(uow, {Tag.ORDER: order_moved,
                                   ItemTag.SKU: lambda sku_id: stock_refused(ctx, sku_id), ItemTag.SHARD: None,
                                   ItemTag.LIMIT: lambda p: purchase_limit_exceeded(p, current.limits.get(p)),
                                   Tag.UNPAID: lambda _: unpaid_limit_exceeded(ctx.unpaid.limits),
                                   ItemTag.USER_COUPON: coupon_unavailable})
        except Saturated as saturated:
            announce_hot_stock(ctx, sorted(set(ItemTag.SKU.ids_in(saturated.hot))))
            raise
        except Busy:
            current = _reprice(ctx, order, counted, command)
            planned = _beside_held(ctx, order, current)
            continue
        if not written:                   # a shard was short: its buckets read again
            planned = _beside_held(ctx, order, current)
            continue
        announce_stock_change(ctx, sorted({l.sku_id for l in order.lines} | {l.sku_id for l in after.lines}))
        return after
    raise Busy("the shop is busy; please try again", retry_after_seconds=1)


def _beside_held(ctx: Ordering, order: Order, current: _Priced) -> dict[str, Shares]:
    """Where more units of a sharded line come from: a bucket the line holds already, or one
    more while it holds fewer than MAX_PLAN_BUCKETS, so that however often it changes a line
    never spreads over more buckets than its payment's transaction counts on."""
    wanted = {c.sku_id: c for c in stock_changes(order, current.after) if c.take and current.skus[c.sku_id].sharded}
    planned: dict[str, Shares] = {}
    for sku in ctx.stock.skus(sorted(wanted)).values() if wanted else ():
        change = wanted[sku.sku_id]
        shares = plan_beside(change.kept, change.take, sku.free_by_bucket or {})
        if shares is None:
            if sku.available < change.take:
                raise sold_out(sku.sku_id, sku.available)
            raise Conflict("these units cannot be added beside those the order holds; place a new order for them",
                           code=ErrorCode.INVALID_CHANGE, sku_id=sku.sku_id)
        planned[sku.sku_id] = shares
    return planned


def _writes(ctx: Ordering, uow: ports.Writes, order: Order, counted: set[str], current: _Priced,
            planned: dict[str, Shares]) -> Order:
    """The change's one transaction: per SKU one stock write (units back or taken), per product
    one purchase-limit count, the unpaid holds' units, the coupon, the order."""
    now = ctx.clock()
    after = current.after
    shares: dict[str, Shares] = {}
    for change in stock_changes(order, after):
        taken: Shares = {}
        if change.take:
            taken = ctx.stock.reserve(uow, current.skus[change.sku_id], change.take, order.order_id, now,
                                      planned.get(change.sku_id))
        if change.give_back:
            ctx.stock.release(uow, change.sku_id, change.give_back, order.order_id, "order_changed", now)
        shares[change.sku_id] = merged(change.kept, taken, change.take)
    after = dataclasses.replace(after, lines=[dataclasses.replace(l, stock_shares=shares[l.sku_id])
                                              for l in after.lines])
    had = {p: q for p, q in order.quantities_by_product().items() if p in counted}
    has = {p: q for p, q in after.quantities_by_product().items() if p in current.limits}
    for product_id in sorted(set(had) | set(has)):
        delta = has.get(product_id, 0) - had.get(product_id, 0)
        if delta > 0:
            ctx.counters.hold(uow, order.user_id, product_id, delta, current.limits[product_id])
        elif delta < 0:
            ctx.counters.give_back(uow, order.user_id, product_id, -delta)
    if order.holds_unpaid:
        before_units, after_units = unpaid_units(order), unpaid_units(after)
        deltas = {s: after_units.get(s, 0) - before_units.get(s, 0) for s in set(before_units) | set(after_units)}
        deltas = {s: d for s, d in deltas.items() if d}
        if deltas:
            ctx.unpaid.adjust(uow, order.user_id, deltas)
    if order.coupon_id != after.coupon_id:
        if order.coupon_id:
            ctx.user_coupons.release(uow, order.coupon_id, order.order_id)
        if current.coupon is not None:
            ctx.user_coupons.lock(uow, current.coupon, order.order_id, now)
    ctx.orders.change(uow, order, after, set(current.limits), now)
    return after
