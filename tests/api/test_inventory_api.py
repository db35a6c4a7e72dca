from __future__ import annotations

from chalicelib.adapters.stock_ledger import StockLedger
from chalicelib.adapters.tables import SkuRecord

from .conftest import Api, merch_body, order_body


def ledger_matches_stock(sku_id: str) -> bool:
    return sum(StockLedger().all_movements(sku_id)) == int(SkuRecord.get(sku_id).available)


def test_adjustments_move_stock_and_never_below_zero(admin: Api, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(merch_body([5]))
    r = admin.post(f"/admin/inventory/{sku}/adjustments", {"delta": 7, "reason": "delivery"})
    assert r.status_code == 200 and r.json_body["available"] == 12
    r = admin.post(f"/admin/inventory/{sku}/adjustments", {"delta": -13, "reason": "damaged"})
    assert r.status_code == 409 and r.json_body["code"] == "NEGATIVE_STOCK"
    assert r.json_body["details"]["available"] == 12
    assert admin.post(f"/admin/inventory/{sku}/adjustments", {"delta": -12, "reason": "recall"}).json_body[
        "available"] == 0
    assert admin.post("/admin/inventory/PNOPE-S1/adjustments", {"delta": 1, "reason": "x"}).status_code == 404
    assert admin.post("/admin/inventory/P0000000000AA-S000000/adjustments",
                      {"delta": 1, "reason": "x"}).status_code == 404
    assert ledger_matches_stock(sku)


def test_stocktake_records_and_applies_differences(admin: Api, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (a, b) = make_product(merch_body([10, 4]))
    r = admin.post("/admin/stocktakes", {"counts": [{"sku_id": a, "counted": 8}, {"sku_id": b, "counted": 4}],
                                         "note": "monthly count"})
    assert r.status_code == 201, r.body
    assert r.json_body["stocktake_id"].startswith("ST")
    assert r.json_body["lines"] == [{"sku_id": a, "expected": 10, "counted": 8, "difference": -2},
                                    {"sku_id": b, "expected": 4, "counted": 4, "difference": 0}]
    assert int(SkuRecord.get(a).available) == 8 and ledger_matches_stock(a) and ledger_matches_stock(b)
    movements = admin.get(f"/admin/inventory/{a}/movements").json_body["items"]
    assert [(m["delta"], m["reason"].split()[0], m["actor"]) for m in movements] == [
        (10, "initial_stock", "boss"), (-2, "stocktake", "boss")]
    missing = admin.post("/admin/stocktakes", {"counts": [{"sku_id": a, "counted": 1},
                                                          {"sku_id": "P0000000000AA-S000000", "counted": 1}]})
    assert missing.status_code == 404 and int(SkuRecord.get(a).available) == 8


def test_inventory_list_and_low_stock_filter(staff, make_product) -> None:  # type: ignore[no-untyped-def]
    body = merch_body([10, 1])
    body["skus"][0]["low_stock_threshold"] = 3
    body["skus"][1]["low_stock_threshold"] = 3
    _, (plenty, low) = make_product(body)
    auditor = staff("auditor")
    items = auditor.get("/admin/inventory").json_body["items"]
    assert {i["sku_id"]: (i["available"], i["reserved"], i["sold"]) for i in items} == {
        plenty: (10, 0, 0), low: (1, 0, 0)}
    below = auditor.get("/admin/inventory?below_threshold=true").json_body["items"]
    assert [i["sku_id"] for i in below] == [low]


def test_movement_ledger_names_the_order(admin: Api, customer, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(merch_body([5]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 2))).json_body
    alice.post(f"/orders/{order['order_id']}/cancel")
    movements = admin.get(f"/admin/inventory/{sku}/movements").json_body["items"]
    assert [(m["delta"], m["reason"], m["order_id"]) for m in movements] == [
        (5, "initial_stock", None), (-2, "order_reserved", order["order_id"]),
        (2, "order_cancelled", order["order_id"])]
    assert ledger_matches_stock(sku)


def test_the_stock_list_pages_through_every_index_shard(staff, make_product) -> None:  # type: ignore[no-untyped-def]
    body = merch_body([5, 1, 7, 0, 2, 9, 1])
    for s in body["skus"]:
        s["low_stock_threshold"] = 3
    _, skus = make_product(body)
    auditor = staff("auditor")

    def every_page(query: str) -> list[str]:
        seen: list[str] = []
        r = auditor.get(f"/admin/inventory?limit=2{query}")
        while True:
            seen += [i["sku_id"] for i in r.json_body["items"]]
            if not r.json_body["next"]:
                return seen
            r = auditor.get(f"/admin/inventory?limit=2{query}&cursor={r.json_body['next']}")
    assert every_page("") == sorted(skus)
    assert every_page("&below_threshold=true") == sorted(s for s, n in zip(skus, [5, 1, 7, 0, 2, 9, 1]) if n < 3)
