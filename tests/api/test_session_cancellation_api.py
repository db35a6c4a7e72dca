"""Session cancellation through the API on moto: sales stop at once, the back-office worker (the
alerts queue) settles every order holding the session in steps, the refunds queue and WeChat's
notices pay the tickets back, and the progress answers DONE with the refunds' real outcomes."""
from __future__ import annotations

from typing import Any

import app as app_module
from chalicelib.adapters.stock_ledger import StockLedger
from chalicelib.adapters.tables import OrderRecord, SkuRecord
from local.aws_resources import deliver_once

from .conftest import merch_body, order_body, sandbox, ticket_body

REGION = "us-east-1"
REASON = "台风停园"


def work_queues(deliver_notices: Any, rounds: int = 60) -> None:
    """The back-office and refunds workers and WeChat's notices, until nothing moves."""
    for _ in range(rounds):
        moved = deliver_once("micromall-test-alerts", app_module.alerts_worker, REGION)
        moved += deliver_once("micromall-test-refunds", app_module.refunds_worker, REGION)
        moved += len(deliver_notices())
        if not moved:
            return
    raise AssertionError("the queues kept moving")


def ledger_ok(sku_id: str) -> bool:
    return sum(StockLedger().all_movements(sku_id)) == int(SkuRecord.get(sku_id).available)


def test_a_cancelled_session_stops_selling_cancels_unpaid_orders_and_refunds_paid_tickets(
        admin, staff, customer, make_product, anonymous, deliver_notices, transactions) -> None:  # type: ignore[no-untyped-def]
    product, (sku, other) = make_product(ticket_body([30, 30]))
    alice, bob, carol = customer(), customer(), customer()
    paid = alice.post("/orders", order_body((sku, 3), (other, 1))).json_body
    assert anonymous.post(f"/dev/payments/{paid['order_id']}/succeed", {}).json_body["notify_status"] == 204
    paid_tickets = [t for t in alice.get(f"/orders/{paid['order_id']}/tickets").json_body["items"]
                    if t["sku_id"] == sku]
    pending = bob.post("/orders", order_body((sku, 2))).json_body
    assert sandbox().trade_state(pending["order_id"]) == "NOTPAY"

    r = admin.post(f"/admin/sessions/{sku}/cancel", {"reason": REASON})
    assert r.status_code == 202, r.body
    assert {k: r.json_body[k] for k in ("sku_id", "orders", "tickets", "status")} == \
        {"sku_id": sku, "orders": 0, "tickets": 5, "status": "RUNNING"}
    cancelling = [t for t in transactions if any(tag == f"sku:{sku}" for tag in t)][-1]
    assert sorted(cancelling) == ["audit", "cancellation", f"sku:{sku}"]   # one transaction: sales stop at once

    refused = carol.post("/orders", order_body((sku, 1)))
    assert (refused.status_code, refused.json_body["code"]) == (409, "NOT_ON_SALE")
    shown = anonymous.get(f"/catalog/products/{product['product_id']}").json_body
    cancelled_sku = next(s for s in shown["skus"] if s["sku_id"] == sku)
    assert (cancelled_sku["cancelled"], cancelled_sku["cancel_reason"], cancelled_sku["available"]) == (True, REASON, 0)
    assert "cancelled" not in next(s for s in shown["skus"] if s["sku_id"] == other)

    again = admin.post(f"/admin/sessions/{sku}/cancel", {"reason": "something else"})
    assert again.status_code == 202 and again.json_body["reason"] == REASON

    work_queues(deliver_notices)
    ended = bob.get(f"/orders/{pending['order_id']}").json_body
    assert (ended["status"], ended["cancel_reason"]) == ("CANCELLED", "session_cancelled")
    assert sandbox().trade_state(pending["order_id"]) == "CLOSED"
    tickets = {t["ticket_id"]: t for t in alice.get(f"/orders/{paid['order_id']}/tickets").json_body["items"]}
    assert {tickets[t["ticket_id"]]["status"] for t in paid_tickets} == {"REVOKED"}
    assert [t["status"] for t in tickets.values() if t["sku_id"] == other] == ["VALID"]
    (refund,) = alice.get(f"/orders/{paid['order_id']}/refunds").json_body["items"]
    paid_for_session = sum(line["paid"] for line in paid["items"] if line["sku_id"] == sku)
    assert (refund["status"], refund["amount"], refund["reason"], refund["source"]) == \
        ("SUCCEEDED", paid_for_session, REASON, "session_cancelled")
    assert [g for g in sandbox().refunds() if g["out_trade_no"] == paid["order_id"]] == [
        {"out_refund_no": refund["refund_id"], "out_trade_no": paid["order_id"], "amount": paid_for_session,
         "status": "SUCCESS"}]
    assert alice.get(f"/orders/{paid['order_id']}").json_body["status"] == "PARTIALLY_REFUNDED"

    record = SkuRecord.get(sku)
    assert (int(record.available), int(record.reserved), int(record.sold)) == (30, 0, 0) and ledger_ok(sku)
    for role in ("admin", "finance", "support"):
        progress = staff(role).get(f"/admin/sessions/{sku}/cancellation")
        assert progress.status_code == 200, progress.body
    body = progress.json_body
    assert {k: body[k] for k in ("status", "reason", "refunds_requested", "refunds_succeeded", "refunds_failed",
                                 "orders", "orders_cancelled", "orders_refunded", "tickets_refunded", "tickets")} == \
        {"status": "DONE", "reason": REASON, "refunds_requested": 1, "refunds_succeeded": 1, "refunds_failed": 0,
         "orders": 2, "orders_cancelled": 1, "orders_refunded": 1, "tickets_refunded": 3, "tickets": 5}
    assert max(len(t) for t in transactions) <= 100

    before = len(transactions)                                 # a third call: nothing changes
    third = admin.post(f"/admin/sessions/{sku}/cancel", {"reason": REASON})
    assert third.status_code == 202 and third.json_body["status"] == "DONE" and third.json_body["orders"] == 2
    work_queues(deliver_notices)
    assert len(transactions) == before and len(sandbox().refunds()) == 1
    audit = admin.get("/admin/audit?action=session_cancelled").json_body["items"]
    assert [(a["actor"], a["target"]) for a in audit] == [("boss", sku)]


