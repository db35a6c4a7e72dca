"""Refunds through the refunds queue and WeChat's word: PROCESSING until a REFUND.* notice or a
query confirms, stock back exactly once, failures released for a retry or a new request."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

import app as app_module
from chalicelib import bootstrap
from chalicelib.adapters.stock_ledger import StockLedger
from chalicelib.adapters.tables import AuditRecord, OrderRecord, RefundRecord, SkuRecord, TicketRecord
from chalicelib.service_layer.ports import PaymentGatewayError
from local.aws_resources import deliver_once, sqs_event

from .conftest import clock_ahead, merch_body, order_body, sandbox, ticket_body

REGION = "us-east-1"
REFUNDS, ALERTS = "micromall-test-refunds", "micromall-test-alerts"


def drain(queue: str = REFUNDS, rounds: int = 10) -> None:
    handler = app_module.refunds_worker if queue == REFUNDS else app_module.alerts_worker
    for _ in range(rounds):
        if not deliver_once(queue, handler, REGION):
            return


def gateway_refunds() -> list[dict[str, Any]]:
    return sandbox().refunds()


def ledger_ok(sku_id: str) -> bool:
    return sum(StockLedger().all_movements(sku_id)) == int(SkuRecord.get(sku_id).available)


def refund_status(refund_id: str) -> str:
    return RefundRecord.get(refund_id).status


def outcomes(*names: str) -> None:
    sandbox().set_refund_outcomes(list(names))


def alerts_of(api, kind: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    drain(ALERTS)
    return [a for a in api.get("/admin/alerts").json_body["items"] if a["kind"] == kind]


@pytest.fixture
def paid(customer, make_product, anonymous):  # type: ignore[no-untyped-def]
    def buy(body: dict[str, Any] | None = None, quantity: int = 2, **order_extra: Any):  # type: ignore[no-untyped-def]
        product_body = body or ticket_body([10])
        product_body["skus"][0].setdefault("low_stock_threshold", 0)
        _, (sku,) = make_product(product_body)
        alice = customer()
        order = alice.post("/orders", order_body((sku, quantity), **order_extra)).json_body
        assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
        return alice, order, sku
    return buy


def test_a_refund_succeeds_only_when_wechat_confirms_it(paid, staff, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    assert SkuRecord.get(sku).sold == 2 and SkuRecord.get(sku).reserved == 0
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "plans changed"})
    assert r.status_code == 202 and r.json_body["status"] == "APPROVED" and r.json_body["amount"] == order["total"]
    refund_id = r.json_body["refund_id"]
    assert {t["status"] for t in alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]} == {"REVOKED"}
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "REFUNDING"
    assert len(staff("scanner").get("/scanner/offline-pack").json_body["revoked"]) == 2
    drain()
    # WeChat answered PROCESSING: nothing has come back yet.
    assert refund_status(refund_id) == "PROCESSING" and int(SkuRecord.get(sku).available) == 8
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "REFUNDING"
    assert deliver_notices() == [204]                                    # REFUND.SUCCESS
    assert gateway_refunds() == [{"out_refund_no": refund_id, "out_trade_no": order["order_id"],
                                  "amount": order["total"], "status": "SUCCESS"}]
    assert refund_status(refund_id) == "SUCCEEDED"
    shown = alice.get(f"/orders/{order['order_id']}").json_body
    assert shown["status"] == "REFUNDED" and [h["status"] for h in shown["history"]][-2:] == ["REFUNDING", "REFUNDED"]
    sku_record = SkuRecord.get(sku)
    assert (int(sku_record.available), int(sku_record.sold)) == (10, 0) and ledger_ok(sku)


def test_a_redelivered_refund_notice_has_one_effect(paid, anonymous) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    outcomes("PENDING")
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain()
    notice = sandbox().refund_notice_now(refund_id, "SUCCESS")
    assert notice is not None
    for _ in range(3):                                                    # WeChat sends it until it hears 2xx
        r = anonymous.client.http.post("/payments/wechat/refund-notify", headers=notice.headers,
                                       body=notice.body.encode())
        assert r.status_code == 204
    assert refund_status(refund_id) == "SUCCEEDED" and int(SkuRecord.get(sku).available) == 10 and ledger_ok(sku)


def test_a_lost_notice_is_caught_by_the_schedules_query(paid, anonymous) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    outcomes("SUCCESS_NO_NOTICE")
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain()
    assert refund_status(refund_id) == "PROCESSING"
    from chalicelib.service_layer import refund_queries, refund_settlement
    ctx = bootstrap.context()
    assert refund_queries.query_processing_refunds(ctx) == 0             # not due yet
    real = ctx.clock
    ctx.clock = lambda: real() + ctx.refund_query_after  # type: ignore[method-assign]
    try:
        assert refund_queries.query_processing_refunds(ctx) == 1
    finally:
        ctx.clock = real  # type: ignore[method-assign]
    assert refund_status(refund_id) == "SUCCEEDED" and int(SkuRecord.get(sku).available) == 10
    assert OrderRecord.get(order["order_id"]).status == "REFUNDED"


def test_a_refund_still_processing_is_asked_about_at_doubling_intervals(paid) -> None:  # type: ignore[no-untyped-def]
    alice, order, _ = paid()
    outcomes("PENDING")
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain()
    from chalicelib.service_layer import refund_queries, refund_settlement
    ctx = bootstrap.context()
    real = ctx.clock
    waits = []
    try:
        for _ in range(3):
            due = RefundRecord.get(refund_id).next_query_at
            from chalicelib.domain.timeutil import from_storage
            ctx.clock = lambda due=due: from_storage(due)  # type: ignore[misc]
            assert refund_queries.query_processing_refunds(ctx) == 1
            waits.append((from_storage(RefundRecord.get(refund_id).next_query_at) - from_storage(due)).total_seconds())
    finally:
        ctx.clock = real  # type: ignore[method-assign]
    first = ctx.refund_query_after.total_seconds()
    assert waits == [2 * first, 4 * first, 8 * first] and refund_status(refund_id) == "PROCESSING"
    assert int(RefundRecord.get(refund_id).queries) == 3


def test_an_abnormal_refund_is_settled_by_hand_never_sent_again(paid, staff, deliver_notices,  # type: ignore[no-untyped-def]
                                                               anonymous) -> None:
    """ABNORMAL (the customer's card closed or frozen) is not WeChat's last word: the money waits
    at WeChat until staff settle it in the merchant platform. It is never asked for again, by a
    retry or a new request; WeChat is still asked about it; its SUCCESS completes it here."""
    alice, order, sku = paid()
    outcomes("ABNORMAL")
    first = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain()
    deliver_notices()
    assert refund_status(first) == "PROCESSING" and RefundRecord.get(first).gateway_status == "ABNORMAL"
    assert [(a["severity"], a["details"]["refund_id"]) for a in alerts_of(staff("finance"), "refund_abnormal")] == [
        ("critical", first)]
    # The money is in flight (at WeChat): the order stays claimed, nothing is back in stock yet.
    assert OrderRecord.get(order["order_id"]).status == "REFUNDING" and int(SkuRecord.get(sku).available) == 8
    assert {t["status"] for t in alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]} == {"REVOKED"}
    again = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "again"})
    assert again.status_code == 409 and again.json_body["code"] == "NOT_REFUNDABLE"
    retry = staff("finance").post(f"/admin/refunds/{first}/retry")
    assert retry.status_code == 409 and retry.json_body["code"] == "REFUND_ABNORMAL"
    assert [r["out_refund_no"] for r in gateway_refunds()] == [first]          # asked for once, ever
    assert RefundRecord.get(first).query_due                                   # WeChat is still asked
    # Staff settle it in the merchant platform: WeChat reports SUCCESS, and it completes here.
    assert anonymous.post(f"/dev/payments/refunds/{first}/notify", {"status": "SUCCESS"}).json_body == {
        "notify_status": 204}
    assert refund_status(first) == "SUCCEEDED" and not RefundRecord.get(first).query_due
    assert OrderRecord.get(order["order_id"]).status == "REFUNDED" and int(SkuRecord.get(sku).available) == 10
    assert ledger_ok(sku)
    assert sum(r["amount"] for r in gateway_refunds() if r["status"] == "SUCCESS") == order["total"]


def test_an_abnormal_refund_settled_by_hand_is_found_by_the_schedules_query(paid, staff,  # type: ignore[no-untyped-def]
                                                                          deliver_notices) -> None:
    from chalicelib.service_layer import refund_queries, refund_settlement
    alice, order, sku = paid()
    outcomes("ABNORMAL")
    first = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain()
    deliver_notices()
    sandbox().peer.set_refund_state(first, "SUCCESS")                # settled by hand; its notice is lost
    with clock_ahead(timedelta(hours=1)) as ctx:
        assert refund_queries.query_processing_refunds(ctx) == 1
    assert refund_status(first) == "SUCCEEDED" and int(SkuRecord.get(sku).available) == 10


def test_a_closed_refund_is_retried_under_a_new_number(paid, staff, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    outcomes("CLOSED")
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain()
    deliver_notices()
    assert refund_status(refund_id) == "FAILED"
    finance = staff("finance", username="cfo")
    assert finance.post("/admin/refunds/RNOSUCHREFUND000/retry").status_code == 404
    r = finance.post(f"/admin/refunds/{refund_id}/retry")
    assert r.status_code == 202 and r.json_body["status"] == "APPROVED" and r.json_body["out_refund_no"] == refund_id + "-2"
    assert OrderRecord.get(order["order_id"]).status == "REFUNDING"
    drain()
    deliver_notices()
    assert refund_status(refund_id) == "SUCCEEDED" and int(SkuRecord.get(sku).available) == 10 and ledger_ok(sku)
    assert [(g["out_refund_no"], g["status"]) for g in gateway_refunds()] == [
        (refund_id, "CLOSED"), (refund_id + "-2", "SUCCESS")]
    assert ("cfo", "refund_retried") in {(a.actor, a.action) for a in AuditRecord.scan()}
    assert finance.post(f"/admin/refunds/{refund_id}/retry").status_code == 409   # only a FAILED one


def test_a_gateway_that_fails_twice_then_succeeds(paid, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    outcomes("ERROR", "ERROR")
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain(rounds=5)
    deliver_notices()
    assert refund_status(refund_id) == "SUCCEEDED"
    assert [r["out_refund_no"] for r in gateway_refunds()] == [refund_id] and int(SkuRecord.get(sku).available) == 10


def test_the_last_failed_attempt_fails_the_refund_and_a_retry_sends_the_same_number(paid, staff, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    outcomes(*["ERROR"] * 3)                                             # REFUND_MAX_ATTEMPTS is 3 in tests
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain(rounds=6)
    record = RefundRecord.get(refund_id)
    assert record.status == "FAILED" and "not accepted by WeChat Pay" in record.last_error
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.get_queue_url(QueueName=REFUNDS + "-dlq")["QueueUrl"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"]) for m in dead] == [{"refund_id": refund_id}]
    finance = staff("finance")
    assert [a["details"]["refund_id"] for a in alerts_of(finance, "refund_failed")] == [refund_id]
    assert gateway_refunds() == [] and int(SkuRecord.get(sku).available) == 8     # no stock for unpaid-back money
    assert OrderRecord.get(order["order_id"]).status == "PAID"
    r = finance.post(f"/admin/refunds/{refund_id}/retry")
    assert r.status_code == 202 and r.json_body["out_refund_no"] == refund_id      # WeChat never had it
    drain()
    deliver_notices()
    assert refund_status(refund_id) == "SUCCEEDED" and OrderRecord.get(order["order_id"]).status == "REFUNDED"


def test_a_refund_failed_in_doubt_and_confirmed_late_is_settled_once(paid, deliver_notices, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The request reached WeChat but every answer was lost, and WeChat could not be asked
    either: the refund is FAILED in doubt. WeChat's SUCCESS notice, later, settles it."""
    alice, order, sku = paid()
    outcomes("PENDING")
    gateway = sandbox()
    real_refund = gateway.refund

    def answer_lost(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_refund(*args, **kwargs)
        raise PaymentGatewayError("timed out")
    monkeypatch.setattr(gateway, "refund", answer_lost)
    monkeypatch.setattr(gateway, "query_refund", lambda *a: (_ for _ in ()).throw(PaymentGatewayError("down")))
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain(rounds=6)
    assert refund_status(refund_id) == "FAILED" and OrderRecord.get(order["order_id"]).status == "PAID"
    notice = gateway.refund_notice_now(refund_id, "SUCCESS")
    assert notice is not None
    r = alice.client.http.post("/payments/wechat/refund-notify", headers=notice.headers, body=notice.body.encode())
    assert r.status_code == 204
    assert refund_status(refund_id) == "SUCCEEDED" and OrderRecord.get(order["order_id"]).status == "REFUNDED"
    assert int(SkuRecord.get(sku).available) == 10 and ledger_ok(sku)


def test_refund_outcomes_are_validated(anonymous) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.post("/dev/payments/refund-outcomes", {"outcomes": ["MAYBE"]})
    assert r.status_code == 400 and r.json_body["code"] == "VALIDATION_ERROR"
    assert anonymous.post("/dev/payments/refunds/RNOPE/notify", {"status": "SUCCESS"}).status_code == 404


def test_partial_refund_by_ticket_ids(paid, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid(quantity=3)
    tickets = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "one is ill", "ticket_ids": [tickets[0]["ticket_id"]]})
    assert r.status_code == 202 and r.json_body["amount"] == order["total"] // 3
    drain()
    deliver_notices()
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "PARTIALLY_REFUNDED"
    assert int(SkuRecord.get(sku).available) == 8 and ledger_ok(sku)
    again = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x", "ticket_ids": [tickets[0]["ticket_id"]]})
    assert again.status_code == 409 and again.json_body["code"] == "NOT_REFUNDABLE"
    rest = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "all of us"})
    assert rest.json_body["amount"] == order["total"] * 2 // 3
    drain()
    deliver_notices()
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "REFUNDED"
    assert sum(r["amount"] for r in gateway_refunds()) == order["total"]


