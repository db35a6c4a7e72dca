"""改单 and payment attempts through the API and the payment sandbox (API.md: Orders' PATCH,
Payments' attempts; DESIGN.md invariants 2, 14 and 15)."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters.stock_ledger import StockLedger

from .conftest import clock_ahead, drain_queues, expire_due, order_body, sandbox, ticket_body


def ledger_and_stock(sku_id: str) -> tuple[int, int]:
    """What the SKU's movements add up to, and its free units: always the same (invariant 1)."""
    ledger = StockLedger()
    return sum(ledger.all_movements(sku_id)), ledger.skus([sku_id])[sku_id].available


def test_a_change_replaces_the_lines_in_one_transaction_and_opens_the_next_attempt(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, ddb_calls, transactions) -> None:
    _, (a, b) = make_product(ticket_body([10, 10]))
    alice = customer()
    order = alice.post("/orders", order_body((a, 2))).json_body
    assert order["changes_left"] == 3 and order["payment"]["out_trade_no"] == order["order_id"]
    ddb_calls.reset()
    transactions.clear()
    r = alice.patch(f"/orders/{order['order_id']}", {"items": [{"sku_id": a, "quantity": 1},
                                                                {"sku_id": b, "quantity": 2}]})
    assert r.status_code == 200, r.body
    changed = r.json_body
    # One read of the order, the order path's one batched read, one transaction.
    assert ddb_calls.operations == ["GetItem", "BatchGetItem", "TransactWriteItems"]
    assert len(transactions) == 1
    assert changed["total"] == 3 * 6000 and changed["changes_left"] == 2
    assert changed["expires_at"] == order["expires_at"]
    assert changed["payment"]["out_trade_no"] == f"{order['order_id']}-2"
    assert sandbox().trade_state(order["order_id"]) == "CLOSED"
    shown = alice.get(f"/orders/{order['order_id']}").json_body
    assert shown["payment"]["out_trade_no"] == f"{order['order_id']}-2" and shown["changes_left"] == 2
    # The closed attempt cannot be paid; the order id pays its open attempt.
    old = anonymous.post(f"/dev/payments/{order['order_id']}-1x/succeed", {"notify": False, "amount": 1})
    assert old.status_code == 200                  # a trade micromall never saw: WeChat takes it
    closed = anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"transaction_id": "4200000000CLOSED1"})
    assert closed.status_code == 200
    paid = alice.get(f"/orders/{order['order_id']}").json_body
    assert paid["status"] == "PAID" and paid["total"] == 18000
    assert sandbox().trade_state(f"{order['order_id']}-2") == "SUCCESS"
    assert ledger_and_stock(a) == (9, 9) and ledger_and_stock(b) == (8, 8)


def test_money_on_a_closed_attempt_is_refunded_from_that_attempt(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    """What WeChat would send if the customer's payment of the old trade had been taken in the
    instant of its close: a signed notice for the old out_trade_no. Refunded automatically, on
    that attempt; the order waits on its open one and is paid by it."""
    _, (a,) = make_product(ticket_body([10]))
    alice = customer()
    order = alice.post("/orders", order_body((a, 2))).json_body
    assert alice.patch(f"/orders/{order['order_id']}", {"items": [{"sku_id": a, "quantity": 1}]}).status_code == 200
    # WeChat's record of the old trade: paid after all (the sandbox itself refuses a closed trade).
    from chalicelib.adapters.payment_sandbox import SandboxRecord
    SandboxRecord(kind="trade", key=order["order_id"]).update(actions=[SandboxRecord.state.set("NOTPAY")])
    sandbox().peer.pay(order["order_id"], 12000, "4200000000LATE0001")
    notice = sandbox().payment_notice(order["order_id"], 12000, None, transaction_id="4200000000LATE0001")
    from chalicelib import bootstrap
    from chalicelib.service_layer import payments
    payments.receive_notification(bootstrap.context(), notice.headers, notice.body)
    drain_queues()
    refunds = [r for r in anonymous.get("/dev/payments/refunds").json_body["items"]
               if r["out_trade_no"] == order["order_id"]]
    assert [(r["amount"], r["status"]) for r in refunds] == [(12000, "SUCCESS")]
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "PENDING_PAYMENT"
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "PAID"


def test_a_paid_changed_order_refunds_from_its_paid_attempt(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    _, (a,) = make_product(ticket_body([10]))
    alice = customer()
    order = alice.post("/orders", order_body((a, 2))).json_body
    alice.patch(f"/orders/{order['order_id']}", {"items": [{"sku_id": a, "quantity": 3}]})
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "plans changed"})
    assert r.status_code == 202, r.body
    drain_queues()
    refunds = anonymous.get("/dev/payments/refunds").json_body["items"]
    mine = [x for x in refunds if x["out_refund_no"] == r.json_body["refund_id"]]
    assert [(x["out_trade_no"], x["amount"], x["status"]) for x in mine] == [
        (f"{order['order_id']}-2", 18000, "SUCCESS")]


