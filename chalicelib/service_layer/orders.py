"""Placing, reading, cancelling and shipping orders."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from ..adapters.dynamo import TransactionCancelled
from ..adapters.repository import Page, placement_snapshot
from ..domain import identifiers
from ..domain.commands import PlaceOrder
from ..domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from ..domain.model import Order, OrderStatus, check_transition
from ..domain.ordering import build_order, purchase_limit_exceeded, sold_out
from ..domain.personal_data import normalize_phone
from .context import Actor, Context
from .payments import payment_parameters
from .publishing import announce_stock_change

STAFF_WHO_SEE_ORDERS = frozenset({"admin", "support", "finance"})
CONFLICT_ATTEMPTS = 3
Present = Callable[[Order], dict[str, Any]]


def fingerprint(body: object) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _replay(ctx: Context, actor: Actor, reply: Any, expected_fingerprint: str) -> tuple[int, dict[str, Any]]:
    if reply.fingerprint != expected_fingerprint:
        raise RuleViolation("this Idempotency-Key was used with a different request",
                            code="IDEMPOTENCY_KEY_REUSED")
    body = json.loads(reply.response)
    found = ctx.orders.get(body["order_id"])
    return int(reply.status_code), _with_payment(ctx, actor, body, found[0] if found else None)


def _with_payment(ctx: Context, actor: Actor, body: dict[str, Any], order: Order | None) -> dict[str, Any]:
    """The wx.requestPayment parameters are not stored: they are asked of the gateway (which
    answers the same prepay for the same order) each time the order is handed out."""
    return {**body, "payment": payment_parameters(ctx, actor, order) if order else None}


def place_order(ctx: Context, actor: Actor, command: PlaceOrder, present: Present,
                idempotency_key: str | None = None, request_fingerprint: str = "") -> tuple[int, dict[str, Any]]:
    """Reads once (one BatchGetItem), then reserves every line and writes the order in ONE
    transaction: all lines or none."""
    try:
        status, body = _place(ctx, actor, command, present, idempotency_key, request_fingerprint)
    except Conflict as conflict:
        if conflict.code == "SOLD_OUT":
            ctx.metrics.count("SoldOutRejections")
        raise
    if status == 201:
        ctx.metrics.count("OrdersPlaced")
    return status, body


def _place(ctx: Context, actor: Actor, command: PlaceOrder, present: Present, idempotency_key: str | None,
           request_fingerprint: str) -> tuple[int, dict[str, Any]]:
    user_id = actor.name
    for line in command.lines:
        if identifiers.product_id_of(line.sku_id) is None:
            raise NotFound(f"SKU {line.sku_id} does not exist", code="SKU_NOT_FOUND", sku_id=line.sku_id)
    product_ids = sorted({identifiers.product_id_of(l.sku_id) or "" for l in command.lines})
    idem_key = f"{user_id}#{idempotency_key}" if idempotency_key else None

    for _ in range(CONFLICT_ATTEMPTS):
        snapshot = placement_snapshot([l.sku_id for l in command.lines], product_ids, user_id, idem_key)
        if snapshot.idempotent_reply is not None:
            return _replay(ctx, actor, snapshot.idempotent_reply, request_fingerprint)
        now = ctx.clock()
        order = build_order(order_id=identifiers.new_order_id(now), user_id=user_id, command=command,
                            skus=snapshot.skus, products=snapshot.products, purchased=snapshot.purchased,
                            now=now, payment_timeout=ctx.payment_timeout)
        limits = {p: snapshot.products[p].purchase_limit for p in product_ids
                  if snapshot.products[p].purchase_limit is not None}
        uow = ctx.unit_of_work()
        ctx.orders.add(uow, order, set(limits))
        for line in order.lines:
            ctx.ledger.reserve(uow, line.sku_id, line.quantity, order.order_id, now)
        for product_id, quantity in order.quantities_by_product().items():
            if product_id in limits:
                ctx.counters.hold(uow, user_id, product_id, quantity, limits[product_id] or 0)
        body = present(order)
        if idem_key:
            ctx.idempotency.remember(uow, idem_key, request_fingerprint, 201, body, now)
        try:
            uow.commit()
        except TransactionCancelled as cancelled:
            if "idempotency" in cancelled.failed:
                reply = ctx.idempotency.get(idem_key or "")
                if reply is not None:
                    return _replay(ctx, actor, reply, request_fingerprint)
            for tag in cancelled.failed:
                if tag.startswith("sku:"):
                    raise sold_out(tag[4:]) from None
                if tag.startswith("limit:"):
                    product_id = tag[6:]
                    raise purchase_limit_exceeded(product_id, limits.get(product_id)) from None
            if not cancelled.conflicted:
                raise
            continue
        # Only lines that may have crossed below their threshold wake the alerts worker.
        announce_stock_change(ctx, [line.sku_id for line in order.lines
                                    if snapshot.skus[line.sku_id].available - line.quantity
                                    < snapshot.skus[line.sku_id].low_stock_threshold])
        return 201, _with_payment(ctx, actor, body, order)
    raise Conflict("the shop is busy; please try again", code="TRY_AGAIN")


def _visible_order(ctx: Context, actor: Actor, order_id: str) -> tuple[Order, set[str]]:
    """404 for an order that does not exist *or is not the caller's*: never reveal another
    customer's order."""
    found = ctx.orders.get(order_id) if identifiers.ORDER_ID.match(order_id) else None
    if found is not None:
        order, counted = found
        principal = actor.principal
        if (principal.is_staff and principal.roles & STAFF_WHO_SEE_ORDERS) or \
                (not principal.is_staff and order.user_id == principal.subject):
            return order, counted
    raise NotFound("no such order", code="ORDER_NOT_FOUND", order_id=order_id)


