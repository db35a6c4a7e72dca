"""Placing, reading, cancelling, shipping and completing orders."""
from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from ..domain import identifiers
from ..domain.commands import PlaceOrder
from ..domain.error_codes import ErrorCode
from ..domain.coupons import coupon_unavailable
from ..domain.errors import Busy, Conflict, NotFound, RuleViolation, Saturated
from ..domain.notifications import Event
from ..domain.model import Order, OrderStatus, awaiting_shipment, check_transition
from ..domain.ordering import (check_unpaid_units, purchase_limit_exceeded, unpaid_limit_exceeded,
                               unpaid_units)
from ..domain.stock_shards import Shares, may_cross_threshold
from ..domain.tickets import all_used
from . import ports
from .context import Actor
from .payments import Paying, payment_parameters, settle_free_order
from .order_pricing import Pricing, priced, product_ids_of, wants_spend
from .publishing import Publishing, announce_hot_stock, announce_message, announce_stock_change
from .reservations import plan_sharded_lines, stock_refused
from .tags import ItemTag, Tag
from .unpaid import end_unpaid
from .retrying import attempts
from .writes import commit

log = logging.getLogger("micromall.orders")
STAFF_WHO_SEE_ORDERS = frozenset({"admin", "support", "finance"})
CONFLICT_ATTEMPTS = 4


class Ordering(Paying, Pricing, Publishing, Protocol):
    """What the order use cases touch."""
    @property
    def catalog(self) -> ports.CatalogStore: ...
    @property
    def stock(self) -> ports.StockStore: ...
    @property
    def orders(self) -> ports.OrderStore: ...
    @property
    def counters(self) -> ports.PurchaseCounterStore: ...
    @property
    def unpaid(self) -> ports.UnpaidHoldStore: ...
    @property
    def idempotency(self) -> ports.IdempotencyReplies: ...
    @property
    def placement(self) -> ports.PlacementRead: ...
    @property
    def tickets(self) -> ports.TicketStore: ...
    @property
    def audit(self) -> ports.AuditTrail: ...
    @property
    def cipher(self) -> ports.FieldCipher: ...
    @property
    def payment_timeout(self) -> timedelta: ...
    @property
    def auto_receipt_after(self) -> timedelta: ...
    def unit_of_work(self) -> ports.Writes: ...
    def order_writes(self) -> ports.Writes: ...


@dataclass(frozen=True)
class PlacedOrder:
    """The order as placed, and the wx.requestPayment parameters (None while the gateway is
    unreachable: the client asks again). `replayed` when an Idempotency-Key answered."""
    order: Order
    payment: dict[str, str] | None
    replayed: bool = False


FINGERPRINT_VERSION = "c1:"


def fingerprint(ctx: Ordering, command: PlaceOrder) -> str:
    """What makes two requests under one Idempotency-Key the same: the order they ask for (the
    command, not the body's spelling of it), as a keyed hash, because it holds phone and ID
    numbers and an unkeyed hash of an 11-digit phone number is no secret."""
    canonical = json.dumps(dataclasses.asdict(command), sort_keys=True, ensure_ascii=False, default=str)
    return FINGERPRINT_VERSION + ctx.cipher.blind_index(canonical)


def _replay(ctx: Ordering, actor: Actor, reply: ports.IdempotentReply, expected_fingerprint: str) -> PlacedOrder:
    # A key remembered before fingerprints were of the command (a hash of the body, unversioned)
    # cannot be compared: the same customer's key is trusted for the day it lives.
    if reply.fingerprint != expected_fingerprint and reply.fingerprint.startswith(FINGERPRINT_VERSION):
        raise RuleViolation("this Idempotency-Key was used with a different request",
                            code=ErrorCode.IDEMPOTENCY_KEY_REUSED)
    found = ctx.orders.get(reply.order_id)
    if found is None:
        raise NotFound("no such order", code=ErrorCode.ORDER_NOT_FOUND, order_id=reply.order_id)
    order = found[0]
    if order.total == 0:                  # answered PAID when placed (settled at once): as it is now
        return PlacedOrder(settle_free_order(ctx, order) if order.status is OrderStatus.PENDING_PAYMENT else order,
                           None, replayed=True)
    return PlacedOrder(order.as_placed(), payment_parameters(ctx, actor, order), replayed=True)


def place_order(ctx: Ordering, actor: Actor, command: PlaceOrder, idempotency_key: str | None = None
                ) -> PlacedOrder:
    """Reads once (one BatchGetItem), then reserves every line and writes the order in ONE
    transaction: all lines or none."""
    try:
        placed = _place(ctx, actor, command, idempotency_key, fingerprint(ctx, command) if idempotency_key else "")
    except Conflict as conflict:
        if conflict.code == ErrorCode.SOLD_OUT:
            ctx.metrics.count("SoldOutRejections")
        raise
    if not placed.replayed:
        ctx.metrics.count("OrdersPlaced")
    return placed


