from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..bootstrap import context
from ..service_layer import orders, payments, refund_queries
from .http import Call, endpoint

bp = Blueprint(__name__)


@endpoint(bp, "POST", "/orders/{order_id}/payment")
def pay_again(call: Call, order_id: str) -> dict[str, Any]:
    ctx = context()
    return payments.pay_again(ctx, call.actor, orders.get_order(ctx, call.actor, order_id))


@endpoint(bp, "POST", "/payments/wechat/notify")
def wechat_notify(call: Call) -> Response:
    # The signature covers the raw body: it is passed on exactly as received.
    payments.receive_notification(context(), call.request.headers, call.text())
    return Response(body="", status_code=204)


@endpoint(bp, "POST", "/payments/wechat/refund-notify")
def wechat_refund_notify(call: Call) -> Response:
    refund_queries.receive_refund_notification(context(), call.request.headers, call.text())
    return Response(body="", status_code=204)