def test_used_tickets_are_not_refundable(paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid(ticket_body([10], admission_open=True), quantity=1)
    (ticket,) = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    assert staff("scanner").post("/redemptions", {"code": ticket["qr"], "gate": "G", "device_id": "d"}).status_code == 200
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "didn't like it"})
    assert r.status_code == 409 and r.json_body["code"] == "NOT_REFUNDABLE"
    assert RefundRecord.count() == 0 and OrderRecord.get(order["order_id"]).status == "PAID"


def test_refunds_only_for_paid_orders_of_their_owner(customer, make_product, paid) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5]))
    bob = customer()
    pending = bob.post("/orders", order_body((sku, 1))).json_body
    r = bob.post(f"/orders/{pending['order_id']}/refunds", {"reason": "x"})
    assert r.status_code == 409 and r.json_body["code"] == "INVALID_STATE"
    _, order, _ = paid()
    assert bob.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).status_code == 404
    assert bob.post(f"/orders/{order['order_id']}/refunds", {"reason": 5}).status_code in (400, 404)


def test_merch_waits_for_review_and_finance_decides(paid, staff, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid(merch_body([6]), quantity=2)
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "wrong colour"})
    assert r.status_code == 202 and r.json_body["status"] == "REQUESTED"
    refund_id = r.json_body["refund_id"]
    again = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "really"})
    assert again.status_code == 409                                     # the goods are already claimed
    support, finance = staff("support"), staff("finance", username="cfo")
    listed = support.get("/admin/refunds?status=REQUESTED").json_body["items"]
    assert [x["refund_id"] for x in listed] == [refund_id]
    assert support.post(f"/admin/refunds/{refund_id}/approve").status_code == 403
    approved = finance.post(f"/admin/refunds/{refund_id}/approve")
    assert approved.status_code == 200 and approved.json_body["status"] == "APPROVED"
    assert finance.post(f"/admin/refunds/{refund_id}/approve").status_code == 409
    drain()
    deliver_notices()
    assert RefundRecord.get(refund_id).status == "SUCCEEDED" and int(SkuRecord.get(sku).available) == 6
    assert ledger_ok(sku)
    assert ("cfo", "refund_approved") in {(a.actor, a.action) for a in AuditRecord.scan()}