def get_order(ctx: Context, actor: Actor, order_id: str) -> Order:
    return _visible_order(ctx, actor, order_id)[0]


def my_orders(ctx: Context, actor: Actor, limit: int, cursor: str | None) -> Page:
    return ctx.orders.for_customer(actor.name, limit, cursor)


def cancel_order(ctx: Context, actor: Actor, order_id: str) -> Order:
    """Only while awaiting payment; the stock and purchase-limit units come back in the same
    transaction that changes the status, conditional on the status still being pending."""
    order, counted = _visible_order(ctx, actor, order_id)
    if order.user_id != actor.name:
        raise NotFound("no such order", code="ORDER_NOT_FOUND", order_id=order_id)
    check_transition(order.status, OrderStatus.CANCELLED)
    uow = ctx.unit_of_work()
    end_unpaid(ctx, uow, order, counted, OrderStatus.CANCELLED, actor.name)
    try:
        uow.commit()
    except TransactionCancelled as cancelled:
        if "order" in cancelled.failed:
            current = get_order(ctx, actor, order_id)
            raise Conflict(f"the order is {current.status.value} and can no longer be cancelled",
                           code="INVALID_STATE", status=current.status.value) from None
        raise
    ctx.metrics.count("OrdersCancelled")
    announce_stock_change(ctx, [line.sku_id for line in order.lines])
    return order


def end_unpaid(ctx: Context, uow: Any, order: Order, counted: set[str], target: OrderStatus, by: str) -> None:
    """An unpaid order ends (cancelled or expired): conditional on it still being pending, its
    reserved stock and purchase-limit units come back in the same transaction."""
    now = ctx.clock()
    ctx.orders.transition(uow, order, target, now, by)
    for line in order.lines:
        ctx.ledger.release(uow, line.sku_id, line.quantity, order.order_id, f"order_{target.value.lower()}", now)
    for product_id, quantity in order.quantities_by_product().items():
        if product_id in counted:
            ctx.counters.give_back(uow, order.user_id, product_id, quantity)


def search_orders(ctx: Context, status: str | None, query: str | None, limit: int,
                  cursor: str | None) -> tuple[list[Order], str | None]:
    """By order id, by the contact's phone (exact, through its keyed hash), else by product name."""
    if status is not None and status not in OrderStatus.__members__:
        raise InvalidInput(f"status must be one of {', '.join(OrderStatus.__members__)}", field="status")
    if query:
        query = query.strip()
        if identifiers.ORDER_ID.match(query):
            found = ctx.orders.get(query)
            orders = [found[0]] if found and (status is None or found[0].status.value == status) else []
            return orders, None
        digits = query.replace(" ", "").replace("-", "")
        if digits.lstrip("+").isdigit() and len(digits) >= 5:
            orders = ctx.orders.by_phone(normalize_phone(digits, "q"), limit)
            return [o for o in orders if status is None or o.status.value == status], None
    page = ctx.orders.search(status, query or None, limit, cursor)
    return page.items, page.next


def ship_order(ctx: Context, actor: Actor, order_id: str, carrier: str, tracking_no: str) -> Order:
    order, _ = _visible_order(ctx, actor, order_id)
    if order.fulfillment is None or order.fulfillment.value != "shipping":
        raise Conflict("only orders for delivery by post can be shipped", code="INVALID_STATE",
                       status=order.status.value)
    check_transition(order.status, OrderStatus.SHIPPED)
    now = ctx.clock()
    uow = ctx.unit_of_work()
    shipment = {"carrier": carrier, "tracking_no": tracking_no}
    ctx.orders.transition(uow, order, OrderStatus.SHIPPED, now, actor.name, shipment=shipment)
    ctx.audit.record(actor.name, "order_shipped", now, target=order_id, source_ip=actor.source_ip,
                     details={"carrier": carrier}, uow=uow)
    try:
        uow.commit()
    except TransactionCancelled as cancelled:
        if "order" in cancelled.failed:
            raise Conflict("the order changed meanwhile", code="INVALID_STATE") from None
        raise
    order.shipment = shipment
    return order
