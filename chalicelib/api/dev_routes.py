"""Local stage only: app.py registers this blueprint when STAGE is local, never in a deployed stage."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..adapters.payment_sandbox import SandboxGateway
from ..bootstrap import context
from ..domain.errors import NotFound
from ..domain.validation import Fields
from ..service_layer import payments, schedule
from .http import Call, endpoint

bp = Blueprint(__name__)


@endpoint(bp, "POST", "/dev/payments/{order_id}/succeed")
def pay_in_sandbox(call: Call, order_id: str) -> dict[str, Any]:
    body = Fields(call.body() if (call.request.raw_body or b"").strip() else {})
    amount = body.integer("amount", minimum=1, maximum=10 ** 9, required=False)
    transaction_id = body.string("transaction_id", required=False, max_len=32)
    notification_id = body.string("notification_id", required=False, max_len=64)
    return {"notify_status": payments.simulate_payment(context(), order_id, amount, transaction_id,
                                                       notification_id)}


@endpoint(bp, "GET", "/dev/payments/refunds")
def sandbox_refunds(call: Call) -> dict[str, Any]:
    gateway = context().payments
    if not isinstance(gateway, SandboxGateway):
        raise NotFound("no such route", code="NOT_FOUND")
    return {"items": gateway.refunds()}


@endpoint(bp, "POST", "/dev/schedule/run")
def run_schedule(call: Call) -> dict[str, Any]:
    """Runs the every-minute jobs now (the local pump also ticks them every LOCAL_SCHEDULE_SECONDS)."""
    return schedule.run(context())
