"""Redemption (核销) at the gates: online scans, offline uploads, and the scanners' offline pack."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..adapters.ticket_codes import looks_like_qr
from ..domain.errors import InvalidInput
from ..domain.redemption import Reason, Scan, is_repeat_of_first_scan, rejection_reason
from ..domain.tickets import Ticket, display_code, normalize_manual_code
from ..domain.timeutil import from_storage
from ..domain.validation import Fields
from .context import Actor, Context
from .publishing import announce_redemption, send_alert

MAX_BATCH = 500
MAX_CLOCK_AHEAD = timedelta(minutes=5)


@dataclass(frozen=True)
class ScanRequest:
    code: str
    gate: str
    device_id: str
    nonce: str | None
    scanned_at: datetime | None


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def result(self) -> str:
        return str(self.body["result"])


def parse_scan(data: object, where: str = "body") -> ScanRequest:
    f = Fields(data, where)
    return ScanRequest(code=f.string("code", max_len=600) or "", gate=f.string("gate", max_len=50) or "",
                       device_id=f.string("device_id", max_len=100) or "",
                       nonce=f.string("nonce", required=False, max_len=100),
                       scanned_at=f.instant("scanned_at", required=False))


def _accepted(ticket: Ticket, redeemed_at: datetime, gate: str, views: Any) -> Answer:
    body: dict[str, Any] = {"result": "ok", "kind": ticket.kind.value, "redeemed_at": views.time(redeemed_at),
                            "gate": gate, "ticket_id": ticket.ticket_id, "order_id": ticket.order_id,
                            "code": display_code(ticket.code), "product_name": ticket.product_name,
                            "sku_name": ticket.sku_name}
    if ticket.session:
        body["session"] = {"start": views.time(ticket.session.start), "end": views.time(ticket.session.end)}
    if ticket.visitor:
        body["visitor"] = ticket.visitor
    return Answer(200, body)


_MESSAGES = {
    Reason.INVALID: "not a ticket or pickup code of this venue",
    Reason.REVOKED: "this code was revoked (refunded)",
    Reason.UNPAID: "the order is not paid",
    Reason.ALREADY_REDEEMED: "this code was already used",
    Reason.NOT_YET_VALID: "not valid yet",
    Reason.EXPIRED: "no longer valid",
}


def _rejected(reason: Reason, ticket: Ticket | None, views: Any) -> Answer:
    body: dict[str, Any] = {"result": "rejected", "reason": reason.value, "code": reason.value.upper(),
                            "message": _MESSAGES[reason], "details": {}}
    if ticket is not None and reason is not Reason.INVALID:
        body["ticket_id"] = ticket.ticket_id
        body["valid_from"], body["valid_until"] = views.time(ticket.valid_from), views.time(ticket.valid_until)
        if reason is Reason.ALREADY_REDEEMED:
            body["first_redeemed_at"] = views.time(ticket.redeemed_at)
            body["first_gate"] = ticket.redeemed_gate
    return Answer(404 if reason is Reason.INVALID else 409, body)


def redeem(ctx: Context, actor: Actor, request: ScanRequest, views: Any, offline: bool = False) -> Answer:
    """Ordered checks, one conditional write. A QR is verified by signature before anything is
    read; a manual code goes straight to its keyed ticket."""
    now = ctx.clock()
    # An offline scan is judged at the time it happened; a scanner clock far ahead is not trusted.
    at = request.scanned_at if offline and request.scanned_at and request.scanned_at <= now + MAX_CLOCK_AHEAD \
        else now
    scan = Scan(gate=request.gate, device_id=request.device_id, staff=actor.name, at=at, nonce=request.nonce)
    expected_ticket_id = None
    if looks_like_qr(request.code):
        claims = ctx.qr.verify(request.code)
        code = claims.code if claims else None
        expected_ticket_id = claims.ticket_id if claims else None
    else:
        code = normalize_manual_code(request.code)
    if code is None:
        answer = _rejected(Reason.INVALID, None, views)
    else:
        attempt = ctx.tickets.redeem(code, scan, now, expected_ticket_id, earliest_wins=offline)
        answer = _outcome(ctx, attempt.accepted, attempt.before, scan, now, expected_ticket_id, views, offline)
    ctx.metrics.count("Redemptions", result=answer.body.get("reason", "ok"), gate=scan.gate)
    if answer.result != "ok":
        ctx.metrics.count("RedemptionsRejected")      # one series across gates, for the spike alarm
    return answer


def _outcome(ctx: Context, accepted: bool, before: Ticket | None, scan: Scan, now: datetime,
             expected_ticket_id: str | None, views: Any, offline: bool) -> Answer:
    if accepted and before is not None:
        if before.redeemed_at is not None and before.redeemed_gate is not None:
            # An earlier offline scan took over: the later one it displaced is a conflict.
            displaced = Scan(before.redeemed_gate, before.redeemed_device or "", before.redeemed_by or "",
                             _scanned_at(before), before.redeem_nonce)
            if ctx.tickets.record_conflict(before, displaced, scan.at, scan.gate, now):
                _conflict_alert(ctx, before, displaced, scan.gate)
        announce_redemption(ctx, before.order_id)
        return _accepted(before, now, scan.gate, views)
    if is_repeat_of_first_scan(before, scan):
        assert before is not None and before.redeemed_at is not None
        return _accepted(before, before.redeemed_at, before.redeemed_gate or scan.gate, views)
    reason = rejection_reason(before, scan, expected_ticket_id) or Reason.INVALID
    if offline and reason is Reason.ALREADY_REDEEMED and before is not None:
        # An offline scan that lost to an earlier one: kept for review, from the same write's answer.
        if ctx.tickets.record_conflict(before, scan, _scanned_at(before), before.redeemed_gate or "", now):
            _conflict_alert(ctx, before, scan, before.redeemed_gate or "")
    return _rejected(reason, before, views)


def _scanned_at(ticket: Ticket) -> datetime:
    raw = ticket.extra.get("scanned_at")
    return from_storage(raw) if raw else ticket.redeemed_at  # type: ignore[return-value]


def redeem_batch(ctx: Context, actor: Actor, body: object, views: Any) -> list[dict[str, Any]]:
    """Offline uploads: processed earliest scan first, so the earliest scan of a code wins;
    a scan that loses to an earlier one is recorded as a conflict for review, never dropped."""
    f = Fields(body)
    raw_scans = f.items("scans", min_items=1, max_items=MAX_BATCH)
    parsed: list[tuple[int, ScanRequest | None]] = []
    for index, raw in enumerate(raw_scans):
        try:
            parsed.append((index, parse_scan(raw, f"scans[{index}]")))
        except InvalidInput:
            parsed.append((index, None))
    now = ctx.clock()
    order = sorted(parsed, key=lambda p: (p[1].scanned_at or now) if p[1] else now)
    results: dict[int, dict[str, Any]] = {}
    for index, request in order:
        nonce = raw_scans[index].get("nonce") if isinstance(raw_scans[index], dict) else None
        if request is None:
            results[index] = {"nonce": nonce, "result": "rejected", "reason": Reason.INVALID.value}
            continue
        answer = redeem(ctx, actor, request, views, offline=True)
        result: dict[str, Any] = {"nonce": request.nonce, "result": answer.result}
        if answer.result != "ok":
            result["reason"] = answer.body["reason"]
        results[index] = result
    return [results[i] for i in range(len(raw_scans))]


def _conflict_alert(ctx: Context, ticket: Ticket, losing: Scan, winner_gate: str) -> None:
    """Two gates admitted the same code while offline: someone should look."""
    ctx.metrics.count("OfflineScanConflicts", gate=losing.gate)
    send_alert(ctx, "scan_conflict", f"ticket {ticket.ticket_id} was scanned at {losing.gate} and {winner_gate} "
               "while offline", ticket_id=ticket.ticket_id, losing_gate=losing.gate, winning_gate=winner_gate,
               order_id=ticket.order_id)


def offline_pack(ctx: Context, views: Any) -> dict[str, Any]:
    return {"keys": ctx.qr.public_keys(), "revoked": sorted(t.ticket_id for t in ctx.tickets.revoked()),
            "generated_at": views.time(ctx.clock())}
