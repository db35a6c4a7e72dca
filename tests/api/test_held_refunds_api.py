"""A refund WeChat holds (ABNORMAL) keeps its order claimed whatever path led there, and nothing
but WeChat's own word ends it; a visitor known to be inside is never paid back."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from chalicelib import bootstrap
from chalicelib.adapters.tables import OrderRecord, RefundRecord, TicketRecord
from chalicelib.service_layer import refund_queries, refund_settlement
from chalicelib.service_layer.ports import PaymentGatewayError

from .conftest import clock_ahead, iso, merch_body, sandbox
from .test_refund_policy_api import bought, code_of  # noqa: F401
from .test_refunds_api import alerts_of, drain, outcomes, paid, refund_status  # noqa: F401

ADDRESS = {"recipient": "李四", "phone": "13900139000", "region": "上海", "detail": "1 号"}


def ship(staff, order):  # type: ignore[no-untyped-def]
    return staff("support").post(f"/admin/orders/{order['order_id']}/ship", {"carrier": "SF", "tracking_no": "1"})


def test_a_held_refund_survives_a_last_attempt_that_cannot_reach_wechat(  # type: ignore[no-untyped-def]
        paid, staff, deliver_notices, monkeypatch) -> None:
    """An earlier delivery of the refund's message comes back on its last attempt while WeChat
    is unreachable: the refund stays held, its order claimed, WeChat still asked about it."""
    alice, order, _ = paid(merch_body([6]), quantity=1, fulfillment="shipping", address=ADDRESS)
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    outcomes("ABNORMAL")
    assert staff("finance").post(f"/admin/refunds/{refund_id}/approve", {"goods_returned": False}).status_code == 200
    drain()
    deliver_notices()
    ctx = bootstrap.context()

    def down(*_a, **_k):  # type: ignore[no-untyped-def]
        raise PaymentGatewayError("timeout")
    monkeypatch.setattr(ctx.wechat_pay, "refund", down)
    monkeypatch.setattr(ctx.wechat_pay, "query_refund", down)
    assert refund_settlement.process_refund(ctx, refund_id, ctx.refund_max_attempts) == "held"
    # A decision made on a read from before the hold loses too.
    stale = ctx.refunds.get(refund_id)
    assert stale is not None
    stale.gateway_status = None
    assert refund_settlement.fail(ctx, stale, "the last attempt failed") == "skipped"
    monkeypatch.undo()
    record = RefundRecord.get(refund_id)
    assert (record.status, record.gateway_status) == ("PROCESSING", "ABNORMAL") and record.query_due
    assert OrderRecord.get(order["order_id"]).status == "REFUNDING" and ship(staff, order).status_code == 409


def _failed_in_doubt_then_abnormal(alice, staff, order):  # type: ignore[no-untyped-def]
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    outcomes(*["ERROR"] * 10)
    assert staff("finance").post(f"/admin/refunds/{refund_id}/approve", {"goods_returned": False}).status_code == 200
    drain(rounds=12)
    assert refund_status(refund_id) == "FAILED" and OrderRecord.get(order["order_id"]).status == "PAID"
    outcomes("PENDING")                      # WeChat had it after all, and the card is closed
    sandbox().peer.answer("POST", "/v3/refund/domestic/refunds", {
        "out_refund_no": refund_id, "out_trade_no": order["order_id"], "amount": {"refund": order["total"]}})
    return refund_id


def _notify(alice, refund_id: str, state: str) -> None:  # type: ignore[no-untyped-def]
    notice = sandbox().refund_notice_now(refund_id, state)
    assert notice is not None
    r = alice.client.http.post("/payments/wechat/refund-notify", headers=notice.headers, body=notice.body.encode())
    assert r.status_code == 204


def test_a_refund_failed_in_doubt_and_then_held_claims_its_order_again(paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid(merch_body([6]), quantity=1, fulfillment="shipping", address=ADDRESS)
    refund_id = _failed_in_doubt_then_abnormal(alice, staff, order)
    _notify(alice, refund_id, "ABNORMAL")
    assert refund_status(refund_id) == "PROCESSING" and RefundRecord.get(refund_id).gateway_status == "ABNORMAL"
    assert OrderRecord.get(order["order_id"]).status == "REFUNDING" and ship(staff, order).status_code == 409
    assert alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "again"}).status_code == 409
    sandbox().peer.set_refund_state(refund_id, "SUCCESS")             # settled by hand
    with clock_ahead(timedelta(hours=1)) as ctx:
        assert refund_queries.query_processing_refunds(ctx) == 1
    record = RefundRecord.get(refund_id)
    assert (record.status, record.unsettled) == ("SUCCEEDED", None)
    assert OrderRecord.get(order["order_id"]).status == "REFUNDED"


def test_a_refund_held_after_its_goods_shipped_tells_finance_to_settle_it_back(paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, _ = paid(merch_body([6]), quantity=1, fulfillment="shipping", address=ADDRESS)
    refund_id = _failed_in_doubt_then_abnormal(alice, staff, order)
    assert ship(staff, order).status_code == 200                      # the order moved on meanwhile
    _notify(alice, refund_id, "ABNORMAL")
    record = RefundRecord.get(refund_id)
    assert (record.status, record.gateway_status) == ("FAILED", "ABNORMAL")
    (alert,) = [a for a in alerts_of(staff("finance"), "refund_abnormal") if a["details"]["refund_id"] == refund_id]
    assert "not to the customer" in alert["message"]
    _notify(alice, refund_id, "ABNORMAL")                               # said again: no second alert
    assert len([a for a in alerts_of(staff("finance"), "refund_abnormal")
                if a["details"]["refund_id"] == refund_id]) == 1


def test_a_visitor_let_in_before_the_approval_is_never_paid_back_by_a_retry(  # type: ignore[no-untyped-def]
        bought, staff, deliver_notices) -> None:
    alice, order, tickets = bought(admission_open=True, quantity=1)
    let_in = datetime.now(timezone.utc) + timedelta(seconds=1)             # an offline gate, before the request
    time.sleep(2)
    outcomes("CLOSED")
    r1 = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill"}).json_body["refund_id"]
    assert staff("finance").post(f"/admin/refunds/{r1}/approve").status_code == 200
    scan = {"code": tickets[0]["qr"], "gate": "北门", "device_id": "pda-7", "nonce": "n0", "scanned_at": iso(let_in)}
    (result,) = staff("scanner").post("/redemptions/batch", {"scans": [scan]}).json_body["results"]
    assert result["conflict"] == "admitted_then_refunded"
    drain()
    deliver_notices()
    assert refund_status(r1) == "FAILED" and TicketRecord.get(code_of(tickets[0])).admitted_offline_at
    outcomes("SUCCESS")
    retry = staff("finance").post(f"/admin/refunds/{r1}/retry")
    assert retry.status_code == 409 and retry.json_body["code"] == "NOT_REFUNDABLE"
    assert refund_status(r1) == "FAILED"


def test_one_refunds_unexpected_error_does_not_stop_the_query_run(paid, staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first_order, second_order = paid(), paid()
    outcomes("PENDING", "PENDING")
    ids = [alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
           for alice, order, _ in (first_order, second_order)]
    drain()
    for refund_id in ids:
        sandbox().peer.set_refund_state(refund_id, "SUCCESS")
    real = refund_settlement.succeed
    broken = min(ids, key=lambda r: RefundRecord.get(r).next_query_at)    # the one asked about first

    def succeed(ctx, refund, status):  # type: ignore[no-untyped-def]
        if refund.refund_id == broken:
            raise RuntimeError("a bug in one refund's settlement")
        return real(ctx, refund, status)
    monkeypatch.setattr(refund_settlement, "succeed", succeed)
    with clock_ahead(timedelta(hours=1)) as ctx:
        assert refund_queries.query_processing_refunds(ctx) == 2
    other = next(r for r in ids if r != broken)
    assert refund_status(other) == "SUCCEEDED" and refund_status(broken) == "PROCESSING"
    assert int(RefundRecord.get(broken).queries) == 1                     # asked about again later, not first


def test_an_approval_grown_past_one_transaction_is_refused_not_a_500(  # type: ignore[no-untyped-def]
        monkeypatch, bought, staff) -> None:
    """The plan allowed the request; by its approval, more failed refunds hold its tickets than
    one transaction can mark superseded: 422 TOO_MANY_TICKETS, nothing written."""
    from chalicelib.domain.transactions import MAX_ITEMS
    from chalicelib.service_layer import refunds
    alice, order, _ = bought(admission_open=True)
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    assert refund_status(refund_id) == "REQUESTED"
    monkeypatch.setattr(refunds, "approval_items", lambda codes, taken_over: MAX_ITEMS + 1)
    r = staff("finance").post(f"/admin/refunds/{refund_id}/approve")
    assert r.status_code == 422 and r.json_body["code"] == "TOO_MANY_TICKETS"
    assert refund_status(refund_id) == "REQUESTED" and OrderRecord.get(order["order_id"]).status == "PAID"