def test_a_refunded_pickup_code_no_longer_hands_out_the_goods(paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, _ = paid(merch_body([6]), quantity=1, fulfillment="pickup")
    pickup = alice.get(f"/orders/{order['order_id']}").json_body["pickup"]
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "changed my mind"}).json_body["refund_id"]
    assert staff("finance").post(f"/admin/refunds/{refund_id}/approve").status_code == 200
    # Revoked in the approving transaction, before any money moved.
    assert alice.get(f"/orders/{order['order_id']}").json_body["pickup"]["status"] == "REVOKED"
    r = staff("scanner").post("/redemptions", {"code": pickup["code"], "gate": "shop", "device_id": "till"})
    assert r.status_code == 409 and r.json_body["reason"] == "revoked"
    assert staff("scanner").get("/scanner/offline-pack").json_body["revoked"] != []


def test_goods_already_collected_come_back_before_the_money(paid, staff, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid(merch_body([6]), quantity=1, fulfillment="pickup")
    pickup = alice.get(f"/orders/{order['order_id']}").json_body["pickup"]
    # Asked before the handover (after it, goods come back through after-sales: USE_AFTER_SALES).
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "broken"}).json_body["refund_id"]
    assert staff("scanner").post("/redemptions", {"code": pickup["code"], "gate": "shop", "device_id": "till"}
                                 ).status_code == 200
    finance = staff("finance")
    r = finance.post(f"/admin/refunds/{refund_id}/approve")
    assert r.status_code == 409 and r.json_body["code"] == "GOODS_NOT_RETURNED"
    assert refund_status(refund_id) == "REQUESTED" and OrderRecord.get(order["order_id"]).status != "REFUNDING"
    r = finance.post(f"/admin/refunds/{refund_id}/approve", {"goods_returned": True})
    assert r.status_code == 200 and r.json_body["goods_returned"] is True
    assert TicketRecord.get(pickup["code"].replace("-", "")).status == "REVOKED"
    drain()
    deliver_notices()
    assert refund_status(refund_id) == "SUCCEEDED" and int(SkuRecord.get(sku).available) == 6


