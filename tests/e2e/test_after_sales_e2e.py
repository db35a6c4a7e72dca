"""After-sales for goods against the running stack (API.md "After-sales for goods"): a return
refunded through the payment sandbox by the refunds queue and restocked once, an exchange
collected at the counter under a new pickup code; and the races: two staff approving one
exchange at once, and an exchange taking a spec's last unit against customers ordering it.
Each race has its negative control on a twin without the protection (tests/e2e/twin.py)."""
from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import requests

from .conftest import SPOILED, Http, Site, fire_at_once, inventory_of, ledger_sum, order, until_broken, wait_for

RACERS = 8


def goods(admin: Http, stocks: list[int], price: int = 2500) -> list[str]:
    """A tote in as many specs as `stocks`, at one price (an exchange is for the same price)."""
    body = {"kind": "merch", "name": "E2E tote " + uuid.uuid4().hex[:6], "category": "souvenir", "status": "listed",
            "fulfillment": ["pickup"], "skus": [{"name": f"Size {i}", "price": price, "stock": s}
                                                for i, s in enumerate(stocks)]}
    r = admin.post("/admin/products", body)
    assert r.status_code == 201, r.text
    return [s["sku_id"] for s in r.json()["skus"]]


def collected(site: Site, sku: str, quantity: int = 2) -> tuple[Http, str]:
    """A customer paid for `quantity` units for pickup and collected them at the shop's counter."""
    (alice,) = site.customers(1)
    placed = alice.post("/orders", {**order((sku, quantity)), "fulfillment": "pickup"})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    assert site.pay(order_id).json()["notify_status"] == 204
    code = alice.get(f"/orders/{order_id}").json()["pickup"]["code"]
    assert site.admin.post("/redemptions", {"code": code, "gate": "shop", "device_id": "till-1"}).json()["result"] == "ok"
    return alice, order_id