def _place(ctx: Ordering, actor: Actor, command: PlaceOrder, idempotency_key: str | None,
           request_fingerprint: str) -> PlacedOrder:
    user_id = actor.name
    product_ids = product_ids_of(command)
    idem_key = f"{user_id}#{idempotency_key}" if idempotency_key else None

    planned: dict[str, Shares] = {}
    shard_tried = False
    for _ in attempts(CONFLICT_ATTEMPTS):
        snapshot = ctx.placement.snapshot([l.sku_id for l in command.lines], product_ids, user_id, idem_key,
                                          command.coupon_id, wants_spend(ctx))
        if snapshot.idempotent_reply is not None:
            return _replay(ctx, actor, snapshot.idempotent_reply, request_fingerprint)
        now = ctx.clock()
        order, coupon = priced(ctx, command, user_id, snapshot, now)
        limits = {p: snapshot.products[p].purchase_limit for p in product_ids
                  if snapshot.products[p].purchase_limit is not None}
        check_unpaid_units(order, ctx.unpaid.limits)
        order.holds_unpaid = True
        uow = ctx.order_writes()
        # First the stock: the order records where each line's units came from.
        order.lines = [dataclasses.replace(line, stock_shares=ctx.stock.reserve(
            uow, snapshot.skus[line.sku_id], line.quantity, order.order_id, now, planned.get(line.sku_id)))
            for line in order.lines]
        ctx.orders.add(uow, order, set(limits))
        for product_id, quantity in order.quantities_by_product().items():
            if product_id in limits:
                ctx.counters.hold(uow, user_id, product_id, quantity, limits[product_id] or 0)
        ctx.unpaid.hold(uow, user_id, unpaid_units(order))
        if coupon is not None:
            ctx.user_coupons.lock(uow, coupon, order.order_id, now)
        if idem_key:
            ctx.idempotency.remember(uow, idem_key, request_fingerprint, order.order_id, now)
        try:
            # The same key placed meanwhile wins over whatever else the refusal says.
            written = commit(uow, {Tag.IDEMPOTENCY: None, ItemTag.SKU: lambda sku_id: stock_refused(ctx, sku_id),
                                   ItemTag.SHARD: None,
                                   ItemTag.LIMIT: lambda product_id: purchase_limit_exceeded(product_id,
                                                                                             limits.get(product_id)),
                                   Tag.UNPAID: lambda _: unpaid_limit_exceeded(ctx.unpaid.limits),
                                   ItemTag.USER_COUPON: coupon_unavailable})
        except Saturated as saturated:
            # A throttled shard of many: another shard is tried. A throttled SKU item: one
            # transaction was enough, the customer is told when to come back, and the alerts
            # worker splits the SKU (and tells staff).
            hot_skus = sorted(set(ItemTag.SKU.ids_in(saturated.hot)))
            if not hot_skus and not shard_tried and all(ItemTag.SHARD.matches(tag) for tag in saturated.hot):
                shard_tried, planned = True, {}         # once, on a shard picked anew
                continue
            announce_hot_stock(ctx, hot_skus)
            ctx.metrics.count("OrdersSaturated")
            raise
        except Busy:
            continue                          # read again: the stock may have moved meanwhile
        if not written:
            reply = ctx.idempotency.get(idem_key) if idem_key else None
            if reply is not None:
                return _replay(ctx, actor, reply, request_fingerprint)
            planned = plan_sharded_lines(ctx, order)
            continue
        # Only lines that may have crossed below their threshold wake the alerts worker.
        announce_stock_change(ctx, [line.sku_id for line in order.lines
                                    if may_cross_threshold(snapshot.skus[line.sku_id], line.quantity)])
        if order.total == 0:
            return PlacedOrder(settle_free_order(ctx, order), None)
        return PlacedOrder(order, payment_parameters(ctx, actor, order))
    raise Busy("the shop is busy; please try again", retry_after_seconds=1)


def visible_order(ctx: Ordering, actor: Actor, order_id: str) -> tuple[Order, set[str]]:
    """404 for an order that does not exist *or is not the caller's*: never reveal another
    customer's order."""
    found = ctx.orders.get(order_id) if identifiers.ORDER_ID.match(order_id) else None
    if found is not None:
        order, counted = found
        principal = actor.principal
        if (principal.is_staff and principal.roles & STAFF_WHO_SEE_ORDERS) or \
                (not principal.is_staff and order.user_id == principal.subject):
            return order, counted
    raise NotFound("no such order", code=ErrorCode.ORDER_NOT_FOUND, order_id=order_id)


def own_order(ctx: Ordering, actor: Actor, order_id: str) -> tuple[Order, set[str]]:
    """The caller's own order (staff who may read it may not act for its customer)."""
    order, counted = visible_order(ctx, actor, order_id)
    if order.user_id != actor.name:
        raise NotFound("no such order", code=ErrorCode.ORDER_NOT_FOUND, order_id=order_id)
    return order, counted


def get_order(ctx: Ordering, actor: Actor, order_id: str) -> Order:
    return visible_order(ctx, actor, order_id)[0]


def my_orders(ctx: Ordering, actor: Actor, limit: int, cursor: str | None) -> ports.Page:
    return ctx.orders.for_customer(actor.name, limit, cursor)