def test_shipped_goods_come_back_before_the_money(paid, staff) -> None:  # type: ignore[no-untyped-def]
    address = {"recipient": "李四", "phone": "13900139000", "region": "上海", "detail": "1 号"}
    alice, order, _ = paid(merch_body([6]), quantity=1, fulfillment="shipping", address=address)
    assert staff("support").post(f"/admin/orders/{order['order_id']}/ship",
                                 {"carrier": "SF", "tracking_no": "SF1"}).status_code == 200
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "broken"}).json_body["refund_id"]
    finance = staff("finance")
    r = finance.post(f"/admin/refunds/{refund_id}/approve")
    assert r.status_code == 409 and r.json_body["code"] == "GOODS_NOT_RETURNED"
    assert finance.post(f"/admin/refunds/{refund_id}/approve", {"goods_returned": "yes"}).status_code == 400
    assert finance.post(f"/admin/refunds/{refund_id}/approve", {"goods_returned": True}).status_code == 200
    assert OrderRecord.get(order["order_id"]).status == "REFUNDING"


def test_customers_see_status_amount_and_reason_not_staff_or_gateway(paid, staff, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, _ = paid(merch_body([6]), quantity=1)
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    outcomes("ABNORMAL")
    staff("finance", username="cfo").post(f"/admin/refunds/{refund_id}/approve")
    drain()
    deliver_notices()
    (mine,) = alice.get(f"/orders/{order['order_id']}/refunds").json_body["items"]
    assert mine["status"] == "PROCESSING" and not {"decided_by", "last_error", "gateway_status", "out_refund_no"} & set(mine)
    (theirs,) = staff("support").get(f"/orders/{order['order_id']}/refunds").json_body["items"]
    assert theirs["decided_by"] == "cfo" and theirs["gateway_status"] == "ABNORMAL"
    history = alice.get(f"/orders/{order['order_id']}").json_body["history"]
    assert "cfo" not in {h["by"] for h in history} and "staff" in {h["by"] for h in history}


def test_rejected_requests_are_audited_and_may_be_asked_again(paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, _ = paid(merch_body([6]), quantity=1)
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "meh"}).json_body["refund_id"]
    finance = staff("finance", username="cfo")
    assert finance.post(f"/admin/refunds/{refund_id}/reject", {}).status_code == 400
    r = finance.post(f"/admin/refunds/{refund_id}/reject", {"reason": "used and washed"})
    assert r.status_code == 200 and r.json_body["status"] == "REJECTED"
    assert r.json_body["reject_reason"] == "used and washed"
    assert ("cfo", "refund_rejected") in {(a.actor, a.action) for a in AuditRecord.scan()}
    assert alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "please"}).json_body["status"] == "REQUESTED"
    drain()
    assert gateway_refunds() == []


