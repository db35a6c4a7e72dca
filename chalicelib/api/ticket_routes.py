from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..bootstrap import context
from ..domain.commands import parse_offline_scans, parse_scan
from ..lazy import LazyModule
from ..service_layer import redemption, tickets
from .http import Call, Reply, endpoint
from .views import views

bp = Blueprint(__name__)
ticket_codes = LazyModule("..adapters.ticket_codes", __package__)      # qrcode and cryptography: on first use


def _png(payload: str) -> Response:
    return Response(body=ticket_codes.render_png(payload), status_code=200,
                    headers={"Content-Type": "image/png", "Cache-Control": "no-store"})


@endpoint(bp, "GET", "/orders/{order_id}/tickets")
def order_tickets(call: Call, order_id: str) -> dict[str, Any]:
    ctx = context()
    shown, now = views(), ctx.clock()
    items = [shown.ticket(t, now) for t in tickets.tickets_of_order(ctx, call.actor, order_id)]
    if call.actor.principal.is_staff:
        # Staff (a visitor on the phone about a reschedule) see which ticket is which, never a
        # code the gate would take: a live code read off the console could be used by anyone.
        for item in items:
            item["code"] = "****-****-" + item["code"][-4:]
            item.pop("qr", None)
    return {"items": items}


@endpoint(bp, "GET", "/tickets/{ticket_id}/qr.png")
def ticket_qr(call: Call, ticket_id: str) -> Response:
    return _png(tickets.ticket_of(context(), call.actor, ticket_id).qr)


@endpoint(bp, "GET", "/orders/{order_id}/pickup/qr.png")
def pickup_qr(call: Call, order_id: str) -> Response:
    return _png(tickets.pickup_of(context(), call.actor, order_id).qr)


@endpoint(bp, "POST", "/redemptions")
def redeem(call: Call) -> Reply:
    status, body = views().redemption(redemption.redeem(context(), call.actor, parse_scan(call.body())))
    return Reply(body, status)


@endpoint(bp, "POST", "/redemptions/batch")
def redeem_batch(call: Call) -> dict[str, Any]:
    shown = views()
    results = []
    for result in redemption.redeem_batch(context(), call.actor, parse_offline_scans(call.body())):
        entry: dict[str, Any] = {"nonce": result.nonce, "result": "ok" if result.outcome.admitted else "rejected"}
        if not result.outcome.admitted:
            answer = shown.redemption(result.outcome)[1]
            entry["reason"] = answer["reason"]
            # Where and when the code was used first: the gate operator is shown the conflict.
            entry.update({k: answer[k] for k in ("first_redeemed_at", "first_gate") if k in answer})
            if result.outcome.conflict is not None:
                entry["conflict"] = result.outcome.conflict.value
        results.append(entry)
    return {"results": results}


@endpoint(bp, "GET", "/scanner/offline-pack")
def offline_pack(call: Call) -> dict[str, Any]:
    shown = views()
    pack = redemption.offline_pack(context(), call.query("since"))
    return {"keys": pack.keys, "revoked": [r.ticket_id for r in pack.revoked],
            "revoked_until": {r.ticket_id: shown.time(r.valid_until) for r in pack.revoked},
            "generated_at": shown.time(pack.generated_at), "next": pack.next,
            # the gate shows times and counts days in the venue's zone, also offline: it keeps this with the pack
            "venue_timezone": shown.zone}
