from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.refunds import Refund
from ..service_layer import alerts, refunds
from .http import Call, Reply, endpoint
from .views import Views

bp = Blueprint(__name__)


def refund_view(refund: Refund, views: Views) -> dict[str, Any]:
    data: dict[str, Any] = {"refund_id": refund.refund_id, "order_id": refund.order_id, "status": refund.status.value,
                            "amount": refund.amount, "reason": refund.reason, "source": refund.source,
                            "created_at": views.time(refund.created_at), "tickets": len(refund.ticket_codes)}
    for name in ("decided_by", "reject_reason", "last_error"):
        if getattr(refund, name):
            data[name] = getattr(refund, name)
    return data


def _views() -> Views:
    return Views(context().venue_timezone)


@endpoint(bp, "POST", "/orders/{order_id}/refunds")
def request_refund(call: Call, order_id: str) -> Reply:
    refund = refunds.request_refund(context(), call.actor, order_id, call.body())
    return Reply({"refund_id": refund.refund_id, "status": refund.status.value, "amount": refund.amount}, 202)


@endpoint(bp, "GET", "/orders/{order_id}/refunds")
def order_refunds(call: Call, order_id: str) -> dict[str, Any]:
    views = _views()
    return {"items": [refund_view(r, views) for r in refunds.refunds_of_order(context(), call.actor, order_id)],
            "next": None}


@endpoint(bp, "GET", "/admin/refunds")
def list_refunds(call: Call) -> dict[str, Any]:
    page = refunds.list_refunds(context(), call.query("status"), call.limit(), call.cursor())
    views = _views()
    return {"items": [refund_view(r, views) for r in page.items], "next": page.next}


@endpoint(bp, "POST", "/admin/refunds/{refund_id}/approve")
def approve(call: Call, refund_id: str) -> dict[str, Any]:
    return refund_view(refunds.approve_refund(context(), call.actor, refund_id), _views())


@endpoint(bp, "POST", "/admin/refunds/{refund_id}/reject")
def reject(call: Call, refund_id: str) -> dict[str, Any]:
    return refund_view(refunds.reject_refund(context(), call.actor, refund_id, call.body()), _views())


@endpoint(bp, "GET", "/admin/alerts")
def list_alerts(call: Call) -> dict[str, Any]:
    page = alerts.list_alerts(context(), call.limit(), call.cursor())
    views = _views()
    return {"items": [{**a, "created_at": views.time(a["created_at"])} for a in page.items], "next": page.next}