def test_a_redelivered_refund_message_reaches_the_gateway_once(paid, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=REFUNDS)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"refund_id": refund_id}))     # a duplicate delivery
    drain()
    drain()
    deliver_notices()
    assert [r["out_refund_no"] for r in gateway_refunds()] == [refund_id]
    assert int(SkuRecord.get(sku).available) == 10 and ledger_ok(sku)


def test_the_refunds_worker_reports_partial_batch_failures(paid) -> None:  # type: ignore[no-untyped-def]
    """Built by hand: chalice's event generator gives every record the same messageId."""
    alice, order, _ = paid()
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    outcomes("ERROR")
    event = sqs_event("arn:aws:sqs:us-east-1:123456789012:" + REFUNDS, [
        {"MessageId": "m-fails", "ReceiptHandle": "r1", "Body": json.dumps({"refund_id": refund_id})},
        {"MessageId": "m-unknown-refund", "ReceiptHandle": "r2", "Body": json.dumps({"refund_id": "RNOPE"})},
        {"MessageId": "m-garbage", "ReceiptHandle": "r3", "Body": "not json"}], REGION)
    answer = app_module.refunds_worker(event, None)
    assert sorted(f["itemIdentifier"] for f in answer["batchItemFailures"]) == ["m-fails", "m-garbage"]


