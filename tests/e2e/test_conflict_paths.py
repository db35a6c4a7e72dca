"""Every path the app takes when its transactions keep colliding with others, reached through
conflicts the embedded AWS injects (TransactionCanceledException: TransactionConflict) into the
transactions that touch one test's own items."""
from __future__ import annotations

from typing import Any

import requests

from .conftest import Site, inventory_of, ledger_sum, order, wait_for, wait_past


def conflicts(site_moto: str, match: str | list[str], count: int, target: str = "TransactWriteItems",
              fault: str = "conflict") -> None:
    r = requests.post(site_moto + "/__faults__", json={"target": target, "fault": fault, "count": count,
                                                       "match": match}, timeout=10)
    assert r.status_code == 200


def left(site_moto: str) -> int:
    return sum(s["count"] for s in requests.get(site_moto + "/__faults__", timeout=10).json()["scripted"])


def test_an_order_that_keeps_colliding_answers_try_again_and_reserves_nothing(site: Site, stack: dict[str, Any]) -> None:
    (sku,) = site.products([5])
    (alice,) = site.customers(1)
    conflicts(stack["moto"], sku, 100)
    r = alice.post("/orders", order((sku, 1)))
    assert r.status_code == 409 and r.json()["code"] == "TRY_AGAIN"
    tried = 100 - left(stack["moto"])
    conflicts(stack["moto"], sku, 0)
    assert 3 < tried < 20                      # bounded: the commit's retries times the order's re-reads
    stock = inventory_of(site.admin, sku)
    assert (stock["available"], stock["reserved"]) == (5, 0) and ledger_sum(site.admin, sku) == 5
    # a few conflicts are absorbed: the customer never sees them
    conflicts(stack["moto"], sku, 4)
    assert alice.post("/orders", order((sku, 1))).status_code == 201
    assert left(stack["moto"]) == 0 and inventory_of(site.admin, sku)["reserved"] == 1


def test_an_order_on_a_throttled_hot_item_sends_one_transaction_and_the_session_splits_itself(
        site: Site, stack: dict[str, Any]) -> None:
    """DynamoDB cancels a transaction whose item is over its partition's throughput with the reason
    ThrottlingError. The order that met it answers TRY_AGAIN at once with Retry-After, having sent
    that one transaction (it once sent up to nine, and once became a 500); the SKU, unsharded, is
    split by the alerts worker, staff are told, and the next orders go to its shards."""
    (sku,) = site.products([40])
    (alice,) = site.customers(1)
    # Only an order's transaction holds both the SKU and a customer's unpaid holds (the split the
    # worker makes meanwhile holds the SKU alone).
    conflicts(stack["moto"], [sku, "#unpaid"], 100, fault="item-throttled")
    r = alice.post("/orders", order((sku, 1)))
    tried = 100 - left(stack["moto"])
    conflicts(stack["moto"], sku, 0)
    assert r.status_code == 409 and r.json()["code"] == "TRY_AGAIN", r.text
    assert r.headers["Retry-After"] in ("1", "2", "3") and tried == 1
    stock = inventory_of(site.admin, sku)
    assert (stock["reserved"], stock["available"]) == (0, 40) and ledger_sum(site.admin, sku) == 40

    split = wait_for(lambda: inventory_of(site.admin, sku)["stock_shards"] or None, seconds=30)
    assert split == 8                            # 36 of its 40 units over 8 shards, 4 left in place
    def told() -> list[dict[str, Any]]:
        return [a for a in site.admin.get("/admin/alerts?limit=100").json()["items"]
                if a["kind"] == "stock_auto_split" and a["details"].get("sku_id") == sku]
    assert len(wait_for(told, seconds=10)) == 1 and "8" in told()[0]["message"]     # written with the split
    assert alice.post("/orders", order((sku, 2))).status_code == 201
    stock = inventory_of(site.admin, sku)
    assert (stock["reserved"], stock["available"]) == (2, 38) and ledger_sum(site.admin, sku) == 38


def test_a_stocktake_that_keeps_colliding_answers_stock_changed(site: Site, stack: dict[str, Any]) -> None:
    (sku,) = site.products([7])
    conflicts(stack["moto"], sku, 100)
    r = site.admin.post("/admin/stocktakes", {"counts": [{"sku_id": sku, "counted": 6}], "note": "shelf"})
    assert r.status_code == 409 and r.json()["code"] == "STOCK_CHANGED"
    conflicts(stack["moto"], sku, 2)
    r = site.admin.post("/admin/stocktakes", {"counts": [{"sku_id": sku, "counted": 6}], "note": "shelf"})
    assert r.status_code == 201 and r.json()["lines"][0]["difference"] == -1
    assert inventory_of(site.admin, sku)["available"] == 6 and ledger_sum(site.admin, sku) == 6


def test_an_edit_that_keeps_colliding_answers_edit_conflict(site: Site, stack: dict[str, Any]) -> None:
    (sku,) = site.products([3])
    product_id = sku.split("-")[0]
    conflicts(stack["moto"], product_id, 100)
    r = site.admin.patch(f"/admin/products/{product_id}", {"name": "Renamed hall"})
    assert r.status_code == 409 and r.json()["code"] == "EDIT_CONFLICT"
    conflicts(stack["moto"], product_id, 2)
    r = site.admin.patch(f"/admin/products/{product_id}", {"name": "Renamed hall"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed hall"


def test_a_payment_confirmation_is_retried_through_conflicts_and_never_refunded(site: Site,
                                                                              stack: dict[str, Any]) -> None:
    (sku,) = site.products([10])
    (alice,) = site.customers(1)
    placed = alice.post("/orders", order((sku, 2))).json()
    conflicts(stack["moto"], placed["order_id"], 5)
    assert site.pay(placed["order_id"]).json()["notify_status"] == 204
    assert left(stack["moto"]) == 0
    assert alice.get(f"/orders/{placed['order_id']}").json()["status"] == "PAID"
    # WeChat is asked to deliver again while the confirmation cannot be proven either way
    other = alice.post("/orders", order((sku, 1))).json()
    conflicts(stack["moto"], other["order_id"], 100)
    assert site.pay(other["order_id"]).json()["notify_status"] == 503
    conflicts(stack["moto"], other["order_id"], 0)
    assert alice.get(f"/orders/{other['order_id']}").json()["status"] == "PENDING_PAYMENT"
    # WeChat holds the money: before the order would expire, the schedule asks and confirms it.
    wait_past(other["expires_at"])
    requests.post(f"{site.url}/dev/schedule/run", timeout=60)
    assert wait_for(lambda: alice.get(f"/orders/{other['order_id']}").json()["status"] == "PAID")
    refunds = site.admin.get("/dev/payments/refunds").json()["items"]
    assert [r for r in refunds if r["out_trade_no"] in (placed["order_id"], other["order_id"])] == []
