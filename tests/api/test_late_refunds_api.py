"""WeChat's late and unexpected words: a superseded refund paid after all, a malformed answer,
and the refund and revocation indexes no longer keyed by one constant."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters.payment_sandbox_peer import Answer
from chalicelib.adapters.refund_repository import REFUND_INDEX_SHARDS
from chalicelib.adapters.stock_records import StockShardRecord, ledger
from chalicelib.adapters.tables import OrderRecord, RefundRecord, TicketRecord
from chalicelib.adapters.ticket_repository import REVOKED_SHARDS

from .conftest import Api, available, clock_ahead, expire_due, order_body, sandbox, ticket_body
from .test_refunds_api import alerts_of, drain, outcomes, refund_status
from .test_stock_shards_api import ledger_sums_to_stock, stock_of


def test_a_superseded_refund_paid_after_all_is_recorded_alerted_once_and_returns_nothing(  # type: ignore[no-untyped-def]
        customer, admin: Api, make_product, anonymous, deliver_notices, staff, monkeypatch) -> None:
    """R1 fails in doubt and R2 takes its tickets over and succeeds; then WeChat pays R1 too.
    R1 is SUCCEEDED (the customer was paid twice), raised once as refund_twice, returns no stock,
    and the next partial refund of the sharded line goes back to the shards it was sold from."""
    _, (sku,) = make_product(ticket_body([12]))
    assert admin.post(f"/admin/inventory/{sku}/shards", {"shards": 4}).status_code == 200       # 3 units a shard
    alice = customer()
    order = alice.post("/orders", order_body((sku, 6))).json_body
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
    took = {int(b): int(u) for b, u in dict(dict(OrderRecord.get(order["order_id"]).lines[0])["stock_shares"]).items()}
    assert sorted(took.values()) == [3, 3]
    tickets = [t["ticket_id"] for t in alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]]
    path = f"/orders/{order['order_id']}/refunds"

    outcomes(*["ERROR"] * 3)                             # R1 never reaches WeChat, as far as we can tell
    r1 = alice.post(path, {"reason": "x", "ticket_ids": tickets[:2]}).json_body["refund_id"]
    drain(rounds=6)
    assert refund_status(r1) == "FAILED"
    r2 = alice.post(path, {"reason": "x", "ticket_ids": tickets[:2]}).json_body["refund_id"]
    drain()
    deliver_notices()
    assert refund_status(r2) == "SUCCEEDED" and RefundRecord.get(r1).superseded_by == r2
    assert stock_of(sku) == (8, 0, 4)

    # WeChat had R1 after all, and pays it: its notice comes twice.
    outcomes("PENDING")
    sandbox().peer.answer("POST", "/v3/refund/domestic/refunds", {
        "out_refund_no": r1, "out_trade_no": order["order_id"], "amount": {"refund": 2 * 6000}})
    notice = sandbox().refund_notice_now(r1, "SUCCESS")
    assert notice is not None
    for _ in range(2):
        r = alice.client.http.post("/payments/wechat/refund-notify", headers=notice.headers, body=notice.body.encode())
        assert r.status_code == 204
    record = RefundRecord.get(r1)
    assert (record.status, record.unsettled) == ("SUCCEEDED", True)
    raised = alerts_of(staff("finance"), "refund_twice")
    assert [(a["severity"], a["details"]["refund_id"]) for a in raised] == [("critical", r1)]
    assert stock_of(sku) == (8, 0, 4) and OrderRecord.get(order["order_id"]).status == "PARTIALLY_REFUNDED"

    # The next partial refund returns its units to the buckets they were sold from.
    r3 = alice.post(path, {"reason": "x", "ticket_ids": tickets[2:4]}).json_body["refund_id"]
    drain()
    deliver_notices()
    assert refund_status(r3) == "SUCCEEDED" and stock_of(sku) == (10, 0, 2) and ledger_sums_to_stock(sku)
    high, low = sorted(took, reverse=True)
    sold = {b: int(StockShardRecord.get(ledger(sku, b)).sold) for b in took}
    assert sold == {high: 0, low: 2}             # R2 took 2 from the higher shard, R3 its last and one more


def test_a_malformed_answer_from_wechat_is_one_orders_trouble_not_the_expiry_runs(  # type: ignore[no-untyped-def]
        customer, make_product, monkeypatch, staff) -> None:
    product, (sku,) = make_product(ticket_body([10]))
    first = customer().post("/orders", order_body((sku, 1))).json_body["order_id"]
    second = customer().post("/orders", order_body((sku, 1))).json_body["order_id"]
    peer = sandbox().peer
    real = peer.answer

    def garbled(method, url, body):  # type: ignore[no-untyped-def]
        if method == "GET" and first in url:
            return Answer(200, {"out_trade_no": first, "amount": "lots"})    # no trade_state, a bad amount
        return real(method, url, body)
    monkeypatch.setattr(peer, "answer", garbled)
    with clock_ahead(timedelta(minutes=16)) as later:
        assert expire_due(later) == 2
    assert OrderRecord.get(first).status == "PENDING_PAYMENT" and OrderRecord.get(second).status == "EXPIRED"
    assert available(staff("admin"), product["product_id"], sku) == 9


def test_refund_queues_are_spread_over_shards_and_paged_whole(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, staff) -> None:
    _, (sku,) = make_product(ticket_body([30], admission_open=True))
    asked = []
    for _ in range(9):
        alice = customer()
        order = alice.post("/orders", order_body((sku, 1))).json_body
        anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
        asked.append(alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill"}).json_body["refund_id"])
    assert len({RefundRecord.get(r).status_key for r in asked}) > 2                # not one partition
    finance = staff("finance")
    seen, cursor = [], ""
    while True:
        page = finance.get(f"/admin/refunds?status=REQUESTED&limit=2{cursor}").json_body
        assert len(page["items"]) <= 2
        seen += [r["refund_id"] for r in page["items"]]
        if not page["next"]:
            break
        cursor = f"&cursor={page['next']}"
    assert seen == asked[::-1]                                                    # newest first, all, once
    for refund_id in asked[:3]:
        assert finance.post(f"/admin/refunds/{refund_id}/approve").status_code == 200
    keys = {TicketRecord.get(code).revoked for code in RefundRecord.get(asked[0]).ticket_codes}
    assert all(k.startswith("revoked#") and int(k.split("#")[1]) < REVOKED_SHARDS for k in keys)
    assert {int(RefundRecord.get(r).status_key.split("#")[1]) for r in asked} <= set(range(REFUND_INDEX_SHARDS))
    assert sorted(staff("scanner").get("/scanner/offline-pack").json_body["revoked"]) == sorted(
        TicketRecord.get(RefundRecord.get(r).ticket_codes[0]).ticket_id for r in asked[:3])


def test_refunds_waiting_for_wechat_are_asked_about_from_every_shard(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, monkeypatch) -> None:
    from chalicelib.service_layer import refund_queries, refund_settlement
    _, (sku,) = make_product(ticket_body([30]))
    outcomes(*["PENDING"] * 6)
    waiting = []
    for _ in range(6):
        alice = customer()
        order = alice.post("/orders", order_body((sku, 1))).json_body
        anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
        waiting.append(alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["refund_id"])
    drain()
    assert len({RefundRecord.get(r).query_due for r in waiting}) > 1
    for refund_id in waiting:
        sandbox().peer.set_refund_state(refund_id, "SUCCESS")                  # their notices are lost
    with clock_ahead(timedelta(hours=1)) as later:
        assert refund_queries.query_processing_refunds(later) == 6
    assert {refund_status(r) for r in waiting} == {"SUCCEEDED"}
