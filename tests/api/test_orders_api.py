from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from chalicelib.adapters.stock_ledger import StockLedger
from chalicelib.adapters.tables import MovementRecord, OrderRecord, PurchaseCounterRecord, SkuRecord
from chalicelib.adapters.order_records import index_key, index_keys

from .conftest import CONTACT, Api, merch_body, order_body, ticket_body

ALICE_ID = "11010519491231002X"
BOB_ID = "110105198001010016"


def stock(sku_id: str) -> tuple[int, int]:
    record = SkuRecord.get(sku_id)
    return int(record.available), int(record.reserved)


def test_place_order_prices_from_the_catalog(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (a, b) = make_product(ticket_body([10, 10], price=4500))
    alice = customer()
    body = order_body((a, 2), (b, 1))
    body["items"][0]["price"] = 1          # a client's price is ignored
    r = alice.post("/orders", body)
    assert r.status_code == 201, r.body
    order = r.json_body
    assert order["status"] == "PENDING_PAYMENT" and order["total"] == 13500 and "payment" in order
    assert [(i["sku_id"], i["quantity"], i["unit_price"]) for i in order["items"]] == [(a, 2, 4500), (b, 1, 4500)]
    assert len(order["order_id"]) <= 32 and order["order_id"].isalnum()
    created = datetime.fromisoformat(order["created_at"])
    assert datetime.fromisoformat(order["expires_at"]) - created == timedelta(seconds=900)
    assert order["history"][0]["status"] == "PENDING_PAYMENT"
    assert order["contact"] == {"name": CONTACT["name"], "phone": "138****8000"}
    assert stock(a) == (8, 2) and stock(b) == (9, 1)


def test_placing_an_order_is_one_batched_read_and_one_transaction(customer, make_product, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    _, skus = make_product(ticket_body([5, 5, 5], purchase_limit=10))
    _, (goods,) = make_product(merch_body([5]))
    alice = customer()
    ddb_calls.reset()
    r = alice.post("/orders", order_body(*[(s, 1) for s in skus], (goods, 1)), headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201
    # The container's first order reads the promotions and tiers (one Query, kept 30 seconds).
    assert ddb_calls.operations == ["Query", "BatchGetItem", "TransactWriteItems"]
    ddb_calls.reset()
    r = alice.post("/orders", order_body(*[(s, 1) for s in skus], (goods, 1)), headers={"Idempotency-Key": "k2"})
    assert r.status_code == 201
    assert ddb_calls.operations == ["BatchGetItem", "TransactWriteItems"]


def test_all_lines_or_none(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (plenty, scarce) = make_product(ticket_body([10, 1]))
    bob = customer()
    assert bob.post("/orders", order_body((scarce, 1))).status_code == 201
    r = customer().post("/orders", order_body((plenty, 3), (scarce, 1)))
    assert r.status_code == 409 and r.json_body["code"] == "SOLD_OUT" and r.json_body["details"]["sku_id"] == scarce
    assert stock(plenty) == (10, 0) and stock(scarce) == (0, 1)
    assert sum(StockLedger().all_movements(plenty)) == 10


def test_the_transaction_itself_refuses_what_the_read_allowed(customer, make_product, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """If stock goes between the read and the write, the conditional write decides: nothing is
    reserved, and the answer names the SKU."""
    _, (plenty, scarce) = make_product(ticket_body([10, 1]))
    from chalicelib.adapters.order_placement import PlacementReads
    real = PlacementReads.snapshot

    def snapshot_then_someone_buys(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        snap = real(self, *args, **kwargs)
        SkuRecord(sku_id=scarce).update(actions=[SkuRecord.available.set(0)])
        return snap
    monkeypatch.setattr(PlacementReads, "snapshot", snapshot_then_someone_buys)
    r = customer().post("/orders", order_body((plenty, 2), (scarce, 1)))
    assert r.status_code == 409 and r.json_body["details"]["sku_id"] == scarce
    assert stock(plenty) == (10, 0)
    assert [m.order_id for m in MovementRecord.query(plenty)] == [None]
    assert [o for k in index_keys("order") for o in OrderRecord.all_orders_index.query(k)] == []


def test_purchase_limit_per_customer_per_product(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    product, (a, b) = make_product(ticket_body([20, 20], purchase_limit=3))
    alice = customer()
    first = alice.post("/orders", order_body((a, 1), (b, 1)))
    assert first.status_code == 201
    r = alice.post("/orders", order_body((a, 2)))
    assert r.status_code == 422 and r.json_body["code"] == "PURCHASE_LIMIT_EXCEEDED"
    assert customer().post("/orders", order_body((a, 3))).status_code == 201    # another customer
    alice.post(f"/orders/{first.json_body['order_id']}/cancel")                  # cancelling gives units back
    assert alice.post("/orders", order_body((a, 3))).status_code == 201


def test_real_name_visitors_are_encrypted_and_masked(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5], real_name=True))
    alice = customer()
    visitors = [{"name": "Alice", "id_number": ALICE_ID}, {"name": "Bob", "id_number": BOB_ID}]
    missing = alice.post("/orders", order_body((sku, 2), visitors=visitors[:1]))
    assert missing.status_code == 422 and missing.json_body["code"] == "VISITORS_REQUIRED"
    r = alice.post("/orders", order_body((sku, 2), visitors=visitors))
    assert r.status_code == 201
    assert [v["id_number"] for v in r.json_body["visitors"]] == ["110***********002X", "110***********0016"]
    raw = json.dumps(OrderRecord.get(r.json_body["order_id"]).attribute_values, default=str)
    assert ALICE_ID not in raw and BOB_ID not in raw and CONTACT["phone"] not in raw
    shown = alice.get(f"/orders/{r.json_body['order_id']}").json_body
    assert ALICE_ID not in json.dumps(shown) and shown["visitors"][0]["name"] == "Alice"


def test_no_personal_data_is_plain_at_rest_and_masks_hide_at_least_half(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    """A 7-character passport number, the phone and the ID numbers: encrypted in the order, the
    idempotency record and the tickets; shown with at least half hidden, however short."""
    from chalicelib.adapters.tables import IdempotencyRecord, TicketRecord
    passport = "E123456"
    _, (sku,) = make_product(ticket_body([5], real_name=True))
    alice = customer()
    visitors = [{"name": "Ann", "id_type": "passport", "id_number": passport},
                {"name": "Bob", "id_number": BOB_ID}]
    r = alice.post("/orders", order_body((sku, 2), visitors=visitors), headers={"Idempotency-Key": "pp-1"})
    assert r.status_code == 201
    shown = [v["id_number"] for v in r.json_body["visitors"]]
    assert shown == ["E****56", "110***********0016"]
    assert all(v.count("*") * 2 >= len(v) for v in shown)
    anonymous.post(f"/dev/payments/{r.json_body['order_id']}/succeed", {})
    tickets = alice.get(f"/orders/{r.json_body['order_id']}/tickets").json_body["items"]
    assert sorted(t["visitor"]["id_number"] for t in tickets) == sorted(shown)
    at_rest = json.dumps([dict(x.attribute_values) for model in (OrderRecord, IdempotencyRecord, TicketRecord)
                          for x in model.scan()], default=str, ensure_ascii=False)   # a test may scan
    for secret in (passport, BOB_ID, CONTACT["phone"], "Ann"):
        assert secret not in at_rest, secret
    again = alice.post("/orders", order_body((sku, 2), visitors=visitors), headers={"Idempotency-Key": "pp-1"})
    assert again.json_body["order_id"] == r.json_body["order_id"]
    assert [v["id_number"] for v in again.json_body["visitors"]] == shown


def test_idempotency_key_returns_the_first_response(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5]))
    alice = customer()
    body = order_body((sku, 1))
    first = alice.post("/orders", body, headers={"Idempotency-Key": "tap-1"})
    again = alice.post("/orders", body, headers={"Idempotency-Key": "tap-1"})
    assert first.status_code == again.status_code == 201 and first.json_body == again.json_body
    assert stock(sku) == (4, 1)
    other = alice.post("/orders", order_body((sku, 2)), headers={"Idempotency-Key": "tap-1"})
    assert other.status_code == 422 and other.json_body["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert customer().post("/orders", body, headers={"Idempotency-Key": "tap-1"}).status_code == 201
    assert stock(sku) == (3, 2)


@pytest.mark.parametrize("body,status,code", [
    ({"items": [{"sku_id": "P0000000000AA-S000000", "quantity": 1}], "contact": CONTACT}, 404, "SKU_NOT_FOUND"),
    ({"items": [{"sku_id": "garbage", "quantity": 1}], "contact": CONTACT}, 404, "SKU_NOT_FOUND"),
    ({"items": [{"sku_id": "S", "quantity": 2.5}], "contact": CONTACT}, 400, "VALIDATION_ERROR"),
    ({"items": [{"sku_id": "S", "quantity": -1}], "contact": CONTACT}, 400, "VALIDATION_ERROR"),
    ({"items": [{"sku_id": "S", "quantity": 10 ** 9}], "contact": CONTACT}, 400, "VALIDATION_ERROR"),
    ({"items": [{"sku_id": f"S{i}", "quantity": 1} for i in range(500)], "contact": CONTACT}, 400,
     "VALIDATION_ERROR"),
    ({"items": "all of them", "contact": CONTACT}, 400, "VALIDATION_ERROR"),
    ({"items": [{"sku_id": "S", "quantity": 1}]}, 400, "VALIDATION_ERROR"),
])
def test_bad_orders_are_4xx_and_change_nothing(customer, make_product, body, status, code) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5]))
    body = json.loads(json.dumps(body).replace('"S"', f'"{sku}"'))
    r = customer().post("/orders", body)
    assert r.status_code == status and r.json_body["code"] == code, r.body
    assert stock(sku) == (5, 0) and [o for k in index_keys("order") for o in OrderRecord.all_orders_index.query(k)] == []


def test_non_json_and_nan_bodies_are_400(customer) -> None:  # type: ignore[no-untyped-def]
    alice = customer()
    for raw in (b"", b"nope", b'{"items": NaN}', b"\xff\xfe"):
        r = alice.post("/orders", raw=raw)
        assert r.status_code == 400 and r.json_body["code"] in ("VALIDATION_ERROR", "MALFORMED_JSON"), raw


def test_not_on_sale(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5], status="unlisted"))
    r = customer().post("/orders", order_body((sku, 1)))
    assert r.status_code == 409 and r.json_body["code"] == "NOT_ON_SALE"