def cancel_order(ctx: Ordering, actor: Actor, order_id: str) -> Order:
    """Only while awaiting payment; the stock and purchase-limit units come back in the same
    transaction that changes the status, conditional on the status still being pending. The
    trade is closed at WeChat first, so that it cannot be paid behind the cancellation."""
    for _ in attempts(CONFLICT_ATTEMPTS):
        order, counted = own_order(ctx, actor, order_id)
        check_transition(order.status, OrderStatus.CANCELLED)
        try:
            ctx.wechat_pay.close(order.trade_no)
        except ports.TradeAlreadyPaid:
            # WeChat's notice (or, if it is lost, the expiry job's query) will make the order PAID.
            raise Conflict("the order has just been paid and can no longer be cancelled",
                           code=ErrorCode.INVALID_STATE) from None
        except ports.PaymentGatewayError:
            # The trade expires at WeChat by itself (time_expire); money that still arrives for a
            # cancelled order is refunded automatically.
            log.warning("could not close the trade of order %s before cancelling it", order_id)
        uow = ctx.unit_of_work()
        end_unpaid(ctx, uow, order, counted, OrderStatus.CANCELLED, actor.name)
        if not commit(uow, {Tag.ORDER: None}):
            continue          # paid, or changed (改单) meanwhile: read again, its new trade closed too
        ctx.metrics.count("OrdersCancelled")
        announce_stock_change(ctx, [line.sku_id for line in order.lines])
        return order
    current = get_order(ctx, actor, order_id)
    raise Conflict(f"the order is {current.status.value} and can no longer be cancelled",
                   code=ErrorCode.INVALID_STATE, status=current.status.value)


def ship_order(ctx: Ordering, actor: Actor, order_id: str, carrier: str, tracking_no: str) -> Order:
    order, _ = visible_order(ctx, actor, order_id)
    if order.fulfillment is None or order.fulfillment.value != "shipping":
        raise Conflict("only orders for delivery by post can be shipped", code=ErrorCode.INVALID_STATE,
                       status=order.status.value)
    if not awaiting_shipment(order.status, order.fulfillment.value, order.shipment is not None,
                             order.merch_refund is not None):
        check_transition(order.status, OrderStatus.SHIPPED)
        raise Conflict("these goods were already shipped, or are being refunded", code=ErrorCode.INVALID_STATE,
                       status=order.status.value)
    now = ctx.clock()
    uow = ctx.unit_of_work()
    shipment = {"carrier": carrier, "tracking_no": tracking_no}
    ctx.orders.transition(uow, order, OrderStatus.SHIPPED, now, actor.name, shipment=shipment,
                          receipt_due=now + ctx.auto_receipt_after)
    ctx.audit.record(actor.name, "order_shipped", now, target=order_id, source_ip=actor.source_ip,
                     details={"carrier": carrier}, uow=uow)
    commit(uow, {Tag.ORDER: lambda _: Conflict("the order changed meanwhile", code=ErrorCode.INVALID_STATE)})
    order.shipment = shipment
    announce_message(ctx, order.order_id, Event.SHIPPED)
    return order


def complete_if_all_used(ctx: Ordering, order_id: str) -> bool:
    """PAID (or partly refunded) -> COMPLETED once every ticket and pickup code is used; kept off
    the gate's path so that a scan stays one request."""
    found = ctx.orders.get(order_id)
    if found is None or found[0].status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        return False
    order = found[0]
    if order.tickets_issued < order.tickets_total or not all_used(ctx.tickets.of_order(order_id)):
        return False
    uow = ctx.unit_of_work()
    ctx.orders.transition(uow, order, OrderStatus.COMPLETED, ctx.clock(), "gate")
    return commit(uow, {Tag.ORDER: None})


def confirm_receipt(ctx: Ordering, actor: Actor, order_id: str) -> Order:
    """确认收货: the customer has the parcel; the order is complete."""
    order, _ = own_order(ctx, actor, order_id)
    check_transition(order.status, OrderStatus.COMPLETED)
    if order.status is not OrderStatus.SHIPPED:
        raise Conflict("only a shipped order can be received", code=ErrorCode.INVALID_STATE, status=order.status.value)
    uow = ctx.unit_of_work()
    ctx.orders.transition(uow, order, OrderStatus.COMPLETED, ctx.clock(), actor.name)
    commit(uow, {Tag.ORDER: lambda _: Conflict("the order changed meanwhile", code=ErrorCode.INVALID_STATE)})
    return order


def complete_received_orders(ctx: Ordering, limit: int = 100) -> int:
    """Shipped orders complete by themselves `auto_receipt_after` after shipping (自动确认收货)."""
    completed = 0
    for order_id in ctx.orders.receipt_due(ctx.clock(), limit):
        found = ctx.orders.get(order_id)
        if found is None or found[0].status is not OrderStatus.SHIPPED:
            if found is not None and found[0].status is not OrderStatus.REFUNDING:
                ctx.orders.forget_receipt(order_id)     # it will not wait for a receipt any more
            continue
        uow = ctx.unit_of_work()
        ctx.orders.transition(uow, found[0], OrderStatus.COMPLETED, ctx.clock(), "system")
        completed += commit(uow, {Tag.ORDER: None})
    return completed
