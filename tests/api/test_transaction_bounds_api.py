"""DynamoDB takes at most 100 items in one transaction. Every use case whose writes grow with its
input is bounded by construction (an order's lines and the buckets each takes, a refund's
tickets and the refunds it takes over, a stocktake's counts) or cut into steps that each commit
(a large order's tickets). Each is driven here at its bound, through the API, and every
transaction it sends is measured."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.adapters.tables import OrderRecord, RefundRecord
from chalicelib.domain.commands import MAX_ORDER_LINES, MAX_STOCKTAKE_LINES
from chalicelib.domain.stock_shards import MAX_PLAN_BUCKETS
from chalicelib.domain.transactions import MAX_ITEMS

from .conftest import Api, iso, merch_body, order_body, sandbox
from .test_refunds_api import drain, outcomes
from .test_stock_shards_api import ledger_sums_to_stock, stock_of


def sessions_body(sessions: int, stock: int, **extra: Any) -> dict[str, Any]:
    """A ticket product with one SKU per session, on consecutive days from the day after tomorrow."""
    start = datetime.now(timezone.utc) + timedelta(days=2)
    return {"kind": "ticket", "name": "夜场", "category": "theatre", "status": "listed", **extra,
            "skus": [{"name": f"场次 {i + 1}", "price": 8000, "stock": stock,
                      "session": {"start": iso(start + timedelta(days=i)),
                                  "end": iso(start + timedelta(days=i, hours=3))}} for i in range(sessions)]}


def largest(transactions: list[list[str]]) -> int:
    return max(len(t) for t in transactions)


def test_a_ninety_ticket_refund_over_five_sessions_confirmed_late_settles(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, deliver_notices, transactions, group_orders) -> None:
    """The refund failed in doubt here (WeChat unreachable, its order released), and WeChat had
    it after all: its late SUCCESS settles 90 tickets' refund in one step, inside the limit."""
    _, skus = make_product(sessions_body(5, 20))
    alice = customer()
    order = alice.post("/orders", order_body(*[(sku, 18) for sku in skus])).json_body
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
    outcomes(*["ERROR"] * 3)
    asked = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "typhoon"})
    assert asked.status_code == 202 and asked.json_body["tickets"] == 90, asked.body
    refund_id = asked.json_body["refund_id"]
    drain(rounds=6)
    assert RefundRecord.get(refund_id).status == "FAILED"
    outcomes("PENDING")
    sandbox().peer.answer("POST", "/v3/refund/domestic/refunds", {
        "out_refund_no": refund_id, "out_trade_no": order["order_id"], "amount": {"refund": order["total"]}})
    notice = sandbox().refund_notice_now(refund_id, "SUCCESS")
    assert notice is not None
    transactions.clear()
    late = alice.client.http.post("/payments/wechat/refund-notify", headers=notice.headers, body=notice.body.encode())
    assert late.status_code == 204
    assert RefundRecord.get(refund_id).status == "SUCCEEDED"
    assert OrderRecord.get(order["order_id"]).status == "REFUNDED"
    assert all(stock_of(sku) == (20, 0, 0) and ledger_sums_to_stock(sku) for sku in skus)
    assert largest(transactions) <= MAX_ITEMS


def test_an_order_at_every_bound_fits_each_transaction_of_its_life(  # type: ignore[no-untyped-def]
        customer, admin: Api, make_product, anonymous, deliver_notices, transactions, group_orders) -> None:
    """The largest order there is: 20 lines, each of a product with a purchase limit, each
    taking its units from two shards, with an Idempotency-Key; placed, paid, and refunded whole
    (80 tickets), in time and late; and its twin cancelled."""
    skus = []
    for _ in range(MAX_ORDER_LINES):
        _, (sku,) = make_product(sessions_body(1, 20, purchase_limit=8))
        assert admin.post(f"/admin/inventory/{sku}/shards", {"shards": 10}).status_code == 200   # 2 units a shard
        skus.append(sku)
    alice = customer()
    lines = [(sku, 4) for sku in skus]
    transactions.clear()
    placed = alice.post("/orders", order_body(*lines), headers={"Idempotency-Key": "bound-1"})
    assert placed.status_code == 201, placed.body
    order_id = placed.json_body["order_id"]
    shares = [line["stock_shares"] for line in map(dict, OrderRecord.get(order_id).lines)]
    assert all(len(dict(s)) == MAX_PLAN_BUCKETS for s in shares)          # the most buckets a line takes
    assert anonymous.post(f"/dev/payments/{order_id}/succeed", {}).json_body["notify_status"] == 204
    refund = alice.post(f"/orders/{order_id}/refunds", {"reason": "x"})
    assert refund.status_code == 202 and refund.json_body["tickets"] == 80
    drain()
    deliver_notices()
    assert RefundRecord.get(refund.json_body["refund_id"]).status == "SUCCEEDED"
    twin = alice.post("/orders", order_body(*lines))
    assert twin.status_code == 201 and alice.post(f"/orders/{twin.json_body['order_id']}/cancel").status_code == 200
    assert all(stock_of(sku) == (20, 0, 0) and ledger_sums_to_stock(sku) for sku in skus)
    placing = [t for t in transactions if "idempotency" in t][-1]         # planned after the blind pick
    # each line: its buckets and its SKU, its limit counter; the order, its key, the unpaid holds
    assert len(placing) == MAX_ORDER_LINES * (MAX_PLAN_BUCKETS + 1) + MAX_ORDER_LINES + 3    # 83
    assert largest(transactions) <= MAX_ITEMS


def test_a_stocktake_of_the_most_counts_of_split_skus_fits_one_transaction(  # type: ignore[no-untyped-def]
        admin: Api, make_product, transactions) -> None:
    skus = []
    for stocks in ([9] * 40, [9] * (MAX_STOCKTAKE_LINES - 40)):
        _, made = make_product(merch_body(stocks))
        skus += made
    for sku in skus:
        assert admin.post(f"/admin/inventory/{sku}/shards", {"shards": 3}).status_code == 200
    transactions.clear()
    r = admin.post("/admin/stocktakes", {"counts": [{"sku_id": s, "counted": 2} for s in skus], "note": "盘亏"})
    assert r.status_code == 201, r.body
    assert all(stock_of(sku)[0] == 2 and ledger_sums_to_stock(sku) for sku in skus)
    assert largest(transactions) <= MAX_ITEMS
