"""Routes of API.md's "Ticket changes": 改签 and a ticket's visitor. Parse, call the use case
(service_layer/ticket_changes.py), present the ticket as GET /orders/{id}/tickets does."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.ticket_changes import parse_reschedule, parse_visitor_change
from ..service_layer import ticket_changes
from .http import Call, endpoint
from .views import views

bp = Blueprint(__name__)


@endpoint(bp, "POST", "/orders/{order_id}/tickets/{ticket_id}/reschedule")
def reschedule_ticket(call: Call, order_id: str, ticket_id: str) -> dict[str, Any]:
    ctx = context()
    issued = ticket_changes.reschedule(ctx, call.actor, order_id, ticket_id, parse_reschedule(call.body()))
    return views().ticket(issued, ctx.clock())


@endpoint(bp, "PATCH", "/orders/{order_id}/tickets/{ticket_id}")
def change_ticket_visitor(call: Call, order_id: str, ticket_id: str) -> dict[str, Any]:
    ctx = context()
    changed = ticket_changes.change_visitor(ctx, call.actor, order_id, ticket_id, parse_visitor_change(call.body()))
    return views().ticket(changed, ctx.clock())