def test_money_for_an_expired_order_is_refunded_through_the_same_path(customer, make_product, anonymous,
                                                                       deliver_notices) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5]))
    order = customer().post("/orders", order_body((sku, 1))).json_body
    OrderRecord(order_id=order["order_id"]).update(actions=[OrderRecord.status.set("EXPIRED")])
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    drain()
    deliver_notices()
    (refund,) = gateway_refunds()
    assert (refund["out_trade_no"], refund["amount"], refund["status"]) == (order["order_id"], order["total"], "SUCCESS")
    assert RefundRecord.get(refund["out_refund_no"]).status == "SUCCEEDED"
    assert OrderRecord.get(order["order_id"]).status == "EXPIRED"


def _in_doubt(monkeypatch, gateway) -> None:  # type: ignore[no-untyped-def]
    """The refund request reaches WeChat but every answer is lost, and WeChat cannot be asked."""
    real_refund = gateway.refund

    def answer_lost(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_refund(*args, **kwargs)
        raise PaymentGatewayError("timed out")
    monkeypatch.setattr(gateway, "refund", answer_lost)
    monkeypatch.setattr(gateway, "query_refund", lambda *a: (_ for _ in ()).throw(PaymentGatewayError("down")))


def test_a_refund_failed_in_doubt_is_not_taken_over_while_wechat_still_has_it(paid, deliver_notices,
                                                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid(quantity=3)
    outcomes("PENDING")
    gateway = sandbox()
    _in_doubt(monkeypatch, gateway)
    (first, *_) = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    r1 = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x", "ticket_ids": [first["ticket_id"]]})
    drain(rounds=6)
    assert refund_status(r1.json_body["refund_id"]) == "FAILED"
    monkeypatch.undo()
    # WeChat is asked before the ticket is taken over: it is still processing the first refund.
    again = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x", "ticket_ids": [first["ticket_id"]]})
    assert again.status_code == 409 and again.json_body["code"] == "INVALID_STATE"
    gateway.refund_notice_now(r1.json_body["refund_id"], "SUCCESS")
    later = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x", "ticket_ids": [first["ticket_id"]]})
    assert later.status_code == 409 and later.json_body["code"] == "NOT_REFUNDABLE"     # it was paid back
    assert refund_status(r1.json_body["refund_id"]) == "SUCCEEDED"
    assert sum(g["amount"] for g in gateway_refunds() if g["status"] == "SUCCESS") == order["total"] // 3
    assert OrderRecord.get(order["order_id"]).status == "PARTIALLY_REFUNDED" and ledger_ok(sku)


def test_codes_refunded_together_are_asked_for_together(paid, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, _ = paid(quantity=3)
    outcomes("CLOSED")
    tickets = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    first = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain()
    deliver_notices()
    assert refund_status(first) == "FAILED"
    partial = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x", "ticket_ids": [tickets[0]["ticket_id"]]})
    assert partial.status_code == 409 and partial.json_body["code"] == "NOT_REFUNDABLE"
    assert sorted(partial.json_body["details"]["ticket_ids"]) == sorted(t["ticket_id"] for t in tickets)
    assert not RefundRecord.get(first).superseded_by                   # nothing was left behind
    whole = alice.post(f"/orders/{order['order_id']}/refunds",
                       {"reason": "x", "ticket_ids": [t["ticket_id"] for t in tickets]})
    assert whole.status_code == 202 and whole.json_body["amount"] == order["total"]


def test_a_success_that_loses_its_race_with_a_failure_is_still_settled(paid) -> None:  # type: ignore[no-untyped-def]
    """The worker fails a refund at the moment WeChat's SUCCESS arrives, read while PROCESSING:
    the success is decided again on the refund as it is now, never dropped."""
    from chalicelib.service_layer import refund_queries, refund_settlement
    alice, order, sku = paid()
    outcomes("PENDING")
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain()
    ctx = bootstrap.context()
    as_read = ctx.refunds.get(refund_id)
    assert as_read is not None and as_read.status.value == "PROCESSING"
    assert refund_settlement.fail(ctx, as_read, "the last attempt failed") == "failed"
    assert refund_settlement.succeed(ctx, as_read, "SUCCESS") == "succeeded"
    assert refund_status(refund_id) == "SUCCEEDED" and OrderRecord.get(order["order_id"]).status == "REFUNDED"
    assert int(SkuRecord.get(sku).available) == 10 and ledger_ok(sku)


def test_goods_are_not_shipped_while_their_refund_is_in_flight(paid, staff) -> None:  # type: ignore[no-untyped-def]
    address = {"recipient": "李四", "phone": "13900139000", "region": "上海", "detail": "1 号"}
    alice, order, _ = paid(merch_body([6]), quantity=1, fulfillment="shipping", address=address)
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "no longer needed"}).json_body["refund_id"]
    support = staff("support")
    r = support.post(f"/admin/orders/{order['order_id']}/ship", {"carrier": "SF", "tracking_no": "1"})
    assert r.status_code == 409 and r.json_body["code"] == "INVALID_STATE"          # requested: goods claimed
    assert staff("finance").post(f"/admin/refunds/{refund_id}/approve").status_code == 200
    r = support.post(f"/admin/orders/{order['order_id']}/ship", {"carrier": "SF", "tracking_no": "1"})
    assert r.status_code == 409 and OrderRecord.get(order["order_id"]).shipment is None


def test_goods_whose_refund_wechat_holds_are_neither_shipped_nor_refunded_again(  # type: ignore[no-untyped-def]
        paid, staff, deliver_notices) -> None:
    """ABNORMAL on goods to ship: WeChat holds the money, so the refund stays in flight and its
    order claimed. The parcel does not go out and the goods are not asked for again; the
    settlement by hand then completes it, the goods never shipped."""
    from chalicelib.service_layer import refund_queries, refund_settlement
    address = {"recipient": "李四", "phone": "13900139000", "region": "上海", "detail": "1 号"}
    alice, order, sku = paid(merch_body([6]), quantity=1, fulfillment="shipping", address=address)
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    outcomes("ABNORMAL")
    assert staff("finance").post(f"/admin/refunds/{refund_id}/approve", {"goods_returned": False}).status_code == 200
    drain()
    deliver_notices()
    assert refund_status(refund_id) == "PROCESSING" and OrderRecord.get(order["order_id"]).status == "REFUNDING"
    ship = staff("support").post(f"/admin/orders/{order['order_id']}/ship", {"carrier": "SF", "tracking_no": "1"})
    assert ship.status_code == 409 and OrderRecord.get(order["order_id"]).shipment is None
    again = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "again"})
    assert again.status_code == 409
    retry = staff("finance").post(f"/admin/refunds/{refund_id}/retry")
    assert retry.status_code == 409 and retry.json_body["code"] == "REFUND_ABNORMAL"
    assert [r["out_refund_no"] for r in gateway_refunds()] == [refund_id]          # asked for once
    # Staff settle it in the merchant platform: WeChat reports SUCCESS (its notice lost) and the
    # schedule's query completes it; the goods were never shipped.
    sandbox().peer.set_refund_state(refund_id, "SUCCESS")
    with clock_ahead(timedelta(hours=1)) as ctx:
        assert refund_queries.query_processing_refunds(ctx) == 1
    assert refund_status(refund_id) == "SUCCEEDED" and OrderRecord.get(order["order_id"]).status == "REFUNDED"
    assert int(SkuRecord.get(sku).available) == 6 and ledger_ok(sku)