def test_orders_are_visible_to_their_owner_and_order_staff_only(customer, staff, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5]))
    alice, mallory = customer(), customer()
    order_id = alice.post("/orders", order_body((sku, 1))).json_body["order_id"]
    assert alice.get(f"/orders/{order_id}").status_code == 200
    r = mallory.get(f"/orders/{order_id}")
    assert r.status_code == 404 and r.json_body["code"] == "ORDER_NOT_FOUND"
    assert mallory.post(f"/orders/{order_id}/cancel").status_code == 404
    for role in ("support", "finance", "admin"):
        assert staff(role).get(f"/orders/{order_id}").status_code == 200
    assert staff("scanner").get(f"/orders/{order_id}").status_code == 403
    assert staff("merchandiser").get(f"/orders/{order_id}").status_code == 403
    assert [o["order_id"] for o in alice.get("/orders").json_body["items"]] == [order_id]
    assert mallory.get("/orders").json_body == {"items": [], "next": None}


def test_my_orders_newest_first_with_cursor(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([20]))
    alice = customer()
    ids = [alice.post("/orders", order_body((sku, 1))).json_body["order_id"] for _ in range(3)]
    page = alice.get("/orders?limit=2").json_body
    assert [o["order_id"] for o in page["items"]] == ids[::-1][:2] and page["next"]
    rest = alice.get(f"/orders?limit=2&cursor={page['next']}").json_body
    assert [o["order_id"] for o in rest["items"]] == ids[:1]
    # someone else's cursor is refused, not followed
    assert customer().get(f"/orders?cursor={page['next']}").status_code == 400


