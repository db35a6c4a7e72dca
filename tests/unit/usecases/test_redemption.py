"""The gate (service_layer.redemption) on the fakes: one conditional write per scan, its refusal
read back as the reason; offline uploads judged at the time of the scan, the earliest winning,
the rest kept for review."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.model import Order
from chalicelib.domain.redemption import ConflictKind, Reason
from chalicelib.domain.tickets import Ticket, TicketStatus, display_code
from chalicelib.service_layer import redemption, refunds
from chalicelib.service_layer.context import Context
from chalicelib.domain.commands import RefundRequest, ScanRequest, parse_offline_scans

from .shop import customer, paid_order, staff, ticket_product, tickets_of

GATE = staff("scanner", name="gate")


def admitted_today(ctx: Context, quantity: int = 1, admission_open: bool = True) -> tuple[Order, list[Ticket]]:
    _, (sku,) = ticket_product(ctx, 10, admission_open=admission_open)
    order = paid_order(ctx, customer(ctx), (sku.sku_id, quantity))
    ctx.clock.advance(hours=1)                                              # type: ignore[attr-defined]
    return order, tickets_of(ctx, order.order_id)


def scan(ctx: Context, code: str, gate: str = "g1", device: str = "d1", nonce: str | None = None
         ) -> redemption.Redemption:
    return redemption.redeem(ctx, GATE, ScanRequest(code, gate, device, nonce, None))


def upload(ctx: Context, *scans: tuple[str, str, datetime]) -> list[redemption.BatchResult]:
    """An offline scanner's queue: (code, gate, when) each."""
    return redemption.redeem_batch(ctx, GATE, parse_offline_scans({"scans": [
        {"code": code, "gate": gate, "device_id": f"dev-{gate}", "nonce": f"n-{gate}-{i}", "scanned_at": at.isoformat()}
        for i, (code, gate, at) in enumerate(scans)]}))


def test_a_valid_ticket_is_admitted_once(ctx: Context) -> None:
    order, [ticket] = admitted_today(ctx)
    outcome = scan(ctx, ticket.qr)
    assert outcome.admitted and outcome.gate == "g1" and outcome.ticket.ticket_id == ticket.ticket_id  # type: ignore[union-attr]
    stored = ctx.tickets.by_code(ticket.code)
    assert stored is not None and (stored.status, stored.redeemed_gate, stored.redeemed_by) == \
        (TicketStatus.REDEEMED, "g1", "gate")
    assert ctx.messages.redeemed == [order.order_id]                        # type: ignore[attr-defined]
    assert ctx.metrics.total("Redemptions", result="ok") == 1


def test_a_second_scan_says_where_and_when_it_was_used(ctx: Context) -> None:
    _, [ticket] = admitted_today(ctx)
    first = scan(ctx, ticket.qr)
    again = scan(ctx, ticket.qr, gate="g2", device="d2")
    assert again.reason is Reason.ALREADY_REDEEMED and again.ticket.redeemed_gate == "g1"   # type: ignore[union-attr]
    assert again.ticket.redeemed_at == first.redeemed_at                    # type: ignore[union-attr]
    assert ctx.metrics.total("RedemptionsRejected") == 1


def test_a_retried_scan_gets_the_first_answer_from_its_own_device_only(ctx: Context) -> None:
    _, [ticket] = admitted_today(ctx)
    first = scan(ctx, ticket.qr, nonce="n1")
    retried = scan(ctx, ticket.qr, nonce="n1")
    assert retried.admitted and retried.redeemed_at == first.redeemed_at
    assert scan(ctx, ticket.qr, device="d2", nonce="n1").reason is Reason.ALREADY_REDEEMED


def test_a_refunded_ticket_is_refused_as_revoked(ctx: Context) -> None:
    order, [ticket] = admitted_today(ctx, admission_open=False)
    refunds.request_refund(ctx, customer(ctx), order.order_id, RefundRequest("ill", None))
    assert scan(ctx, ticket.qr).reason is Reason.REVOKED


def test_a_forged_qr_or_an_unknown_code_is_invalid_and_a_typed_code_admits(ctx: Context) -> None:
    _, [ticket] = admitted_today(ctx)
    forged = ticket.qr.replace(".fake.", ".other.")
    assert scan(ctx, forged).reason is Reason.INVALID
    assert scan(ctx, "0000-0000-0000").reason is Reason.INVALID
    outcome = scan(ctx, display_code(ticket.code))
    assert outcome.admitted and outcome.ticket.code == ticket.code          # type: ignore[union-attr]


def test_a_ticket_admits_only_within_its_validity(ctx: Context) -> None:
    _, [early] = admitted_today(ctx, admission_open=False)                  # its session is in two days
    assert scan(ctx, early.qr).reason is Reason.NOT_YET_VALID
    ctx.clock.advance(days=3)                                               # type: ignore[attr-defined]
    assert scan(ctx, early.qr).reason is Reason.EXPIRED
    assert ctx.tickets.by_code(early.code).status is TicketStatus.VALID     # type: ignore[union-attr]