def test_a_held_refund_wechat_closes_after_all_releases_its_order_and_is_asked_no_more(  # type: ignore[no-untyped-def]
        paid, staff, deliver_notices) -> None:
    """WeChat's documentation does not say an ABNORMAL refund can end CLOSED; if WeChat ever
    says so, the money is back at the merchant: the refund fails, its order is free for a new
    request, and WeChat is not asked about it every six hours for ever."""
    from chalicelib.adapters.payment_sandbox_records import SandboxRecord
    from chalicelib.service_layer import refund_queries, refund_settlement
    alice, order, sku = paid()
    outcomes("ABNORMAL")
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain()
    deliver_notices()
    assert refund_status(refund_id) == "PROCESSING"
    SandboxRecord(kind="refund", key=refund_id).update(actions=[SandboxRecord.state.set("CLOSED")])
    with clock_ahead(timedelta(hours=1)) as ctx:
        assert refund_queries.query_processing_refunds(ctx) == 1
    record = RefundRecord.get(refund_id)
    assert (record.status, record.gateway_status, record.query_due) == ("FAILED", "CLOSED", None)
    assert OrderRecord.get(order["order_id"]).status == "PAID"
    retried = staff("finance").post(f"/admin/refunds/{refund_id}/retry")
    assert retried.status_code == 202 and retried.json_body["out_refund_no"] == refund_id + "-2"