def test_the_rules_of_a_change(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    _, (a, scarce) = make_product(ticket_body([10, 1]))
    alice, bob = customer(), customer()
    order = alice.post("/orders", order_body((a, 1))).json_body
    path = f"/orders/{order['order_id']}"
    for body, status, code in (
            ({"contact": {"name": "李四", "phone": "13900139000"}}, 422, "NOT_CHANGEABLE"),
            ({"fulfillment": "shipping"}, 422, "NOT_CHANGEABLE"),
            ({}, 400, "VALIDATION_ERROR"),
            ({"items": []}, 400, "VALIDATION_ERROR"),
            ({"items": [{"sku_id": scarce, "quantity": 2}]}, 409, "SOLD_OUT"),
            ({"coupon_id": "UC0000000000000001"}, 409, "COUPON_UNAVAILABLE")):
        r = alice.patch(path, body)
        assert (r.status_code, r.json_body["code"]) == (status, code), (body, r.body)
    # Nothing changed: the trade still open, the lines the same, no change counted.
    shown = alice.get(path).json_body
    assert shown["changes_left"] == 3 and shown["payment"]["out_trade_no"] == order["order_id"]
    assert bob.patch(path, {"items": [{"sku_id": a, "quantity": 2}]}).status_code == 404
    for quantity in (2, 3, 4):
        assert alice.patch(path, {"items": [{"sku_id": a, "quantity": quantity}]}).status_code == 200
    r = alice.patch(path, {"items": [{"sku_id": a, "quantity": 1}]})
    assert (r.status_code, r.json_body["code"]) == (422, "CHANGE_LIMIT_REACHED")
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    r = alice.patch(path, {"items": [{"sku_id": a, "quantity": 1}]})
    assert (r.status_code, r.json_body["code"]) == (409, "INVALID_STATE")


def test_a_trade_paid_before_the_close_is_confirmed_and_the_change_refused(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    """The customer paid, and the notice is late: WeChat refuses to close the trade (ORDERPAID);
    the payment is confirmed from WeChat's answer and the order stays as it was paid."""
    _, (a,) = make_product(ticket_body([10]))
    alice = customer()
    order = alice.post("/orders", order_body((a, 2))).json_body
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"notify": False}).status_code == 200
    r = alice.patch(f"/orders/{order['order_id']}", {"items": [{"sku_id": a, "quantity": 1}]})
    assert (r.status_code, r.json_body["code"]) == (409, "INVALID_STATE")
    paid = alice.get(f"/orders/{order['order_id']}").json_body
    assert paid["status"] == "PAID" and paid["total"] == 12000 and len(paid["items"]) == 1


def test_an_expired_changed_order_is_closed_on_its_open_attempt(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (a,) = make_product(ticket_body([10]))
    alice = customer()
    order = alice.post("/orders", order_body((a, 2))).json_body
    alice.patch(f"/orders/{order['order_id']}", {"items": [{"sku_id": a, "quantity": 1}]})
    with clock_ahead(timedelta(minutes=16)) as ctx:
        r = alice.patch(f"/orders/{order['order_id']}", {"items": [{"sku_id": a, "quantity": 3}]})
        assert (r.status_code, r.json_body["code"]) == (409, "INVALID_STATE")
        assert expire_due(ctx) >= 1
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "EXPIRED"
    assert sandbox().trade_state(f"{order['order_id']}-2") == "CLOSED"
    assert ledger_and_stock(a) == (10, 10)


def test_a_changed_order_paid_and_refunded_on_its_attempts_reconciles_with_the_bill(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, staff, deliver_notices) -> None:
    """The bill names attempts (out_trade_no), not orders: the payment on <order>-2 and the
    refund from it match micromall's records of that attempt."""
    from datetime import datetime, timedelta, timezone
    _, (a,) = make_product(ticket_body([10]))
    alice = customer()
    order = alice.post("/orders", order_body((a, 1))).json_body
    alice.patch(f"/orders/{order['order_id']}", {"items": [{"sku_id": a, "quantity": 2}]})
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["out_trade_no"] == \
        f"{order['order_id']}-2"
    ticket = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"][0]
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill", "ticket_ids": [ticket["ticket_id"]]})
    assert r.status_code == 202
    drain_queues()
    deliver_notices()
    today = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    result = staff("finance").post(f"/admin/reconciliation/{today}/run").json_body
    assert result["status"] == "MATCHED" and result["differences"] == [], result
    assert (result["bill"]["trades"], result["bill"]["refunds"]) == (1, 1)