def test_cancel_releases_stock_once(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    product, (sku,) = make_product(ticket_body([5]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 3))).json_body
    r = alice.post(f"/orders/{order['order_id']}/cancel")
    assert r.status_code == 200 and r.json_body["status"] == "CANCELLED"
    assert [h["status"] for h in r.json_body["history"]] == ["PENDING_PAYMENT", "CANCELLED"]
    again = alice.post(f"/orders/{order['order_id']}/cancel")
    assert again.status_code == 409 and again.json_body["code"] == "INVALID_STATE"
    assert stock(sku) == (5, 0) and sum(StockLedger().all_movements(sku)) == 5
    assert OrderRecord.get(order["order_id"]).pending is None    # left the pending-expiry index


def test_cancel_is_conditional_on_the_status_it_read(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([5]))
    alice = customer()
    order_id = alice.post("/orders", order_body((sku, 2))).json_body["order_id"]
    from chalicelib import bootstrap
    ctx = bootstrap.context()
    real_get = ctx.orders.get

    def read_then_paid_elsewhere(oid: str):  # type: ignore[no-untyped-def]
        found = real_get(oid)
        OrderRecord(order_id=oid).update(actions=[OrderRecord.status.set("PAID")])
        return found
    ctx.orders.get = read_then_paid_elsewhere  # type: ignore[method-assign]
    try:
        r = alice.post(f"/orders/{order_id}/cancel")
    finally:
        ctx.orders.get = real_get  # type: ignore[method-assign]
    assert r.status_code == 409 and r.json_body["code"] == "INVALID_STATE"
    assert stock(sku) == (3, 2)


