"""Review of after-sales for goods through the API on moto: defects an adversarial reading found,
each a failing test (API.md "After-sales for goods"; the refunds' rule that customers never see
staff names)."""
from __future__ import annotations

from typing import Any

from .conftest import merch_body, order_body


def collected(customer, make_product, anonymous, staff, stocks: list[int], quantity: int = 2,  # type: ignore[no-untyped-def]
              price: int = 2500) -> tuple[Any, dict[str, Any], list[str]]:
    _, skus = make_product(merch_body(stocks, price=price))
    alice = customer()
    order = alice.post("/orders", order_body((skus[0], quantity), fulfillment="pickup")).json_body
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
    pickup = alice.get(f"/orders/{order['order_id']}").json_body["pickup"]
    assert staff("scanner").post("/redemptions", {"code": pickup["code"], "gate": "shop", "device_id": "till"}
                                 ).status_code == 200
    return alice, order, skus


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
