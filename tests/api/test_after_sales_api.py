"""After-sales for goods (售后) through the API, on moto and the payment sandbox: a return with its
refund paid by WeChat, an exchange collected at the counter, every error code, the stock ledger
agreeing with the stock after each step, and what each step costs in DynamoDB requests (API.md:
"After-sales for goods"; DESIGN.md invariants 1, 3, 9, 10, 15, 17)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.adapters.stock_ledger import StockLedger

from .conftest import clock_ahead, drain_queues, merch_body, order_body


def ledger_and_stock(sku_id: str) -> tuple[int, int]:
    ledger = StockLedger()
    return sum(ledger.all_movements(sku_id)), ledger.skus([sku_id])[sku_id].available


def counts(sku_id: str) -> tuple[int, int, int]:
    sku = StockLedger().skus([sku_id])[sku_id]
    return sku.available, sku.reserved, sku.sold


def collected(customer, make_product, anonymous, staff, stocks: list[int], quantity: int = 2,  # type: ignore[no-untyped-def]
              price: int = 2500) -> tuple[Any, dict[str, Any], list[str]]:
    """Alice paid for `quantity` of the first SKU for pickup and collected them at the shop."""
    _, skus = make_product(merch_body(stocks, price=price))
    alice = customer()
    order = alice.post("/orders", order_body((skus[0], quantity), fulfillment="pickup")).json_body
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
    pickup = alice.get(f"/orders/{order['order_id']}").json_body["pickup"]
    assert staff("scanner").post("/redemptions", {"code": pickup["code"], "gate": "shop", "device_id": "till"}
                                 ).status_code == 200
    return alice, order, skus


def test_a_return_is_refunded_through_wechat_and_its_goods_restocked_once(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, staff, deliver_notices, ddb_calls, transactions) -> None:
    alice, order, (sku, _) = collected(customer, make_product, anonymous, staff, [10, 10])
    oid = order["order_id"]
    assert alice.post(f"/orders/{oid}/refunds", {"reason": "broken"}).json_body["code"] == "USE_AFTER_SALES"
    ddb_calls.reset()
    transactions.clear()
    r = alice.post(f"/orders/{oid}/after-sales", {"type": "return_refund", "lines": [{"sku_id": sku, "quantity": 1}],
                                                  "reason": "damaged", "description": "the strap tore"})
    assert r.status_code == 201, r.body
    made = r.json_body
    # The order, its pickup code, one transaction of the after-sale, its units counter and a check that no refund
    # claims the goods.
    assert ddb_calls.operations == ["GetItem", "GetItem", "TransactWriteItems"]
    assert transactions == [["after_sale", f"units:{sku}", "order"]]
    assert made["status"] == "REQUESTED" and made["history"][0]["status"] == "REQUESTED"
    aid = made["after_sale_id"]
    support = staff("support")
    assert [a["after_sale_id"] for a in support.get("/admin/after-sales?status=REQUESTED&type=return_refund"
                                                    ).json_body["items"]] == [aid]
    ddb_calls.reset()
    transactions.clear()
    assert support.post(f"/admin/after-sales/{aid}/approve").json_body["status"] == "APPROVED"
    assert ddb_calls.operations == ["GetItem", "TransactWriteItems"] and transactions == [["after_sale", "audit"]]
    ddb_calls.reset()
    transactions.clear()
    r = alice.post(f"/orders/{oid}/after-sales/{aid}/return", {"carrier": "SF", "tracking_no": "SF123"})
    assert r.status_code == 200 and r.json_body["return_shipment"] == {"carrier": "SF", "tracking_no": "SF123"}
    # The order (yours?), the after-sale, one transaction of the after-sale alone.
    assert ddb_calls.operations == ["GetItem", "GetItem", "TransactWriteItems"] and transactions == [["after_sale"]]
    ddb_calls.reset()
    transactions.clear()
    r = staff("merchandiser").post(f"/admin/after-sales/{aid}/receive", {"restock": True, "note": "as new"})
    assert r.status_code == 200, r.body
    received = r.json_body
    # The after-sale, the order, the line's units counts (where its refund and restock start), the order's codes;
    # ONE transaction: the refund, the order claimed, the after-sale, the counts, the SKU and its movement, the
    # audit record.
    assert ddb_calls.operations == ["GetItem", "GetItem", "GetItem", "Query", "BatchGetItem", "TransactWriteItems"], \
        ddb_calls.operations
    assert sorted(transactions[0]) == sorted(["refund", "order", "after_sale", f"units:{sku}", f"sku:{sku}",
                                              f"movement:{sku}", "audit"])
    assert (received["status"], received["amount"], received["restocked"]) == ("RECEIVED", 2500, True)
    assert counts(sku) == (9, 0, 1) and ledger_and_stock(sku) == (9, 9)
    refund = alice.get(f"/orders/{oid}/refunds").json_body["items"][0]
    assert (refund["refund_id"], refund["status"], refund["amount"]) == (received["refund_id"], "APPROVED", 2500)
    # The refund queue says what comes back and for whom, as for any refund.
    (queued,) = [r for r in staff("finance").get("/admin/refunds?status=APPROVED").json_body["items"]
                 if r["refund_id"] == received["refund_id"]]
    assert [(i["sku_id"], i["quantity"], i["amount"]) for i in queued["items"]] == [(sku, 1, 2500)]
    assert queued["contact"]["phone"].count("*") == 4
    drain_queues()
    deliver_notices()
    assert alice.get(f"/orders/{oid}/refunds").json_body["items"][0]["status"] == "SUCCEEDED"
    [done] = alice.get(f"/orders/{oid}/after-sales").json_body["items"]
    assert done["status"] == "COMPLETED"
    assert [(h["status"], h["by"]) for h in done["history"]] == [
        ("REQUESTED", "customer"), ("APPROVED", "staff"), ("RETURNING", "customer"), ("RECEIVED", "staff"),
        ("COMPLETED", "staff")]                                                # no staff names for customers
    assert counts(sku) == (9, 0, 1) and ledger_and_stock(sku) == (9, 9)       # the refund moved no stock
    assert alice.get(f"/orders/{oid}").json_body["status"] == "PARTIALLY_REFUNDED"
    seen_by_staff = staff("finance").get(f"/orders/{oid}/after-sales").json_body["items"][0]["history"]
    assert seen_by_staff[1]["by"] != "staff" and seen_by_staff[-1]["by"] == "wechat_pay"
    r = alice.post(f"/orders/{oid}/after-sales", {"type": "return_refund", "lines": [{"sku_id": sku, "quantity": 2}],
                                                  "reason": "damaged"})
    assert r.status_code == 409 and r.json_body["code"] == "INVALID_STATE"     # one unit is already back


def test_an_exchange_reserves_at_approval_and_is_collected_with_a_new_pickup_code(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, staff, ddb_calls, transactions) -> None:
    alice, order, (sku, other) = collected(customer, make_product, anonymous, staff, [10, 1], quantity=1)
    oid = order["order_id"]
    body = {"type": "exchange", "lines": [{"sku_id": sku, "quantity": 1}], "reason": "size",
            "exchange_sku_id": other}
    aid = alice.post(f"/orders/{oid}/after-sales", body).json_body["after_sale_id"]
    support = staff("support")
    transactions.clear()
    assert support.post(f"/admin/after-sales/{aid}/approve").json_body["status"] == "APPROVED"
    # The replacement reserved (its SKU and its movement, tagged by the SKU), the after-sale, the audit record.
    assert transactions == [[f"sku:{other}", f"sku:{other}", "after_sale", "audit"]]
    assert counts(other) == (0, 1, 0) and ledger_and_stock(other) == (0, 0)
    assert support.post(f"/admin/after-sales/{aid}/ship", {"pickup": True}).json_body["code"] == "INVALID_STATE"
    assert alice.post(f"/orders/{oid}/after-sales/{aid}/return", {"at_counter": True}).status_code == 200
    r = support.post(f"/admin/after-sales/{aid}/receive", {"restock": False})
    assert r.status_code == 200 and "refund_id" not in r.json_body
    assert counts(sku) == (9, 0, 1) and ledger_and_stock(sku) == (9, 9)
    ddb_calls.reset()
    transactions.clear()
    r = support.post(f"/admin/after-sales/{aid}/ship", {"pickup": True})
    assert r.status_code == 200, r.body
    # The after-sale, the replacement's SKU (its name for the code), ONE transaction: the reserved
    # unit sold, the new pickup code, the after-sale, the audit record.
    assert ddb_calls.operations == ["GetItem", "BatchGetItem", "TransactWriteItems"]
    assert transactions == [[f"sku:{other}", f"ticket:{r.json_body['shipment']['pickup_ticket_id']}", "after_sale",
                             "audit"]]
    assert r.json_body["status"] == "COMPLETED" and r.json_body["shipment"]["pickup_code"]
    assert counts(other) == (0, 0, 1) and ledger_and_stock(other) == (0, 0)
    scan = staff("scanner").post("/redemptions", {"code": r.json_body["shipment"]["pickup_code"], "gate": "shop",
                                                  "device_id": "till"})
    assert scan.status_code == 200 and scan.json_body["kind"] == "pickup"
    actions = {e["action"] for e in staff("auditor").get("/admin/audit").json_body["items"]}
    assert {"after_sale_approved", "after_sale_received", "after_sale_shipped"} <= actions


def test_every_refusal_in_its_words(customer, make_product, anonymous, staff, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    _, skus = make_product(merch_body([10, 0, 10], price=2500))
    alice = customer()
    waiting = alice.post("/orders", order_body((skus[0], 2), fulfillment="pickup")).json_body
    assert anonymous.post(f"/dev/payments/{waiting['order_id']}/succeed", {}).json_body["notify_status"] == 204
    oid = waiting["order_id"]
    line = {"type": "return_refund", "lines": [{"sku_id": skus[0], "quantity": 1}], "reason": "damaged"}
    r = alice.post(f"/orders/{oid}/after-sales", line)
    assert r.status_code == 409 and r.json_body["code"] == "INVALID_STATE"    # not handed over yet
    pickup = alice.get(f"/orders/{oid}").json_body["pickup"]
    staff("scanner").post("/redemptions", {"code": pickup["code"], "gate": "shop", "device_id": "till"})
    assert customer().post(f"/orders/{oid}/after-sales", line).json_body["code"] == "ORDER_NOT_FOUND"
    assert alice.post(f"/orders/{oid}/after-sales", {**line, "reason": "meh"}).status_code == 400
    too_many = {**line, "lines": [{"sku_id": skus[0], "quantity": 3}]}
    assert alice.post(f"/orders/{oid}/after-sales", too_many).json_body["code"] == "INVALID_STATE"
    exchange = {"type": "exchange", "lines": [{"sku_id": skus[0], "quantity": 1}], "reason": "size",
                "exchange_sku_id": skus[1]}
    aid = alice.post(f"/orders/{oid}/after-sales", exchange).json_body["after_sale_id"]
    support = staff("support")
    r = support.post(f"/admin/after-sales/{aid}/approve")
    assert r.status_code == 409 and r.json_body["code"] == "SOLD_OUT"
    assert staff("finance").post(f"/admin/after-sales/{aid}/approve").status_code == 403
    assert support.post("/admin/after-sales/Anope/approve").json_body["code"] == "AFTER_SALE_NOT_FOUND"
    assert alice.post(f"/orders/{oid}/after-sales/Anope/cancel").json_body["code"] == "AFTER_SALE_NOT_FOUND"
    ddb_calls.reset()
    r = support.post(f"/admin/after-sales/{aid}/reject", {"reason": "out of that size"})
    assert ddb_calls.operations == ["GetItem", "TransactWriteItems"]     # the after-sale; it, its units, the audit
    assert r.status_code == 200 and r.json_body["reject_reason"] == "out of that size"
    assert support.post(f"/admin/after-sales/{aid}/reject", {"reason": "again"}).json_body["code"] == "INVALID_STATE"
    assert support.get("/admin/after-sales?status=NOPE").status_code == 400
    assert alice.get("/admin/after-sales").status_code == 403
    with clock_ahead(timedelta(days=8)):
        r = alice.post(f"/orders/{oid}/after-sales", line)
    assert r.status_code == 422 and r.json_body["code"] == "AFTER_SALES_CLOSED"
    keyed = {"Idempotency-Key": "return-1"}
    first = alice.post(f"/orders/{oid}/after-sales", line, headers=keyed)
    assert first.status_code == 201
    again = alice.post(f"/orders/{oid}/after-sales", line, headers=keyed)
    assert again.status_code == 201 and again.json_body["after_sale_id"] == first.json_body["after_sale_id"]
    r = alice.post(f"/orders/{oid}/after-sales", {**line, "reason": "size"}, headers=keyed)
    assert r.status_code == 422 and r.json_body["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(alice.get(f"/orders/{oid}/after-sales").json_body["items"]) == 2
    for sku_id in skus:
        total, free = ledger_and_stock(sku_id)
        assert total == free