def test_offline_the_earliest_scan_wins_and_the_later_is_kept_for_review_once(ctx: Context) -> None:
    _, [ticket] = admitted_today(ctx)
    now = ctx.clock.now                                                     # type: ignore[attr-defined]
    later, earlier = now - timedelta(minutes=5), now - timedelta(minutes=10)
    results = upload(ctx, (ticket.qr, "east", later), (ticket.qr, "west", earlier))
    assert results[1].outcome.admitted and results[0].outcome.reason is Reason.ALREADY_REDEEMED
    assert results[0].outcome.conflict is ConflictKind.EARLIER_SCAN
    assert ctx.tickets.by_code(ticket.code).redeemed_gate == "west"         # type: ignore[union-attr]
    assert [c.gate for c in ctx.tickets.conflicts(ticket.code)] == ["east"]  # type: ignore[attr-defined]
    upload(ctx, (ticket.qr, "east", later))                                 # the same queue uploaded again
    assert len(ctx.tickets.conflicts(ticket.code)) == 1                     # type: ignore[attr-defined]
    assert ctx.messages.alert_kinds() == ["scan_conflict"]                  # type: ignore[attr-defined]


def test_an_earlier_offline_scan_takes_over_an_online_one_which_is_kept_for_review(ctx: Context) -> None:
    _, [ticket] = admitted_today(ctx)
    scan(ctx, ticket.qr, gate="online")
    [result] = upload(ctx, (ticket.qr, "offline", ctx.clock.now - timedelta(minutes=30)))  # type: ignore[attr-defined]
    assert result.outcome.admitted
    assert [c.gate for c in ctx.tickets.conflicts(ticket.code)] == ["online"]  # type: ignore[attr-defined]
    assert "scan_conflict" in ctx.messages.alert_kinds()                    # type: ignore[attr-defined]


def test_an_offline_scan_too_old_is_refused_and_raised_once(ctx: Context) -> None:
    _, [ticket] = admitted_today(ctx)
    old = ctx.clock.now - timedelta(hours=73)                               # type: ignore[attr-defined]
    [result] = upload(ctx, (ticket.qr, "east", old))
    assert result.outcome.reason is Reason.INVALID_TIME and result.outcome.conflict is ConflictKind.INVALID_TIME
    upload(ctx, (ticket.qr, "east", old))
    assert ctx.messages.alert_kinds() == ["scan_invalid_time"]              # type: ignore[attr-defined]
    assert ctx.tickets.by_code(ticket.code).status is TicketStatus.VALID    # type: ignore[union-attr]


def test_a_visitor_let_in_offline_before_the_refund_is_kept_inside_and_raised(ctx: Context) -> None:
    order, [ticket] = admitted_today(ctx)
    let_in = ctx.clock.now                                                  # type: ignore[attr-defined]
    ctx.clock.advance(minutes=20)                                           # type: ignore[attr-defined]
    refund = refunds.request_refund(ctx, customer(ctx), order.order_id, RefundRequest("ill", None))
    refunds.approve_refund(ctx, staff("finance", name="fiona"), refund.refund_id)
    [result] = upload(ctx, (ticket.qr, "east", let_in))                     # the gate's queue comes in late
    assert result.outcome.reason is Reason.REVOKED and result.outcome.conflict is ConflictKind.ADMITTED_THEN_REFUNDED
    assert ctx.tickets.by_code(ticket.code).admitted_offline_at == let_in   # type: ignore[union-attr]
    [alert] = [a for a in ctx.messages.alerts if a["kind"] == "admitted_then_refunded"]  # type: ignore[attr-defined]
    assert alert["severity"] == "critical" and alert["refund_id"] == refund.refund_id


def test_the_offline_pack_lists_codes_taken_back_and_what_changed_since(ctx: Context) -> None:
    order, [ticket] = admitted_today(ctx, admission_open=False)
    first = redemption.offline_pack(ctx)
    assert first.revoked == [] and first.keys
    ctx.clock.advance(minutes=2)                                            # type: ignore[attr-defined]
    refunds.request_refund(ctx, customer(ctx), order.order_id, RefundRequest("ill", None))
    since = redemption.offline_pack(ctx, first.next)
    assert [r.ticket_id for r in since.revoked] == [ticket.ticket_id]
    ctx.clock.advance(minutes=5)
    again = redemption.offline_pack(ctx, since.next)                        # within the mark's lag: listed twice
    assert [r.ticket_id for r in again.revoked] == [ticket.ticket_id]
    assert redemption.offline_pack(ctx, again.next).revoked == []