def test_a_sharded_session_is_cancelled_with_its_shards(admin, customer, make_product, anonymous,
                                                         deliver_notices, group_orders) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([400]))
    assert admin.post(f"/admin/inventory/{sku}/shards", {"shards": 8}).status_code in (200, 201)
    orders = []
    for _ in range(4):
        o = customer().post("/orders", order_body((sku, 5))).json_body
        assert anonymous.post(f"/dev/payments/{o['order_id']}/succeed", {}).json_body["notify_status"] == 204
        orders.append(o)
    assert admin.post(f"/admin/sessions/{sku}/cancel", {"reason": REASON}).status_code == 202
    refused = customer().post("/orders", order_body((sku, 1)))
    assert (refused.status_code, refused.json_body["code"]) == (409, "NOT_ON_SALE")
    work_queues(deliver_notices)
    assert all(OrderRecord.get(o["order_id"]).status == "REFUNDED" for o in orders)
    progress = admin.get(f"/admin/sessions/{sku}/cancellation").json_body
    assert (progress["status"], progress["refunds_succeeded"], progress["tickets_refunded"]) == ("DONE", 4, 20)
    record = SkuRecord.get(sku)
    assert int(record.sold) == 0 and sum(StockLedger().all_movements(sku)) == 400


def test_what_cannot_be_cancelled_and_who_may_ask(admin, staff, customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    _, (goods,) = make_product(merch_body([5]))
    _, (sku,) = make_product(ticket_body([5]))
    r = admin.post(f"/admin/sessions/{goods}/cancel", {"reason": REASON})
    assert (r.status_code, r.json_body["code"]) == (409, "INVALID_STATE")
    for unknown in ("P000000000000-S999999", "not-a-sku"):
        r = admin.post(f"/admin/sessions/{unknown}/cancel", {"reason": REASON})
        assert (r.status_code, r.json_body["code"]) == (404, "SKU_NOT_FOUND")
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 3}, {"reason": "x" * 201}, []):
        r = admin.post(f"/admin/sessions/{sku}/cancel", body)
        assert (r.status_code, r.json_body["code"]) == (400, "VALIDATION_ERROR"), body
    r = admin.post(f"/admin/sessions/{sku}/cancel", raw=b"{nope")
    assert r.status_code == 400
    r = admin.get(f"/admin/sessions/{sku}/cancellation")
    assert (r.status_code, r.json_body["code"]) == (404, "SESSION_NOT_CANCELLED")
    for role in ("merchandiser", "finance", "support", "scanner", "auditor"):
        assert staff(role).post(f"/admin/sessions/{sku}/cancel", {"reason": REASON}).status_code == 403
    for role in ("merchandiser", "scanner", "auditor"):
        assert staff(role).get(f"/admin/sessions/{sku}/cancellation").status_code == 403
    assert customer().post(f"/admin/sessions/{sku}/cancel", {"reason": REASON}).status_code == 403
    assert anonymous.post(f"/admin/sessions/{sku}/cancel", {"reason": REASON}).status_code == 401
    assert int(SkuRecord.get(sku).available) == 5 and not SkuRecord.get(sku).cancelled


def test_a_step_reads_one_page_and_costs_a_bounded_number_of_requests_without_a_scan(
        admin, customer, make_product, anonymous, ddb_calls, transactions) -> None:  # type: ignore[no-untyped-def]
    """One step: a page of 25 ledger movements, each order a handful of keyed requests; no Scan."""
    from chalicelib import bootstrap
    from chalicelib.domain.session_cancellation import MOVEMENTS_PER_STEP
    from chalicelib.service_layer import session_cancellation
    _, (sku,) = make_product(ticket_body([100]))
    for i in range(MOVEMENTS_PER_STEP):
        o = customer().post("/orders", order_body((sku, 2))).json_body
        if i % 5:
            assert anonymous.post(f"/dev/payments/{o['order_id']}/succeed", {}).json_body["notify_status"] == 204
    assert admin.post(f"/admin/sessions/{sku}/cancel", {"reason": REASON}).status_code == 202
    ddb_calls.reset()
    before = len(transactions)
    report = session_cancellation.run_step(bootstrap.context(), sku)
    operations = list(ddb_calls.operations)
    # The first page holds the initial stock's movement and 24 orders' reservations.
    assert report.saved and report.orders_seen == MOVEMENTS_PER_STEP - 1 and "Scan" not in operations
    per_order = len(operations) / report.orders_seen
    print(f"\none step: {report.orders_seen} orders, {len(operations)} DynamoDB requests "
          f"({per_order:.1f} an order), {len(transactions) - before} transactions, "
          f"largest {max(len(t) for t in transactions[before:])} items")
    assert per_order <= 12
