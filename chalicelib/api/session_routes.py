"""Session cancellation (场次取消): the venue's call and its progress. Parse, call, present."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.session_cancellation import RefundOutcomes, SessionCancellation, parse_reason
from ..service_layer import session_cancellation
from .http import Call, Reply, endpoint
from .views import views

bp = Blueprint(__name__)


def _progress(c: SessionCancellation) -> dict[str, Any]:
    v = views()
    return {"sku_id": c.sku_id, "status": c.status.value, "reason": c.reason, "orders": c.orders,
            "tickets": c.tickets, "orders_cancelled": c.orders_cancelled, "orders_refunded": c.orders_refunded,
            "tickets_refunded": c.tickets_refunded, "cancelled_at": v.time(c.cancelled_at),
            "cancelled_by": c.cancelled_by, "finished_at": v.time(c.finished_at)}


@endpoint(bp, "POST", "/admin/sessions/{sku_id}/cancel")
def cancel_session(call: Call, sku_id: str) -> Reply:
    reason = parse_reason(call.body())
    cancelled = session_cancellation.cancel_session(context(), call.actor, sku_id, reason)
    return Reply(_progress(cancelled), 202)


@endpoint(bp, "GET", "/admin/sessions/{sku_id}/cancellation")
def cancellation(call: Call, sku_id: str) -> dict[str, Any]:
    progress, refunds = session_cancellation.cancellation_of(context(), sku_id)
    outcomes: RefundOutcomes = refunds
    return {**_progress(progress), "refunds_requested": outcomes.requested,
            "refunds_succeeded": outcomes.succeeded, "refunds_failed": outcomes.failed,
            "refunds_in_flight": outcomes.in_flight, "refunded": outcomes.refunded_amount}
