"""Routes of API.md's "After-sales for goods" (售后). Parse, call the use case
(service_layer/after_sales.py), present the after-sale with its history."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.after_sales import AfterSale, parse_receipt, parse_reject, parse_replacement, parse_request, \
    parse_return
from ..service_layer import after_sale_receipts, after_sales
from .http import Call, Reply, endpoint
from .order_routes import idempotency_key
from .views import Views, views

bp = Blueprint(__name__)


def _by(a: AfterSale, by: str, staff: bool) -> str:
    """Staff see who did each step; customers see "customer" or "staff", never staff names."""
    return by if staff else ("customer" if by == a.user_id else "staff")


def shown(a: AfterSale, v: Views, staff: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "after_sale_id": a.after_sale_id, "order_id": a.order_id, "type": a.type.value, "status": a.status.value,
        "lines": [{"sku_id": s, "quantity": q} for s, q in a.lines], "reason": a.reason,
        "created_at": v.time(a.created_at),
        "history": [{"status": h.status.value, "at": v.time(h.at), "by": _by(a, h.by, staff)} for h in a.history]}
    optional = {"description": a.description, "exchange_sku_id": a.exchange_sku_id,
                "return_shipment": a.return_shipment, "reject_reason": a.reject_reason, "restocked": a.restocked,
                "receive_note": a.receive_note, "refund_id": a.refund_id, "amount": a.amount, "shipment": a.shipment}
    data.update({k: val for k, val in optional.items() if val is not None})
    return data


@endpoint(bp, "POST", "/orders/{order_id}/after-sales")
def request_after_sale(call: Call, order_id: str) -> Reply:
    made = after_sales.request_after_sale(context(), call.actor, order_id, parse_request(call.body()),
                                          idempotency_key(call))
    return Reply(shown(made, views(), staff=False), 201)


@endpoint(bp, "GET", "/orders/{order_id}/after-sales")
def after_sales_of_order(call: Call, order_id: str) -> dict[str, Any]:
    v = views()
    staff = call.actor.principal.is_staff
    return {"items": [shown(a, v, staff) for a in after_sales.after_sales_of_order(context(), call.actor, order_id)]}


@endpoint(bp, "POST", "/orders/{order_id}/after-sales/{after_sale_id}/return")
def send_back(call: Call, order_id: str, after_sale_id: str) -> dict[str, Any]:
    return shown(after_sales.send_back(context(), call.actor, order_id, after_sale_id, parse_return(call.body())),
                 views(), staff=False)


@endpoint(bp, "POST", "/orders/{order_id}/after-sales/{after_sale_id}/cancel")
def cancel(call: Call, order_id: str, after_sale_id: str) -> dict[str, Any]:
    return shown(after_sales.cancel(context(), call.actor, order_id, after_sale_id), views(), staff=False)


@endpoint(bp, "GET", "/admin/after-sales")
def list_after_sales(call: Call) -> dict[str, Any]:
    page = after_sales.list_after_sales(context(), call.query("status"), call.query("type"), call.limit(),
                                        call.cursor())
    v = views()
    return {"items": [shown(a, v) for a in page.items], "next": page.next}


@endpoint(bp, "POST", "/admin/after-sales/{after_sale_id}/approve")
def approve(call: Call, after_sale_id: str) -> dict[str, Any]:
    return shown(after_sales.approve(context(), call.actor, after_sale_id), views())


@endpoint(bp, "POST", "/admin/after-sales/{after_sale_id}/reject")
def reject(call: Call, after_sale_id: str) -> dict[str, Any]:
    return shown(after_sales.reject(context(), call.actor, after_sale_id, parse_reject(call.body())), views())


@endpoint(bp, "POST", "/admin/after-sales/{after_sale_id}/receive")
def receive(call: Call, after_sale_id: str) -> dict[str, Any]:
    received, _ = after_sale_receipts.receive(context(), call.actor, after_sale_id, parse_receipt(call.body()))
    return shown(received, views())


@endpoint(bp, "POST", "/admin/after-sales/{after_sale_id}/ship")
def ship(call: Call, after_sale_id: str) -> dict[str, Any]:
    return shown(after_sales.ship(context(), call.actor, after_sale_id, parse_replacement(call.body())), views())
