"""Notifications (订阅消息): a customer's subscriptions, and an order's messages for staff."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from .. import config
from ..bootstrap import context
from ..domain.notifications import MAX_ACCEPTED, MAX_TEMPLATE_ID, MessageStatus
from ..domain.validation import Fields
from ..service_layer import notifications
from .http import Call, Reply, endpoint
from .views import views

bp = Blueprint(__name__)


@endpoint(bp, "POST", "/me/subscriptions")
def subscribe(call: Call) -> dict[str, Any]:
    accepted = Fields(call.body()).strings("accepted", max_items=MAX_ACCEPTED, max_len=MAX_TEMPLATE_ID,
                                           required=True)
    return {"credits": notifications.subscribe(context(), call.actor, accepted)}


@endpoint(bp, "GET", "/admin/orders/{order_id}/messages")
def order_messages(call: Call, order_id: str) -> dict[str, Any]:
    v = views()
    items = []
    for m in notifications.messages_of(context(), order_id):
        # A claim without an answer: the worker stopped between them, and it is never sent again.
        status, error = (m.status, m.error) if m.status else (MessageStatus.FAILED, m.error or "interrupted")
        items.append({"event": m.event.value, "template_id": m.template_id, "status": status.value,
                      "at": v.time(m.at), **({"error": error} if error else {})})
    return {"items": items}


@endpoint(bp, "POST", "/admin/orders/{order_id}/resend-tickets")
def resend_tickets(call: Call, order_id: str) -> Reply:
    key = notifications.resend_tickets(context(), call.actor, order_id)
    return Reply({"order_id": order_id, "key": key}, 202)


@endpoint(bp, "GET", "/notifications/templates")
def templates_to_ask(call: Call) -> dict[str, Any]:
    return {"items": [{"event": t.event.value, "template_id": t.template.template_id, "ask_at": t.ask_at.value}
                      for t in notifications.stage_templates(context()) if t.configured]}


@endpoint(bp, "GET", "/admin/notifications/templates")
def stage_templates(call: Call) -> dict[str, Any]:
    return {"miniprogram_state": config.miniprogram_state(),
            "items": [{"event": t.event.value, "template_id": t.template.template_id, "configured": t.configured,
                       "page": t.template.page, "ask_at": t.ask_at.value,
                       "fields": [{"key": key, "kind": kind.value} for key, kind in t.fields]}
                      for t in notifications.stage_templates(context())]}
