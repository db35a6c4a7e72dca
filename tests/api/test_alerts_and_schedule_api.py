"""Low-stock alerts (once per crossing), the SNS topic, and the every-minute schedule."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3

import app as app_module
from chalicelib import bootstrap
from chalicelib.adapters.stock_ledger import StockLedger
from chalicelib.service_layer.ports import PaymentGatewayError
from chalicelib.service_layer.queue_messages import MessageType
from chalicelib.adapters.tables import OrderRecord, ProductRecord, PurchaseCounterRecord, SkuRecord
from chalicelib.adapters.order_records import index_keys
from local.aws_resources import deliver_once

from .conftest import Api, deliver_expiries, iso, merch_body, order_body, sandbox, ticket_body

REGION, ALERTS, TOPIC = "us-east-1", "micromall-test-alerts", "arn:aws:sns:us-east-1:123456789012:micromall-test-alerts"

TICK = {"version": "0", "account": "1", "region": REGION, "detail": {}, "detail-type": "Scheduled Event",
        "source": "aws.events", "time": "2026-01-01T00:00:00Z", "id": "x", "resources": []}


def drain_alerts() -> None:
    while deliver_once(ALERTS, app_module.alerts_worker, REGION):
        pass


def low_stock_alerts(api: Api) -> list[dict]:  # type: ignore[type-arg]
    drain_alerts()
    return [a for a in api.get("/admin/alerts").json_body["items"] if a["kind"] == "low_stock"]


def subscribe_to_topic() -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="ops-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=arn,
                                                      Attributes={"RawMessageDelivery": "true"})
    return url


def test_a_low_stock_alert_fires_once_per_crossing_and_rearms(customer, make_product, admin: Api) -> None:  # type: ignore[no-untyped-def]
    inbox = subscribe_to_topic()
    body = merch_body([5])
    body["skus"][0]["low_stock_threshold"] = 3
    _, (sku,) = make_product(body)
    alice = customer()
    alice.post("/orders", order_body((sku, 3)))                      # 5 -> 2: crosses below 3
    assert len(low_stock_alerts(admin)) == 1
    alice.post("/orders", order_body((sku, 1)))                      # 2 -> 1: still below, no new alert
    assert len(low_stock_alerts(admin)) == 1
    admin.post(f"/admin/inventory/{sku}/adjustments", {"delta": 10, "reason": "delivery"})   # 11: re-armed
    assert len(low_stock_alerts(admin)) == 1 and not SkuRecord.get(sku).low_stock_alerted
    customer().post("/orders", order_body((sku, 9)))                      # 11 -> 2: a new crossing
    alerts = low_stock_alerts(admin)
    assert len(alerts) == 2 and alerts[0]["details"] == {"sku_id": sku, "product_id": alerts[0]["details"]["product_id"],
                                                         "available": 2, "low_stock_threshold": 3}
    published = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)
    assert [json.loads(m["Body"])["kind"] for m in published.get("Messages", [])] == ["low_stock", "low_stock"]


def test_a_redelivered_alert_is_stored_once(admin: Api) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=ALERTS)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"type": "alert", "kind": "scan_conflict", "message": "m"}))
    received = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    from local.aws_resources import sqs_event
    event = sqs_event("arn:aws:sqs:us-east-1:123456789012:" + ALERTS, received, REGION)
    app_module.alerts_worker(event, None)
    app_module.alerts_worker(event, None)                            # the same message again
    assert [a["kind"] for a in admin.get("/admin/alerts").json_body["items"]] == ["scan_conflict"]


def test_every_message_type_has_a_handler_and_an_unknown_one_is_dropped(admin: Api) -> None:
    from chalicelib.api.events import _HANDLERS
    assert set(_HANDLERS) == set(MessageType)
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=ALERTS)["QueueUrl"]
    for body in ({"type": "no_such_type", "kind": "x"}, {"type": ["alert"], "kind": "x"}, {"kind": "x"}):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    received = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MaxNumberOfMessages=10)["Messages"]
    from local.aws_resources import sqs_event
    answer = app_module.alerts_worker(sqs_event("arn:aws:sqs:us-east-1:123456789012:" + ALERTS, received, REGION), None)
    assert len(received) == 3 and answer["batchItemFailures"] == []        # dropped, not sent again
    assert admin.get("/admin/alerts").json_body["items"] == []


def later(minutes: int):  # type: ignore[no-untyped-def]
    ctx = bootstrap.context()
    real = ctx.clock
    ctx.clock = lambda: real() + timedelta(minutes=minutes)  # type: ignore[method-assign]
    return ctx, real


def test_the_schedule_expires_unpaid_orders_and_returns_their_stock(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5], purchase_limit=4))
    alice = customer()
    stale = alice.post("/orders", order_body((sku, 3))).json_body
    ctx, real = later(16)
    try:
        fresh = alice.post("/orders", order_body((sku, 1))).json_body
        done = app_module.every_minute(TICK, None)
        done.pop("reconciled")          # whether yesterday is due depends on the hour the test runs
        assert done == {"expiries_due": 1, "listing_changes": 0, "refunds_resent": 0, "refunds_queried": 0,
                        "received": 0, "reminders": 0}
        deliver_expiries()              # the expiry worker, as its Lambda takes the queue
    finally:
        ctx.clock = real  # type: ignore[method-assign]
    assert OrderRecord.get(stale["order_id"]).status == "EXPIRED"
    assert OrderRecord.get(fresh["order_id"]).status == "PENDING_PAYMENT"
    record = SkuRecord.get(sku)
    assert (int(record.available), int(record.reserved)) == (4, 1)
    assert sum(StockLedger().all_movements(sku)) == 4
    (counter,) = [c for c in PurchaseCounterRecord.scan() if not c.counter_id.endswith("#unpaid")]   # tests may scan
    assert int(counter.quantity) == 1                                  # the expired order's units are back
    assert {o.order_id for k in index_keys("pending") for o in OrderRecord.pending_expiry_index.query(k)} == {fresh["order_id"]}
    assert sandbox().trade_state(stale["order_id"]) == "CLOSED"          # closed at WeChat before expiring
    # the customer can no longer pay it: WeChat refuses the payment
    refused = anonymous.post(f"/dev/payments/{stale['order_id']}/succeed", {})
    assert refused.status_code == 409 and refused.json_body["code"] == "TRADE_CLOSED"
    assert OrderRecord.get(stale["order_id"]).status == "EXPIRED"


def test_an_order_paid_at_wechat_whose_notice_was_lost_is_confirmed_not_expired(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 2))).json_body
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"notify": False}).json_body["notify_status"] is None
    assert OrderRecord.get(order["order_id"]).status == "PENDING_PAYMENT"     # the notice never came
    ctx, real = later(16)
    try:
        assert app_module.every_minute(TICK, None)["expiries_due"] == 1
        deliver_expiries()
    finally:
        ctx.clock = real  # type: ignore[method-assign]
    assert OrderRecord.get(order["order_id"]).status == "PAID"
    assert len(alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]) == 2
    record = SkuRecord.get(sku)
    assert (int(record.available), int(record.reserved), int(record.sold)) == (3, 0, 2)
    # the notice, delivered late after all, is a duplicate: no second effect, no refund
    trade = sandbox().peer.trade(order["order_id"])
    late = sandbox().payment_notice(order["order_id"], order["total"], None, transaction_id=trade.transaction_id)
    assert anonymous.client.http.post("/payments/wechat/notify", headers=late.headers,
                                      body=late.body.encode()).status_code == 204
    from chalicelib.adapters.tables import RefundRecord
    assert RefundRecord.count() == 0 and int(SkuRecord.get(sku).sold) == 2


def test_an_order_is_not_expired_while_wechat_cannot_be_asked(customer, make_product, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5]))
    order = customer().post("/orders", order_body((sku, 1))).json_body
    monkeypatch.setattr(sandbox(), "query", lambda *a: (_ for _ in ()).throw(PaymentGatewayError("down")))
    ctx, real = later(16)
    try:
        assert app_module.every_minute(TICK, None)["expiries_due"] == 1
        deliver_expiries()
    finally:
        ctx.clock = real  # type: ignore[method-assign]
    assert OrderRecord.get(order["order_id"]).status == "PENDING_PAYMENT"
    assert sandbox().trade_state(order["order_id"]) == "NOTPAY"


def test_a_trade_micromall_never_saw_is_recorded_at_wechat(anonymous) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.post("/dev/payments/OFFLINE-CASHIER-0001/succeed", {"notify": False, "amount": 1200})
    assert r.status_code == 200 and r.json_body["notify_status"] == None
    assert sandbox().trade_state("OFFLINE-CASHIER-0001") == "SUCCESS"
    assert anonymous.post("/dev/payments/OFFLINE-CASHIER-0002/succeed", {"notify": False}).status_code == 400
    assert anonymous.post("/dev/payments/bad id!/succeed", {"notify": False, "amount": 1}).status_code == 400


def test_receipt_completes_a_shipped_order_and_the_schedule_does_it_after_auto_receipt_days(
        customer, make_product, anonymous, staff) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(merch_body([9]))
    address = {"recipient": "李四", "phone": "13900139000", "region": "上海", "detail": "1 号"}
    alice = customer()
    orders = [alice.post("/orders", order_body((sku, 1), fulfillment="shipping", address=address)).json_body
              for _ in range(2)]
    assert alice.post(f"/orders/{orders[0]['order_id']}/receipt").json_body["code"] == "INVALID_STATE"   # unpaid
    support = staff("support")
    for o in orders:
        anonymous.post(f"/dev/payments/{o['order_id']}/succeed", {})
        assert support.post(f"/admin/orders/{o['order_id']}/ship", {"carrier": "SF", "tracking_no": "1"}
                            ).status_code == 200
    received = alice.post(f"/orders/{orders[0]['order_id']}/receipt")
    assert received.status_code == 200 and received.json_body["status"] == "COMPLETED"
    assert received.json_body["history"][-1]["by"] == "customer"
    assert alice.post(f"/orders/{orders[0]['order_id']}/receipt").status_code == 409
    assert customer().post(f"/orders/{orders[1]['order_id']}/receipt").status_code == 404
    ctx = bootstrap.context()
    real = ctx.clock
    ctx.clock = lambda: real() + ctx.auto_receipt_after - timedelta(minutes=1)  # type: ignore[method-assign]
    try:
        assert app_module.every_minute(TICK, None)["received"] == 0
        ctx.clock = lambda: real() + ctx.auto_receipt_after + timedelta(minutes=1)  # type: ignore[method-assign]
        assert app_module.every_minute(TICK, None)["received"] == 1
    finally:
        ctx.clock = real  # type: ignore[method-assign]
    shown = alice.get(f"/orders/{orders[1]['order_id']}").json_body
    assert shown["status"] == "COMPLETED" and shown["history"][-1]["by"] == "system"
    assert list(OrderRecord.receipt_due_index.query("shipped")) == []


def test_the_schedule_applies_list_at_and_delist_at(admin: Api, anonymous: Api, make_product) -> None:  # type: ignore[no-untyped-def]
    soon = iso(datetime.now(timezone.utc) + timedelta(minutes=5))
    coming, _ = make_product(ticket_body([3], status="unlisted", list_at=soon))
    going, _ = make_product(ticket_body([3], delist_at=soon))
    ctx, real = later(10)
    try:
        assert ctx is not None and anonymous.get(f"/catalog/products/{coming['product_id']}").status_code == 200
        from chalicelib.service_layer import schedule
        assert schedule.apply_listing_schedule(ctx) == 2
        assert schedule.apply_listing_schedule(ctx) == 0
    finally:
        ctx.clock = real  # type: ignore[method-assign]
    assert ProductRecord.get(coming["product_id"]).status == "listed"
    assert ProductRecord.get(going["product_id"]).status == "unlisted"
    assert anonymous.get(f"/catalog/products/{coming['product_id']}").status_code == 200
    assert anonymous.get(f"/catalog/products/{going['product_id']}").status_code == 404


def test_the_schedule_resends_approved_refunds_whose_message_was_lost(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 1))).json_body
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"})
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName="micromall-test-refunds")["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)                                          # the message is lost
    from chalicelib.service_layer import schedule
    ctx, real = later(3)
    try:
        assert schedule.resend_stuck_refunds(ctx) == 1
    finally:
        ctx.clock = real  # type: ignore[method-assign]
    while deliver_once("micromall-test-refunds", app_module.refunds_worker, REGION):
        pass
    assert [r["out_trade_no"] for r in sandbox().refunds()] == [order["order_id"]]
