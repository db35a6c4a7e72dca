"""Adversarial review of 改单 and payment attempts (PATCH /orders/{id}) on moto: each test here
failed on the reviewed commit (8b16358) and names the defect it shows (API.md Orders/Payments; DESIGN.md
invariants 1, 3, 14, 15 and 17)."""
from __future__ import annotations

from chalicelib.service_layer import order_changes

from chalicelib import bootstrap
from chalicelib.adapters.stock_ledger import StockLedger
from chalicelib.adapters.tables import OrderRecord
from chalicelib.domain.transactions import MAX_ITEMS

from .conftest import Api, merch_body, order_body, sandbox, ticket_body


def stock_of(sku_id: str) -> tuple[int, int, int]:
    sku = StockLedger().skus([sku_id])[sku_id]
    return sku.available, sku.reserved, sku.sold


def test_a_cancel_racing_a_change_releases_the_lines_the_order_holds_now(  # type: ignore[no-untyped-def]
        customer, make_product, monkeypatch) -> None:
    """Invariants 3 and 15. The cancel reads the order (a x2), closes its trade at WeChat; in
    that moment a change commits (b x2, attempt -2). The cancel's transaction is conditional on
    the status only (`transition`), not on the attempt the order was read on, so it goes
    through with the lines it read: it gives back a x2 (bob's reserved units, not alice's) and
    leaves b x2 reserved by a CANCELLED order forever; the -2 trade stays open at WeChat."""
    _, (a, b) = make_product(ticket_body([10, 10]))
    alice, bob = customer(), customer()
    assert bob.post("/orders", order_body((a, 2))).status_code == 201
    order_id = alice.post("/orders", order_body((a, 2))).json_body["order_id"]
    gateway = bootstrap.context().wechat_pay
    close = gateway.close
    raced: list[int] = []

    def close_while_the_customer_changes_it(out_trade_no: str) -> None:
        close(out_trade_no)
        if not raced:                 # the cancel's close: the change (another tab) gets in now
            raced.append(0)
            raced[0] = alice.patch(f"/orders/{order_id}", {"items": [{"sku_id": b, "quantity": 2}]}).status_code
    monkeypatch.setattr(gateway, "close", close_while_the_customer_changes_it)
    cancelled = alice.post(f"/orders/{order_id}/cancel")
    monkeypatch.undo()
    assert raced == [200]
    status = OrderRecord.get(order_id).status
    if cancelled.status_code == 200:
        assert status == "CANCELLED"
    # Whatever the outcome, the stock must match the live orders: bob's a x2 still reserved, and
    # b reserved only if alice's changed order is still pending.
    assert stock_of(a) == (8, 2, 0), (cancelled.status_code, status, stock_of(a), stock_of(b))
    assert stock_of(b) == ((8, 2, 0) if status == "PENDING_PAYMENT" else (10, 0, 0)), (status, stock_of(b))


def test_a_change_of_twenty_limited_lines_to_twenty_others_fits_one_transaction(  # type: ignore[no-untyped-def]
        customer, make_product, transactions) -> None:
    """Invariant 17. Placing is bounded at 20 lines (83 items at worst), but a change writes the
    old lines' and the new lines' stock, movements and purchase-limit counters together:
    20 x (SKU + movement + counter) given back + 20 x (SKU + movement + counter) taken + the
    unpaid holds + the order = 122 items, which DynamoDB refuses (a 500, and the trade was
    already closed: the order is left on an attempt nobody can pay)."""
    old, new = [], []
    for skus in (old, new):
        for _ in range(20):
            _, (sku,) = make_product(ticket_body([10], purchase_limit=8))
            skus.append(sku)
    alice = customer()
    placed = alice.post("/orders", order_body(*[(s, 1) for s in old]))
    assert placed.status_code == 201, placed.body
    order_id = placed.json_body["order_id"]
    transactions.clear()
    r = alice.patch(f"/orders/{order_id}", {"items": [{"sku_id": s, "quantity": 1} for s in new]})
    assert max((len(t) for t in transactions), default=0) <= MAX_ITEMS, max(len(t) for t in transactions)
    # Refused before WeChat is asked to close the trade: the order as it was, still payable.
    assert (r.status_code, r.json_body["code"]) == (409, "INVALID_CHANGE"), r.body
    assert alice.get(f"/orders/{order_id}").json_body["payment"]["out_trade_no"] == order_id


