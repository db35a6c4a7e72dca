"""Review of after-sales for goods through the API on moto: defects an adversarial reading found,
each a failing test (API.md "After-sales for goods"; the refunds' rule that customers never see
staff names)."""
from __future__ import annotations

from typing import Any

from .conftest import merch_body
from .test_after_sales_api import collected


def test_customers_never_see_staff_names_in_an_after_sales_history(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, staff) -> None:
    """Orders' and refunds' views show customers "customer"/"staff"/the system, never a staff
    account (views._by; API.md "never staff names"). after_sale_routes.shown returns `by` as
    stored: the customer reads the support agent's username."""
    alice, order, (sku,) = collected(customer, make_product, anonymous, staff, [10])
    oid = order["order_id"]
    aid = alice.post(f"/orders/{oid}/after-sales", {"type": "return_refund", "lines": [{"sku_id": sku, "quantity": 1}],
                                                    "reason": "damaged"}).json_body["after_sale_id"]
    agent = staff("support", username="kefu-wang")
    assert agent.post(f"/admin/after-sales/{aid}/reject", {"reason": "no damage found"}).status_code == 200
    [seen] = alice.get(f"/orders/{oid}/after-sales").json_body["items"]
    assert "kefu-wang" not in [h["by"] for h in seen["history"]], seen["history"]


def test_a_receipt_with_restock_null_is_a_bad_request(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, staff) -> None:
    """AfterSaleReceive: `restock` is a required boolean. `{"restock": null}` is taken as false
    (200, restocked false): the goods are silently written off instead of the client being told."""
    alice, order, (sku,) = collected(customer, make_product, anonymous, staff, [10])
    oid = order["order_id"]
    aid = alice.post(f"/orders/{oid}/after-sales", {"type": "return_refund", "lines": [{"sku_id": sku, "quantity": 1}],
                                                    "reason": "damaged"}).json_body["after_sale_id"]
    support = staff("support")
    assert support.post(f"/admin/after-sales/{aid}/approve").status_code == 200
    r = support.post(f"/admin/after-sales/{aid}/receive", {"restock": None})
    assert r.status_code == 400, (r.status_code, r.json_body)


def test_no_body_gets_a_500(customer, make_product, anonymous, staff) -> None:  # type: ignore[no-untyped-def]
    """Bad input on every after-sales call answers 4xx, never 500 (nulls, wrong types, huge line
    lists, other orders' SKUs, tickets' SKUs, unknown ids)."""
    alice, order, (sku, other) = collected(customer, make_product, anonymous, staff, [10, 10])
    oid = order["order_id"]
    _, (elsewhere,) = make_product(merch_body([10], price=2500))
    bodies: list[Any] = [None, [], "x", 1, {}, {"type": None}, {"type": "return_refund", "lines": None, "reason": "other"},
                         {"type": "return_refund", "lines": [None], "reason": "other"},
                         {"type": "return_refund", "lines": [{"sku_id": sku, "quantity": None}], "reason": "other"},
                         {"type": "return_refund", "lines": [{"sku_id": 5, "quantity": 1}], "reason": "other"},
                         {"type": "return_refund", "lines": [{"sku_id": elsewhere, "quantity": 1}], "reason": "other"},
                         {"type": "return_refund", "lines": [{"sku_id": f"{sku}x{i}", "quantity": 1} for i in range(500)],
                          "reason": "other"},
                         {"type": "exchange", "lines": [{"sku_id": sku, "quantity": 1}], "reason": "size",
                          "exchange_sku_id": elsewhere},
                         {"type": "exchange", "lines": [{"sku_id": sku, "quantity": 1}], "reason": "size",
                          "exchange_sku_id": "../x"},
                         {"type": "exchange", "lines": [{"sku_id": sku, "quantity": 1}], "reason": "size",
                          "exchange_sku_id": ["x"]}]
    answers = [alice.post(f"/orders/{oid}/after-sales", b).status_code for b in bodies]
    assert all(400 <= a < 500 for a in answers), answers
    aid = alice.post(f"/orders/{oid}/after-sales", {"type": "exchange", "lines": [{"sku_id": sku, "quantity": 1}],
                                                    "reason": "size", "exchange_sku_id": other}).json_body["after_sale_id"]
    support = staff("support")
    steps = [(alice, f"/orders/{oid}/after-sales/{aid}/return"), (support, f"/admin/after-sales/{aid}/reject"),
             (support, f"/admin/after-sales/{aid}/receive"), (support, f"/admin/after-sales/{aid}/ship"),
             (alice, f"/orders/{oid}/after-sales/{'A' * 300}/cancel"), (support, f"/admin/after-sales/{'%20'}/approve")]
    small: list[Any] = [None, [], "x", {"at_counter": None}, {"pickup": None}, {"carrier": None, "tracking_no": 1},
                        {"reason": None}, {"restock": "no"}, {"note": None, "restock": True}]
    answers = [api.post(path, b).status_code for api, path in steps for b in small]
    assert all(a < 500 for a in answers), answers
    for query in ("status=", "type=x", "limit=-1", "cursor=zzz", "status=REQUESTED&type=exchange&limit=1000"):
        r = support.get(f"/admin/after-sales?{query}")
        assert r.status_code < 500, (query, r.status_code, r.body)
