"""The schedule and the queues of the running stack: expiry racing payment, refunds by the pump."""
from __future__ import annotations

import time
from datetime import datetime

import requests

from .conftest import Http, fire_at_once, inventory_of, ledger_sum, order, ticket_product, wait_for


def sandbox_refunds(stack: dict[str, str]) -> list[dict]:  # type: ignore[type-arg]
    return requests.get(f"{stack['url']}/dev/payments/refunds", timeout=30).json()["items"]


def test_an_expiry_and_a_payment_fired_at_once_end_paid_or_expired_and_refunded(stack, admin, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [100])
    racers = customers(8)
    placed = [c.post("/orders", order((sku, 2))).json() for c in racers]
    latest = max(datetime.fromisoformat(p["expires_at"]) for p in placed)
    time.sleep(max(0.0, (latest - datetime.now(latest.tzinfo)).total_seconds()) + 0.5)
    calls = []
    for p in placed:
        calls.append(lambda p=p: requests.post(f"{stack['url']}/dev/payments/{p['order_id']}/succeed", json={},
                                               timeout=60).json())
        calls.append(lambda: requests.post(f"{stack['url']}/dev/schedule/run", timeout=60).json())
    fire_at_once(calls)
    paid = 0
    for customer, p in zip(racers, placed):
        status = customer.get(f"/orders/{p['order_id']}").json()["status"]
        tickets = customer.get(f"/orders/{p['order_id']}/tickets").json()["items"]
        refunded = wait_for(lambda: [r for r in sandbox_refunds(stack) if r["out_trade_no"] == p["order_id"]],
                            seconds=1 if status == "PAID" else 30)
        if status == "PAID":                 # the payment won: tickets, no refund
            assert len(tickets) == 2 and not refunded
            paid += 1
        else:                                # the expiry won: no tickets, the money goes back
            assert status == "EXPIRED" and tickets == [] and [r["amount"] for r in refunded] == [p["total"]]
    stock = inventory_of(admin, sku)
    assert (stock["available"], stock["reserved"], stock["sold"]) == (100 - 2 * paid, 0, 2 * paid)
    assert ledger_sum(admin, sku) == stock["available"]


def test_the_pump_carries_a_refund_to_the_gateway(stack, admin, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [10])
    (alice,) = customers(1)
    placed = alice.post("/orders", order((sku, 2))).json()
    requests.post(f"{stack['url']}/dev/payments/{placed['order_id']}/succeed", json={}, timeout=30)
    refund = alice.post(f"/orders/{placed['order_id']}/refunds", {"reason": "rain"}).json()
    assert refund["status"] == "APPROVED"
    assert wait_for(lambda: alice.get(f"/orders/{placed['order_id']}").json()["status"] == "REFUNDED")
    assert [r["out_refund_no"] for r in sandbox_refunds(stack) if r["out_trade_no"] == placed["order_id"]] == [
        refund["refund_id"]]
    stock = inventory_of(admin, sku)
    assert (stock["available"], stock["sold"]) == (10, 0) and ledger_sum(admin, sku) == 10


def test_low_stock_alerts_reach_the_back_office(stack, admin: Http, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [3], threshold=2)
    (alice,) = customers(1)
    assert alice.post("/orders", order((sku, 2))).status_code == 201          # 3 -> 1: below 2

    def alerts_for_sku() -> list[dict]:  # type: ignore[type-arg]
        return [a for a in admin.get("/admin/alerts?limit=200").json()["items"]
                if a["kind"] == "low_stock" and a["details"]["sku_id"] == sku]
    assert len(wait_for(alerts_for_sku)) == 1
