"""Refunds through the refunds queue, the refund policy, and stock coming back exactly once."""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

import app as app_module
from chalicelib import bootstrap
from chalicelib.adapters.payment_sandbox import SandboxGateway
from chalicelib.adapters.stock_ledger import StockLedger
from chalicelib.adapters.tables import AuditRecord, OrderRecord, RefundRecord, SkuRecord
from local.aws_resources import deliver_once, sqs_event

from .conftest import merch_body, order_body, ticket_body

REGION = "us-east-1"
REFUNDS, ALERTS = "micromall-test-refunds", "micromall-test-alerts"


def sandbox() -> SandboxGateway:
    gateway = bootstrap.context().payments
    assert isinstance(gateway, SandboxGateway)
    return gateway


def drain(queue: str = REFUNDS, rounds: int = 10) -> None:
    handler = app_module.refunds_worker if queue == REFUNDS else app_module.alerts_worker
    for _ in range(rounds):
        if not deliver_once(queue, handler, REGION):
            return


def gateway_refunds() -> list[dict[str, Any]]:
    return sandbox().refunds()


def ledger_ok(sku_id: str) -> bool:
    return sum(StockLedger().all_movements(sku_id)) == int(SkuRecord.get(sku_id).available)


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


def test_unused_tickets_are_refunded_at_once_and_stock_comes_back(paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    assert SkuRecord.get(sku).sold == 2 and SkuRecord.get(sku).reserved == 0
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "plans changed"})
    assert r.status_code == 202 and r.json_body["status"] == "APPROVED" and r.json_body["amount"] == order["total"]
    refund_id = r.json_body["refund_id"]
    assert {t["status"] for t in alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]} == {"REVOKED"}
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "REFUNDING"
    revoked = staff("scanner").get("/scanner/offline-pack").json_body["revoked"]
    assert len(revoked) == 2
    drain()
    assert gateway_refunds() == [{"out_refund_no": refund_id, "out_trade_no": order["order_id"],
                                  "amount": order["total"]}]
    assert RefundRecord.get(refund_id).status == "SUCCEEDED"
    shown = alice.get(f"/orders/{order['order_id']}").json_body
    assert shown["status"] == "REFUNDED" and [h["status"] for h in shown["history"]][-2:] == ["REFUNDING", "REFUNDED"]
    sku_record = SkuRecord.get(sku)
    assert (int(sku_record.available), int(sku_record.sold)) == (10, 0) and ledger_ok(sku)


def test_partial_refund_by_ticket_ids(paid) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid(quantity=3)
    tickets = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "one is ill", "ticket_ids": [tickets[0]["ticket_id"]]})
    assert r.status_code == 202 and r.json_body["amount"] == order["total"] // 3
    drain()
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "PARTIALLY_REFUNDED"
    assert int(SkuRecord.get(sku).available) == 8 and ledger_ok(sku)
    again = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x", "ticket_ids": [tickets[0]["ticket_id"]]})
    assert again.status_code == 409 and again.json_body["code"] == "NOT_REFUNDABLE"
    rest = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "all of us"})
    assert rest.json_body["amount"] == order["total"] * 2 // 3
    drain()
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "REFUNDED"
    assert sum(r["amount"] for r in gateway_refunds()) == order["total"]


def test_used_tickets_are_not_refundable(paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid(quantity=1)
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


def test_merch_waits_for_review_and_finance_decides(paid, staff) -> None:  # type: ignore[no-untyped-def]
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
    assert RefundRecord.get(refund_id).status == "SUCCEEDED" and int(SkuRecord.get(sku).available) == 6
    assert ledger_ok(sku)
    assert ("cfo", "refund_approved") in {(a.actor, a.action) for a in AuditRecord.scan()}


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


def test_a_redelivered_refund_message_reaches_the_gateway_once(paid) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=REFUNDS)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"refund_id": refund_id}))     # a duplicate delivery
    drain()
    drain()
    assert [r["out_refund_no"] for r in gateway_refunds()] == [refund_id]
    assert int(SkuRecord.get(sku).available) == 10 and ledger_ok(sku)


def test_a_gateway_that_fails_twice_then_succeeds(paid) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    sandbox().fail_next_refunds = 2
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain(rounds=5)
    assert sandbox().fail_next_refunds == 0
    assert RefundRecord.get(refund_id).status == "SUCCEEDED"
    assert [r["out_refund_no"] for r in gateway_refunds()] == [refund_id] and int(SkuRecord.get(sku).available) == 10


def test_a_gateway_that_always_fails_ends_in_the_dead_letter_queue_with_an_alert(paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, sku = paid()
    sandbox().fail_next_refunds = 100
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    drain(rounds=6)
    record = RefundRecord.get(refund_id)
    assert record.status == "FAILED" and "failed as asked" in record.last_error
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.get_queue_url(QueueName=REFUNDS + "-dlq")["QueueUrl"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"]) for m in dead] == [{"refund_id": refund_id}]
    drain(ALERTS)
    alerts = staff("finance").get("/admin/alerts").json_body["items"]
    assert [(a["kind"], a["severity"], a["details"]["refund_id"]) for a in alerts] == [
        ("refund_failed", "critical", refund_id)]
    assert gateway_refunds() == [] and int(SkuRecord.get(sku).available) == 8     # no stock for unpaid-back money


def test_the_refunds_worker_reports_partial_batch_failures(paid) -> None:  # type: ignore[no-untyped-def]
    """Built by hand: chalice's event generator gives every record the same messageId."""
    alice, order, _ = paid()
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"]
    sandbox().fail_next_refunds = 1
    event = sqs_event("arn:aws:sqs:us-east-1:123456789012:" + REFUNDS, [
        {"MessageId": "m-fails", "ReceiptHandle": "r1", "Body": json.dumps({"refund_id": refund_id})},
        {"MessageId": "m-unknown-refund", "ReceiptHandle": "r2", "Body": json.dumps({"refund_id": "RNOPE"})},
        {"MessageId": "m-garbage", "ReceiptHandle": "r3", "Body": "not json"}], REGION)
    answer = app_module.refunds_worker(event, None)
    assert sorted(f["itemIdentifier"] for f in answer["batchItemFailures"]) == ["m-fails", "m-garbage"]


def test_money_for_an_expired_order_is_refunded_through_the_same_path(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5]))
    order = customer().post("/orders", order_body((sku, 1))).json_body
    OrderRecord(order_id=order["order_id"]).update(actions=[OrderRecord.status.set("EXPIRED")])
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    drain()
    assert gateway_refunds() == [{"out_refund_no": gateway_refunds()[0]["out_refund_no"],
                                  "out_trade_no": order["order_id"], "amount": order["total"]}]
    assert OrderRecord.get(order["order_id"]).status == "EXPIRED"