def test_a_late_success_for_goods_shipped_meanwhile_is_recorded_and_alerted_not_restocked(
        paid, staff, deliver_notices, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    address = {"recipient": "李四", "phone": "13900139000", "region": "上海", "detail": "1 号"}
    alice, order, sku = paid(merch_body([6]), quantity=1, fulfillment="shipping", address=address)
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    outcomes("PENDING")
    finance = staff("finance")
    assert finance.post(f"/admin/refunds/{refund_id}/approve").status_code == 200
    _in_doubt(monkeypatch, sandbox())
    drain(rounds=6)
    monkeypatch.undo()
    assert refund_status(refund_id) == "FAILED" and OrderRecord.get(order["order_id"]).status == "PAID"
    assert staff("support").post(f"/admin/orders/{order['order_id']}/ship",
                                 {"carrier": "SF", "tracking_no": "1"}).status_code == 200
    notice = sandbox().refund_notice_now(refund_id, "SUCCESS")
    assert notice is not None
    assert alice.client.http.post("/payments/wechat/refund-notify", headers=notice.headers,
                                  body=notice.body.encode()).status_code == 204
    assert refund_status(refund_id) == "SUCCEEDED"                     # the money record follows WeChat
    assert int(SkuRecord.get(sku).available) == 5                       # the parcel is out: no stock back
    assert OrderRecord.get(order["order_id"]).status == "SHIPPED"
    assert [a["details"]["refund_id"] for a in alerts_of(finance, "refund_twice")] == [refund_id]


def test_only_a_requested_refund_can_be_approved(paid, staff, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order, _ = paid()
    outcomes("CLOSED")
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain()
    deliver_notices()
    r = staff("finance").post(f"/admin/refunds/{refund_id}/approve")
    assert r.status_code == 409 and r.json_body["code"] == "INVALID_STATE" and refund_status(refund_id) == "FAILED"


def test_a_refunded_shipped_order_stops_waiting_for_its_receipt(paid, staff, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    address = {"recipient": "李四", "phone": "13900139000", "region": "上海", "detail": "1 号"}
    alice, order, _ = paid(merch_body([6]), quantity=1, fulfillment="shipping", address=address)
    staff("support").post(f"/admin/orders/{order['order_id']}/ship", {"carrier": "SF", "tracking_no": "1"})
    assert OrderRecord.get(order["order_id"]).awaiting_receipt.startswith("shipped#")
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    outcomes("CLOSED")
    staff("finance").post(f"/admin/refunds/{refund_id}/approve", {"goods_returned": True})
    assert OrderRecord.get(order["order_id"]).awaiting_receipt is None
    drain()
    deliver_notices()                                                   # CLOSED: back to SHIPPED
    record = OrderRecord.get(order["order_id"])
    assert record.status == "SHIPPED" and record.awaiting_receipt.startswith("shipped#") and record.receipt_due_at


def test_a_refund_of_two_skus_of_one_limited_product_gives_its_counter_back_once(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, deliver_notices) -> None:
    """Both SKUs count against one purchase-limit counter: the refund's transaction writes that
    counter once (DynamoDB refuses a transaction that writes one item twice)."""
    _, (adult, child) = make_product(ticket_body([10, 10], purchase_limit=4))
    alice = customer()
    order = alice.post("/orders", order_body((adult, 2), (child, 2))).json_body
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
    assert alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "rain"}).status_code == 202
    drain()
    deliver_notices()
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "REFUNDED"
    assert (int(SkuRecord.get(adult).available), int(SkuRecord.get(child).available)) == (10, 10)
    assert alice.post("/orders", order_body((adult, 4))).status_code == 201      # the limit is free again