def test_changes_that_grow_sharded_lines_leave_an_order_that_can_still_be_paid(  # type: ignore[no-untyped-def]
        customer, admin: Api, make_product, anonymous, transactions, group_orders) -> None:
    """Invariant 17. A line takes its units from at most MAX_PLAN_BUCKETS (2) buckets when placed,
    which is what bounds the payment's transaction (one `sell` per bucket of every line). Each
    change that grows a sharded line adds the buckets of its new take to the ones it keeps
    (`merged`), so three changes leave a line on 8 buckets: 13 lines then need 104 sells in the
    payment's one transaction. The customer pays at WeChat, and the order can never be
    confirmed PAID (a 500 to every notice, and to the expiry's query that finds it paid)."""
    _, skus = make_product(ticket_body([10] * 13))
    for sku in skus:                   # 10 shards of 1 unit: every take of 2 comes from 2 buckets
        assert admin.post(f"/admin/inventory/{sku}/shards", {"shards": 10}).status_code == 200
    alice = customer()
    placed = alice.post("/orders", order_body(*[(s, 2) for s in skus]))
    assert placed.status_code == 201, placed.body
    order_id = placed.json_body["order_id"]
    for quantity in (4, 6, 8):
        r = alice.patch(f"/orders/{order_id}", {"items": [{"sku_id": s, "quantity": quantity} for s in skus]})
        # A line grows only beside the buckets it holds (at most 2): with a unit per shard it
        # cannot, and the change is refused before anything moves.
        assert r.status_code == 200 or (r.status_code, r.json_body["code"]) == (409, "INVALID_CHANGE"), r.body
    assert all(len(line.get("stock_shares") or {}) <= 2 for line in OrderRecord.get(order_id).lines)
    transactions.clear()
    paid = anonymous.post(f"/dev/payments/{order_id}/succeed", {})
    taken = sandbox().trade_state(OrderRecord.get(order_id).order_id)
    largest = max((len(t) for t in transactions), default=0)
    assert (OrderRecord.get(order_id).status, largest <= MAX_ITEMS) == ("PAID", True), (
        f"WeChat's trade {taken}, the order {OrderRecord.get(order_id).status}, its payment's transaction "
        f"{largest} items, the notice answered {paid.status_code}")


def test_a_change_that_fails_after_the_close_for_any_reason_leaves_the_order_payable(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, monkeypatch) -> None:
    """API.md: "A change refused after the close leaves the order as it was, payable on a new
    attempt". `change_order` opens the new attempt (`_reopen`) only on a DomainError; any other
    failure of the transaction after WeChat closed the trade (here DynamoDB's 100-item limit,
    in production also an SDK or network error) leaves the order on its CLOSED attempt: GET
    hands out parameters of a trade WeChat refuses, and it can only expire."""
    old, new = [], []
    for skus in (old, new):
        for _ in range(2):
            _, (sku,) = make_product(ticket_body([10], purchase_limit=8))
            skus.append(sku)
    alice = customer()
    order_id = alice.post("/orders", order_body(*[(s, 1) for s in old[:2]])).json_body["order_id"]

    def lost(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the Lambda's connection to DynamoDB dropped")
    monkeypatch.setattr(order_changes, "_commit", lost)
    failed = alice.patch(f"/orders/{order_id}", {"items": [{"sku_id": s, "quantity": 1} for s in new[:2]]})
    monkeypatch.undo()
    assert failed.status_code == 500
    shown = alice.get(f"/orders/{order_id}").json_body
    assert shown["status"] == "PENDING_PAYMENT" and shown["changes_left"] == 3
    payment = shown["payment"] or {}
    assert payment.get("out_trade_no") != order_id, (failed.status_code, sandbox().trade_state(order_id), payment)
    paid = anonymous.post(f"/dev/payments/{order_id}/succeed", {})
    assert paid.status_code == 200, (paid.status_code, paid.body)
    assert OrderRecord.get(order_id).status == "PAID"


def test_a_change_that_changes_nothing_does_not_spend_a_change_or_a_trade(  # type: ignore[no-untyped-def]
        customer, make_product) -> None:
    """Low. `{"coupon_id": null}` on an order without a coupon (or the same items again, e.g. a
    client retrying a PATCH whose answer it lost) is accepted as a change: the open trade is
    closed, a new attempt opened and one of the three changes spent, for an identical order."""
    _, (a,) = make_product(ticket_body([10]))
    alice = customer()
    order_id = alice.post("/orders", order_body((a, 2))).json_body["order_id"]
    same = alice.patch(f"/orders/{order_id}", {"items": [{"sku_id": a, "quantity": 2}]})
    nothing = alice.patch(f"/orders/{order_id}", {"coupon_id": None})
    shown = alice.get(f"/orders/{order_id}").json_body
    assert (shown["changes_left"], shown["payment"]["out_trade_no"]) == (3, order_id), (
        same.status_code, nothing.status_code, shown["changes_left"], shown["payment"]["out_trade_no"])


def test_the_goods_can_be_taken_out_of_an_order_by_a_change(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    """Low. A ticket + goods order (pickup) changed to its tickets alone: `as_new_order` keeps the
    order's fulfilment on a command that has no goods left, and pricing refuses it as a new order
    would (400 VALIDATION_ERROR on `fulfillment`, a field the customer did not send), although
    `changed()` is written to drop the fulfilment and address when no goods remain."""
    _, (t,) = make_product(ticket_body([10]))
    _, (m,) = make_product(merch_body([10]))
    alice = customer()
    order_id = alice.post("/orders", order_body((t, 1), (m, 1), fulfillment="pickup")).json_body["order_id"]
    r = alice.patch(f"/orders/{order_id}", {"items": [{"sku_id": t, "quantity": 1}]})
    assert r.status_code == 200, r.body
    assert r.json_body["total"] == 6000 and "fulfillment" not in r.json_body
