from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.commands import parse_refund_request, parse_rejection_reason
from ..domain.refunds import Refund
from ..domain.validation import Fields
from ..service_layer import alerts, refund_queue, refunds
from .http import Call, Reply, endpoint
from .views import views

bp = Blueprint(__name__)


@endpoint(bp, "POST", "/orders/{order_id}/refunds")
def request_refund(call: Call, order_id: str) -> Reply:
    refund = refunds.request_refund(context(), call.actor, order_id, parse_refund_request(call.body()))
    answer: dict[str, Any] = {"refund_id": refund.refund_id, "status": refund.status.value, "amount": refund.amount,
                              "tickets": len(refund.ticket_codes)}
    if refund.review_reasons:
        answer["review_reasons"] = refund.review_reasons
    return Reply(answer, 202)


@endpoint(bp, "GET", "/orders/{order_id}/refunds")
def order_refunds(call: Call, order_id: str) -> dict[str, Any]:
    shown, staff = views(), call.actor.principal.is_staff
    found = refunds.refunds_of_order(context(), call.actor, order_id)
    if staff:
        found = refund_queue.summarised(context(), found)
    return {"items": [shown.refund(r, staff) for r in found], "next": None}


@endpoint(bp, "GET", "/admin/refunds")
def list_refunds(call: Call) -> dict[str, Any]:
    page = refunds.list_refunds(context(), call.query("status"), call.limit(), call.cursor())
    shown = views()
    return {"items": [shown.refund(r) for r in refund_queue.summarised(context(), page.items)], "next": page.next}


def _staff_view(refund: Refund) -> dict[str, Any]:
    """A single refund as staff see it, with what it takes back and for whom."""
    return views().refund(refund_queue.summarised(context(), [refund])[0])


@endpoint(bp, "POST", "/admin/refunds/{refund_id}/approve")
def approve(call: Call, refund_id: str) -> dict[str, Any]:
    raw = call.request.raw_body or b""
    goods_returned = Fields(call.body()).boolean("goods_returned") if raw.strip() else False
    return _staff_view(refunds.approve_refund(context(), call.actor, refund_id, goods_returned))


@endpoint(bp, "POST", "/admin/refunds/{refund_id}/reject")
def reject(call: Call, refund_id: str) -> dict[str, Any]:
    return _staff_view(refunds.reject_refund(context(), call.actor, refund_id, parse_rejection_reason(call.body())))


@endpoint(bp, "POST", "/admin/refunds/{refund_id}/retry")
def retry(call: Call, refund_id: str) -> Reply:
    return Reply(_staff_view(refunds.retry_refund(context(), call.actor, refund_id)), 202)


@endpoint(bp, "GET", "/admin/alerts")
def list_alerts(call: Call) -> dict[str, Any]:
    page = alerts.list_alerts(context(), call.limit(), call.cursor())
    shown = views()
    return {"items": [shown.alert(a) for a in page.items], "next": page.next}
