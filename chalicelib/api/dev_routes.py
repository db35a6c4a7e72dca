"""Local stage only: app.py registers this blueprint when STAGE is local, never in a deployed stage."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..adapters.payment_sandbox import SandboxGateway
from ..bootstrap import context
from ..domain import identifiers
from ..domain.errors import DomainError, NotFound
from ..domain.validation import Fields
from ..service_layer import payments, schedule
from .http import Call, endpoint

bp = Blueprint(__name__)


def _sandbox() -> SandboxGateway:
    gateway = context().payments
    if not isinstance(gateway, SandboxGateway):
        raise NotFound("no such route", code="NOT_FOUND")
    return gateway


def _delivered(headers: dict[str, str], body: str) -> int:
    """What the notify endpoint answered WeChat: 204 when handled, the error's status if not."""
    from .errors import STATUS
    try:
        payments.receive_notification(context(), headers, body)
    except DomainError as error:
        return next((s for cls, s in STATUS.items() if isinstance(error, cls)), 400)
    return 204


@endpoint(bp, "POST", "/dev/payments/{order_id}/succeed")
def pay_in_sandbox(call: Call, order_id: str) -> dict[str, Any]:
    """WeChat's notification for a successful payment of the order, signed and encrypted as
    WeChat does, delivered to the same handler as a real one. Giving the same transaction and
    notification id again is what WeChat's redelivery looks like."""
    body = Fields(call.body() if (call.request.raw_body or b"").strip() else {})
    amount = body.integer("amount", minimum=1, maximum=10 ** 9, required=False)
    transaction_id = body.string("transaction_id", required=False, max_len=32)
    notification_id = body.string("notification_id", required=False, max_len=64)
    gateway = _sandbox()
    ctx = context()
    found = ctx.orders.get(order_id) if identifiers.ORDER_ID.match(order_id) else None
    if found is None and amount is None:
        raise NotFound("no such order", code="ORDER_NOT_FOUND", order_id=order_id)
    total = amount if amount is not None else found[0].total  # type: ignore[index]
    notice = gateway.payment_notice(order_id, total, None, transaction_id=transaction_id,
                                    notification_id=notification_id)
    return {"notify_status": _delivered(notice.headers, notice.body)}


@endpoint(bp, "GET", "/dev/payments/refunds")
def sandbox_refunds(call: Call) -> dict[str, Any]:
    return {"items": _sandbox().refunds()}


@endpoint(bp, "POST", "/dev/schedule/run")
def run_schedule(call: Call) -> dict[str, Any]:
    """Runs the every-minute jobs now (the local pump also ticks them every LOCAL_SCHEDULE_SECONDS)."""
    return schedule.run(context())