def test_staff_search_by_id_phone_and_product(customer, staff, make_product) -> None:  # type: ignore[no-untyped-def]
    product, (sku,) = make_product(ticket_body([10]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 1))).json_body
    other = alice.post("/orders", {**order_body((sku, 1)), "contact": {"name": "Li", "phone": "13900000000"}}).json_body
    support = staff("support")

    def ids(query: str) -> list[str]:
        r = support.get(f"/admin/orders?{query}")
        assert r.status_code == 200, r.body
        return [o["order_id"] for o in r.json_body["items"]]
    assert ids(f"q={order['order_id']}") == [order["order_id"]]
    assert ids("q=13800138000") == [order["order_id"]]
    assert ids("q=138-0013-8000") == [order["order_id"]]
    assert set(ids(f"q={product['name'][-6:].upper()}")) == {order["order_id"], other["order_id"]}
    assert set(ids("status=PENDING_PAYMENT")) == {order["order_id"], other["order_id"]}
    assert ids("status=PAID") == []
    assert ids("q=" + "0" * 40) == []  # too long for a phone: searched as a name, not refused
    assert support.get("/admin/orders?status=LOST").status_code == 400


def test_ship_needs_a_paid_postal_order(customer, staff, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(merch_body([5]))
    alice = customer()
    address = {"recipient": "Alice", "phone": "13900000000", "region": "Beijing", "detail": "1 Palace Rd"}
    order = alice.post("/orders", order_body((sku, 1), fulfillment="shipping", address=address)).json_body
    assert order["fulfillment"] == "shipping" and order["address"]["phone"] == "139****0000"
    support = staff("support")
    r = support.post(f"/admin/orders/{order['order_id']}/ship", {"carrier": "SF", "tracking_no": "SF123"})
    assert r.status_code == 409 and r.json_body["code"] == "INVALID_STATE"        # not paid yet
    OrderRecord(order_id=order["order_id"]).update(actions=[OrderRecord.status.set("PAID")])
    r = support.post(f"/admin/orders/{order['order_id']}/ship", {"carrier": "SF", "tracking_no": "SF123"})
    assert r.status_code == 200 and r.json_body["status"] == "SHIPPED"
    assert r.json_body["shipment"] == {"carrier": "SF", "tracking_no": "SF123"}
    assert staff("finance").post(f"/admin/orders/{order['order_id']}/ship", {}).status_code == 403


def test_available_in_the_catalog_is_live(customer, anonymous: Api, make_product) -> None:  # type: ignore[no-untyped-def]
    product, (sku,) = make_product(ticket_body([5]))
    buyer = customer()
    customer_id = OrderRecord.get(buyer.post("/orders", order_body((sku, 2))).json_body["order_id"]).user_id
    skus = anonymous.get(f"/catalog/products/{product['product_id']}").json_body["skus"]
    assert skus[0]["available"] == 3
    assert [c.counter_id for c in PurchaseCounterRecord.scan()] == [f"{customer_id}#unpaid"]   # no limit, no counter


def test_orders_placed_and_sold_out_rejections_are_counted(customer, make_product, capsys) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([1]))
    capsys.readouterr()
    customer().post("/orders", order_body((sku, 1)))
    customer().post("/orders", order_body((sku, 1)))
    names = [m["Name"] for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')
             for d in json.loads(line)["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
    assert names.count("OrdersPlaced") == 1 and names.count("SoldOutRejections") == 1


def test_staff_lists_page_through_every_index_shard_newest_first(customer, staff, make_product, anonymous,
                                                                 group_orders) -> None:  # type: ignore[no-untyped-def]
    """The all-orders and status indexes are spread over shards: pages merge them, in order,
    with nothing skipped or shown twice."""
    _, (sku,) = make_product(ticket_body([40]))
    alice = customer()
    placed = [alice.post("/orders", order_body((sku, 1))).json_body["order_id"] for _ in range(11)]
    for order_id in placed[::3]:
        anonymous.post(f"/dev/payments/{order_id}/succeed", {})
    assert len({index_key("order", o) for o in placed}) > 3           # spread, not all in one shard
    support = staff("support")

    def every_page(query: str, limit: int) -> list[str]:
        seen: list[str] = []
        r = support.get(f"/admin/orders?{query}&limit={limit}")
        while True:
            assert r.status_code == 200 and len(r.json_body["items"]) <= limit
            seen += [o["order_id"] for o in r.json_body["items"]]
            if not r.json_body["next"]:
                return seen
            r = support.get(f"/admin/orders?{query}&limit={limit}&cursor={r.json_body['next']}")
    newest_first = placed[::-1]
    assert every_page("x=1", 3) == newest_first and every_page("x=1", 50) == newest_first
    assert every_page("status=PAID", 2) == [o for o in newest_first if o in placed[::3]]
    assert every_page("status=PENDING_PAYMENT", 4) == [o for o in newest_first if o not in placed[::3]]
    assert alice.get("/orders?limit=4").json_body["items"][0]["order_id"] == placed[-1]