def ask(customer: Http, order_id: str, sku: str, quantity: int, **body: Any) -> dict[str, Any]:
    kind = "exchange" if "exchange_sku_id" in body else "return_refund"
    r = customer.post(f"/orders/{order_id}/after-sales", {"type": kind, "lines": [{"sku_id": sku, "quantity": quantity}],
                                                          "reason": "size", **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_return_is_refunded_by_the_queue_and_its_goods_restocked_once(site: Site) -> None:
    admin = site.admin
    sku, _ = goods(admin, [10, 10])
    alice, order_id = collected(site, sku)
    refused = alice.post(f"/orders/{order_id}/refunds", {"reason": "too big"})
    assert (refused.status_code, refused.json()["code"]) == (409, "USE_AFTER_SALES")
    made = ask(alice, order_id, sku, 1)
    aid = made["after_sale_id"]
    assert admin.post(f"/admin/after-sales/{aid}/approve").json()["status"] == "APPROVED"
    sent = alice.post(f"/orders/{order_id}/after-sales/{aid}/return", {"carrier": "顺丰", "tracking_no": "SF1234567"})
    assert sent.json()["status"] == "RETURNING"
    received = admin.post(f"/admin/after-sales/{aid}/receive", {"restock": True, "note": "完好"}).json()
    assert (received["status"], received["amount"], received["restocked"]) == ("RECEIVED", 2500, True)
    stock = inventory_of(admin, sku)
    assert (stock["available"], stock["sold"]) == (9, 1) and ledger_sum(admin, sku) == 9

    def completed() -> bool:
        [after_sale] = alice.get(f"/orders/{order_id}/after-sales").json()["items"]
        return after_sale["status"] == "COMPLETED"
    assert wait_for(completed)                      # the refunds queue paid it through the sandbox
    [refund] = alice.get(f"/orders/{order_id}/refunds").json()["items"]
    assert (refund["status"], refund["amount"]) == ("SUCCEEDED", 2500)
    assert alice.get(f"/orders/{order_id}").json()["status"] == "PARTIALLY_REFUNDED"
    assert inventory_of(admin, sku)["available"] == 9 and ledger_sum(admin, sku) == 9     # once, not again
    again = alice.post(f"/orders/{order_id}/after-sales", {"type": "return_refund", "reason": "size",
                                                           "lines": [{"sku_id": sku, "quantity": 2}]})
    assert (again.status_code, again.json()["code"]) == (409, "INVALID_STATE")          # 1 unit is left to return


def test_an_exchange_is_collected_at_the_counter_under_a_new_pickup_code(site: Site) -> None:
    admin = site.admin
    small, large = goods(admin, [10, 3])
    alice, order_id = collected(site, small, 1)
    aid = ask(alice, order_id, small, 1, exchange_sku_id=large)["after_sale_id"]
    assert admin.post(f"/admin/after-sales/{aid}/approve").json()["status"] == "APPROVED"
    assert (inventory_of(admin, large)["available"], inventory_of(admin, large)["reserved"]) == (2, 1)
    assert alice.post(f"/orders/{order_id}/after-sales/{aid}/return", {"at_counter": True}).json()["status"] == "RETURNING"
    assert admin.post(f"/admin/after-sales/{aid}/receive", {"restock": False, "note": "污损"}).json()["restocked"] is False
    shipped = admin.post(f"/admin/after-sales/{aid}/ship", {"pickup": True}).json()
    assert shipped["status"] == "COMPLETED" and shipped["shipment"]["pickup_code"]
    stock = inventory_of(admin, large)
    assert (stock["available"], stock["reserved"], stock["sold"]) == (2, 0, 1) and ledger_sum(admin, large) == 2
    assert inventory_of(admin, small)["available"] == 9                   # the soiled one did not go back on sale
    r = admin.post("/redemptions", {"code": shipped["shipment"]["pickup_code"], "gate": "shop", "device_id": "till-1"})
    assert r.json()["result"] == "ok"                                     # the replacement handed over


# ---------------------------------------------------------------------------------- races
def two_approvals(setup: Site, racing: Site) -> tuple[Counter[int], dict[str, int], list[dict[str, Any]]]:
    """Staff at two desks approve one exchange at once (RACERS clicks): its replacement must be
    reserved once."""
    small, large = goods(setup.admin, [5, 5])
    if not racing.protected:
        SPOILED.update({small, large})
    alice, order_id = collected(setup, small, 1)
    aid = ask(alice, order_id, small, 1, exchange_sku_id=large)["after_sale_id"]
    answers = fire_at_once([lambda: racing.admin.post(f"/admin/after-sales/{aid}/approve")] * RACERS)
    [after_sale] = alice.get(f"/orders/{order_id}/after-sales").json()["items"]
    return Counter(r.status_code for r in answers), inventory_of(setup.admin, large), after_sale["history"]


def test_two_staff_approving_one_exchange_reserve_its_replacement_once(site: Site) -> None:
    statuses, stock, history = two_approvals(site, site)
    assert statuses == {200: 1, 409: RACERS - 1}, statuses
    assert (stock["available"], stock["reserved"]) == (4, 1)
    assert [h["status"] for h in history] == ["REQUESTED", "APPROVED"]


def test_negative_control_without_the_after_sales_condition_the_replacement_is_reserved_twice(  # type: ignore[no-untyped-def]
        site: Site, twin) -> None:
    with twin("after-sale-condition") as unprotected:
        seen = until_broken(lambda: two_approvals(site, unprotected), lambda r: r[1]["reserved"] > 1)
    statuses, stock, history = seen[-1]
    assert statuses[200] > 1 and stock["reserved"] > 1 and len(history) > 2, (statuses, stock)


def last_unit(setup: Site, racing: Site) -> tuple[int, dict[str, int], int, Counter[str]]:
    """An exchange asks for a spec's last unit while customers order it at the same moment."""
    small, large = goods(setup.admin, [5, 1])
    if not racing.protected:
        SPOILED.update({small, large})
    alice, order_id = collected(setup, small, 1)
    aid = ask(alice, order_id, small, 1, exchange_sku_id=large)["after_sale_id"]
    buyers = racing.customers(RACERS - 1)
    calls = [lambda: racing.admin.post(f"/admin/after-sales/{aid}/approve")] + \
        [lambda c=c: c.post("/orders", {**order((large, 1)), "fulfillment": "pickup"}) for c in buyers]
    answers: list[requests.Response] = fire_at_once(calls)
    won = sum(1 for r in answers if r.status_code in (200, 201))
    codes = Counter(r.json().get("code", "") for r in answers if r.status_code == 409)
    return won, inventory_of(setup.admin, large), ledger_sum(setup.admin, large), codes


def test_an_exchange_and_orders_racing_for_a_specs_last_unit_take_it_once(site: Site) -> None:
    won, stock, ledger, codes = last_unit(site, site)
    assert won == 1 and codes == {"SOLD_OUT": RACERS - 1}, (won, codes)
    assert (stock["available"], stock["reserved"]) == (0, 1) and ledger == 0


def test_negative_control_without_the_stock_condition_an_exchange_and_orders_oversell(  # type: ignore[no-untyped-def]
        site: Site, twin) -> None:
    with twin("sku-condition") as unprotected:
        seen = until_broken(lambda: last_unit(site, unprotected), lambda r: r[0] > 1 and r[1]["available"] < 0)
    won, stock, _, _ = seen[-1]
    assert won > 1 and stock["available"] < 0, [(w, s["available"]) for w, s, _, _ in seen]
