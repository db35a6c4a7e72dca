from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.commands import parse_place_order
from ..domain.model import OrderStatus
from ..domain.order_changes import parse_change_order
from ..domain.errors import InvalidInput
from ..domain.validation import Fields
from ..service_layer import order_changes, order_search, orders, payments, tickets, unpaid
from .http import Call, Reply, endpoint
from .views import views

bp = Blueprint(__name__)


def idempotency_key(call: Call) -> str | None:
    key = call.header("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= 128 or not key.isascii() or not key.isprintable():
        raise InvalidInput("Idempotency-Key must be 1 to 128 printable ASCII characters", field="Idempotency-Key")
    return key


@endpoint(bp, "POST", "/orders")
def place_order(call: Call) -> Reply:
    placed = orders.place_order(context(), call.actor, parse_place_order(call.body()),
                                idempotency_key=idempotency_key(call))
    # A replay answers as the first request was answered: 201 and the order as placed.
    return Reply({**views().order(placed.order), "payment": placed.payment}, 201)


@endpoint(bp, "GET", "/orders")
def my_orders(call: Call) -> dict[str, Any]:
    page = orders.my_orders(context(), call.actor, call.limit(), call.cursor())
    shown = views()
    return {"items": [shown.order(o) for o in page.items], "next": page.next}


@endpoint(bp, "GET", "/orders/{order_id}")
def get_order(call: Call, order_id: str) -> dict[str, Any]:
    ctx = context()
    order = orders.get_order(ctx, call.actor, order_id)
    shown = views().order(order, pickup=tickets.pickup_ticket(ctx, order), staff=call.actor.principal.is_staff)
    if order.status is OrderStatus.PENDING_PAYMENT and not call.actor.principal.is_staff:
        shown["payment"] = payments.payment_parameters(ctx, call.actor, order)
    return shown


@endpoint(bp, "PATCH", "/orders/{order_id}")
def change_order(call: Call, order_id: str) -> dict[str, Any]:
    placed = order_changes.change_order(context(), call.actor, order_id, parse_change_order(call.body()))
    return {**views().order(placed.order), "payment": placed.payment}


@endpoint(bp, "POST", "/orders/{order_id}/cancel")
def cancel_order(call: Call, order_id: str) -> dict[str, Any]:
    return views().order(orders.cancel_order(context(), call.actor, order_id))


@endpoint(bp, "GET", "/admin/orders")
def search_orders(call: Call) -> dict[str, Any]:
    page = order_search.search_orders(context(), call.query("status"), call.query("q"), call.limit(), call.cursor())
    shown = views()
    return {"items": [shown.order(o, staff=True) for o in page.items], "next": page.next}


@endpoint(bp, "GET", "/admin/customers/{user_id}/holds")
def customer_holds(call: Call, user_id: str) -> dict[str, Any]:
    holds = unpaid.customer_holds(context(), user_id)
    return {"user_id": holds.user_id, "unpaid_orders": holds.orders,
            "units": [{"sku_id": s, "quantity": q} for s, q in sorted(holds.units.items())],
            "max_unpaid_orders": holds.limits.orders, "max_unpaid_units_per_sku": holds.limits.units_per_sku}


@endpoint(bp, "POST", "/admin/orders/{order_id}/ship")
def ship_order(call: Call, order_id: str) -> dict[str, Any]:
    body = Fields(call.body())
    carrier = body.string("carrier", max_len=50) or ""
    tracking_no = body.string("tracking_no", max_len=64) or ""
    return views().order(orders.ship_order(context(), call.actor, order_id, carrier, tracking_no), staff=True)


@endpoint(bp, "POST", "/orders/{order_id}/receipt")
def confirm_receipt(call: Call, order_id: str) -> dict[str, Any]:
    return views().order(orders.confirm_receipt(context(), call.actor, order_id))
