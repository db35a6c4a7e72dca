from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..adapters.ticket_codes import render_png
from ..bootstrap import context
from ..service_layer import redemption, tickets
from .http import Call, Reply, endpoint
from .views import Views

bp = Blueprint(__name__)


def _views() -> Views:
    return Views(context().venue_timezone)


def _png(payload: str) -> Response:
    return Response(body=render_png(payload), status_code=200,
                    headers={"Content-Type": "image/png", "Cache-Control": "private, max-age=300"})


@endpoint(bp, "GET", "/orders/{order_id}/tickets")
def order_tickets(call: Call, order_id: str) -> dict[str, Any]:
    ctx = context()
    views = _views()
    now = ctx.clock()
    return {"items": [views.ticket(t, now) for t in tickets.tickets_of_order(ctx, call.actor, order_id)]}


@endpoint(bp, "GET", "/tickets/{ticket_id}/qr.png")
def ticket_qr(call: Call, ticket_id: str) -> Response:
    return _png(tickets.ticket_of(context(), call.actor, ticket_id).qr)


@endpoint(bp, "GET", "/orders/{order_id}/pickup/qr.png")
def pickup_qr(call: Call, order_id: str) -> Response:
    return _png(tickets.pickup_of(context(), call.actor, order_id).qr)


@endpoint(bp, "POST", "/redemptions")
def redeem(call: Call) -> Reply:
    answer = redemption.redeem(context(), call.actor, redemption.parse_scan(call.body()), _views())
    return Reply(answer.body, answer.status)


@endpoint(bp, "POST", "/redemptions/batch")
def redeem_batch(call: Call) -> dict[str, Any]:
    return {"results": redemption.redeem_batch(context(), call.actor, call.body(), _views())}


@endpoint(bp, "GET", "/scanner/offline-pack")
def offline_pack(call: Call) -> dict[str, Any]:
    return redemption.offline_pack(context(), _views())
