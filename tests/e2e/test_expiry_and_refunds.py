"""The schedule, the queues and WeChat's notices on the running stack: expiry racing payment, a
lost payment notice, refunds confirmed by WeChat's REFUND.SUCCESS notice through the pump, a
refunded pickup code, low-stock alerts."""
from __future__ import annotations

import time
import uuid
from typing import Any

import requests

from .conftest import Http, Site, fire_at_once, inventory_of, ledger_sum, order, ticket_product, wait_for, wait_past


def sandbox_refunds(stack: dict[str, str]) -> list[dict]:  # type: ignore[type-arg]
    return requests.get(f"{stack['url']}/dev/payments/refunds", timeout=30).json()["items"]


def pay(stack: dict[str, str], order_id: str, **body: object) -> requests.Response:
    return requests.post(f"{stack['url']}/dev/payments/{order_id}/succeed", json=body, timeout=60)


def race_expiry_and_payment(site: Site) -> tuple[list[tuple[str, list[Any], Any]], dict[str, int], int]:
    """Eight orders past their expiry: each one's payment and the expiry job fired at once."""
    (sku,) = site.products([100])
    racers = site.customers(8)
    placed = [c.post("/orders", order((sku, 2))).json() for c in racers]
    # The schedule's path warmed up (a fresh twin imports it on first use), so that the race is
    # between the job's work and the payments, not the job's first start.
    assert requests.post(f"{site.url}/dev/schedule/run", timeout=60).status_code == 200
    wait_past(max(p["expires_at"] for p in placed))
    calls = []
    for p, lag in zip(placed, [0.4 + (7 - i) * 0.05 for i in range(8)]):
        # The payments spread from 400 to 750 ms, the latest for the order the expiry job takes
        # first (the oldest): it lands while the job expires that order (asking WeChat takes a
        # while), whatever else the machine is doing (the suite runs its layers side by side).
        calls.append(lambda p=p, lag=lag: (time.sleep(lag), site.pay(p["order_id"]))[1])
        calls.append(lambda: requests.post(f"{site.url}/dev/schedule/run", timeout=60))
    answers = fire_at_once(calls)
    # The schedule hands the orders to the expiry workers (the pump's, as Lambda would run them):
    # the outcome is in once none is still waiting.
    assert wait_for(lambda: all(c.get(f"/orders/{p['order_id']}").json()["status"] != "PENDING_PAYMENT"
                                for c, p in zip(racers, placed)), seconds=60)
    outcomes = [(c.get(f"/orders/{p['order_id']}").json()["status"],
                 c.get(f"/orders/{p['order_id']}/tickets").json()["items"], answer)
                for c, p, answer in zip(racers, placed, answers[::2])]
    refunded = len([r for r in site.admin.get("/dev/payments/refunds").json()["items"]
                    if r["out_trade_no"] in {p["order_id"] for p in placed}])
    return outcomes, inventory_of(site.admin, sku), refunded


def test_an_expiry_and_a_payment_fired_at_once_end_paid_or_expired_never_both(site: Site) -> None:
    """The trade is closed at WeChat before an order expires: either the payment came first
    (the order is PAID, with tickets) or WeChat refuses it (the order is EXPIRED, no money
    taken). Never an expired order whose money WeChat holds."""
    outcomes, stock, refunded = race_expiry_and_payment(site)
    paid = 0
    for status, tickets, answer in outcomes:
        if status == "PAID":                 # the payment came first
            assert answer.status_code == 200 and len(tickets) == 2
            paid += 1
        else:                                # the trade was closed first: WeChat took no money
            assert status == "EXPIRED" and tickets == []
            assert answer.status_code == 409 and answer.json()["code"] == "TRADE_CLOSED"
    assert refunded == 0
    assert (stock["available"], stock["reserved"], stock["sold"]) == (100 - 2 * paid, 0, 2 * paid)
    assert ledger_sum(site.admin, stock["sku_id"]) == stock["available"]


def test_negative_control_without_the_state_conditions_orders_end_both_paid_and_expired(twin) -> None:  # type: ignore[no-untyped-def]
    with twin("expiry-protection") as unprotected:
        outcomes, stock, _ = race_expiry_and_payment(unprotected)
    both = [status for status, tickets, _ in outcomes if status != "PAID" and tickets]
    paid = sum(1 for status, _, _ in outcomes if status == "PAID")
    assert both or stock["reserved"] != 0 or stock["sold"] != 2 * paid, (outcomes, stock)


def test_a_payment_whose_notice_is_lost_is_found_before_the_order_would_expire(stack, admin, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [10])
    (alice,) = customers(1)
    placed = alice.post("/orders", order((sku, 2))).json()
    assert pay(stack, placed["order_id"], notify=False).json()["notify_status"] is None
    wait_past(placed["expires_at"])
    requests.post(f"{stack['url']}/dev/schedule/run", timeout=60)
    assert wait_for(lambda: alice.get(f"/orders/{placed['order_id']}").json()["status"] == "PAID")
    assert len(alice.get(f"/orders/{placed['order_id']}/tickets").json()["items"]) == 2
    assert [r for r in sandbox_refunds(stack) if r["out_trade_no"] == placed["order_id"]] == []
    assert inventory_of(admin, sku)["sold"] == 2


def test_a_refund_is_confirmed_by_wechats_notice_through_the_pump(stack, admin, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [10], admission_open=False)
    (alice,) = customers(1)
    placed = alice.post("/orders", order((sku, 2))).json()
    pay(stack, placed["order_id"])
    refund = alice.post(f"/orders/{placed['order_id']}/refunds", {"reason": "rain"}).json()
    assert refund["status"] == "APPROVED"
    assert wait_for(lambda: alice.get(f"/orders/{placed['order_id']}").json()["status"] == "REFUNDED")
    assert [(r["out_refund_no"], r["status"]) for r in sandbox_refunds(stack)
            if r["out_trade_no"] == placed["order_id"]] == [(refund["refund_id"], "SUCCESS")]
    (mine,) = alice.get(f"/orders/{placed['order_id']}/refunds").json()["items"]
    assert mine["status"] == "SUCCEEDED"
    stock = inventory_of(admin, sku)
    assert (stock["available"], stock["sold"]) == (10, 0) and ledger_sum(admin, sku) == 10


def test_an_abnormal_refund_is_settled_by_hand_and_a_closed_one_sent_again(stack, admin, customers) -> None:  # type: ignore[no-untyped-def]
    """ABNORMAL: WeChat holds the money until staff settle it in the merchant platform; it stays
    in flight, is never asked for again, and completes when WeChat reports SUCCESS. CLOSED is final at WeChat:
    a retry sends it under a new number."""
    _, (sku,) = ticket_product(admin, [10], admission_open=False)
    (alice,) = customers(1)
    placed = [alice.post("/orders", order((sku, 1))).json() for _ in range(2)]
    for p in placed:
        pay(stack, p["order_id"])
    requests.post(f"{stack['url']}/dev/payments/refund-outcomes", json={"outcomes": ["ABNORMAL", "CLOSED"]}, timeout=30)
    held, closed = [alice.post(f"/orders/{p['order_id']}/refunds", {"reason": "x"}).json()["refund_id"] for p in placed]

    def refund_status(p: dict[str, Any]) -> str:
        return alice.get(f"/orders/{p['order_id']}/refunds").json()["items"][0]["status"]
    assert wait_for(lambda: (refund_status(placed[0]), refund_status(placed[1])) == ("PROCESSING", "FAILED"))
    # The held one's money is in flight (at WeChat): its order stays claimed; the closed one's is released.
    assert [alice.get(f"/orders/{p['order_id']}").json()["status"] for p in placed] == ["REFUNDING", "PAID"]

    def alerted(kind: str, refund_id: str) -> bool:
        return any(a["kind"] == kind and a["details"]["refund_id"] == refund_id
                   for a in admin.get("/admin/alerts?limit=200").json()["items"])
    assert wait_for(lambda: alerted("refund_abnormal", held) and alerted("refund_failed", closed))
    refused = admin.post(f"/admin/refunds/{held}/retry")
    assert refused.status_code == 409 and refused.json()["code"] == "REFUND_ABNORMAL"
    settled = requests.post(f"{stack['url']}/dev/payments/refunds/{held}/notify", json={"status": "SUCCESS"}, timeout=30)
    assert settled.json()["notify_status"] == 204
    retried = admin.post(f"/admin/refunds/{closed}/retry")
    assert retried.status_code == 202 and retried.json()["out_refund_no"] == closed + "-2"
    assert wait_for(lambda: refund_status(placed[0]) == refund_status(placed[1]) == "SUCCEEDED")
    assert {alice.get(f"/orders/{p['order_id']}").json()["status"] for p in placed} == {"REFUNDED"}
    assert [r["out_refund_no"] for r in sandbox_refunds(stack) if r["out_trade_no"] == placed[0]["order_id"]] == [held]


def test_a_refunded_pickup_code_hands_out_nothing(stack, admin, customers) -> None:  # type: ignore[no-untyped-def]
    body = {"kind": "merch", "name": "E2E tote " + uuid.uuid4().hex[:6], "category": "souvenir", "status": "listed",
            "fulfillment": ["pickup"], "skus": [{"name": "One size", "price": 8800, "stock": 5}]}
    sku = admin.post("/admin/products", body).json()["skus"][0]["sku_id"]
    (alice,) = customers(1)
    placed = alice.post("/orders", {**order((sku, 1)), "fulfillment": "pickup"}).json()
    pay(stack, placed["order_id"])
    code = alice.get(f"/orders/{placed['order_id']}").json()["pickup"]["code"]
    refund_id = alice.post(f"/orders/{placed['order_id']}/refunds", {"reason": "gift duplicate"}).json()["refund_id"]
    assert admin.post(f"/admin/refunds/{refund_id}/approve").status_code == 200
    r = admin.post("/redemptions", {"code": code, "gate": "shop", "device_id": "till-1"})
    assert r.status_code == 409 and r.json()["reason"] == "revoked"
    assert wait_for(lambda: alice.get(f"/orders/{placed['order_id']}").json()["status"] == "REFUNDED")


def test_low_stock_alerts_reach_the_back_office(stack, admin: Http, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [3], threshold=2)
    (alice,) = customers(1)
    assert alice.post("/orders", order((sku, 2))).status_code == 201          # 3 -> 1: below 2

    def alerts_for_sku() -> list[dict]:  # type: ignore[type-arg]
        return [a for a in admin.get("/admin/alerts?limit=200").json()["items"]
                if a["kind"] == "low_stock" and a["details"]["sku_id"] == sku]
    assert len(wait_for(alerts_for_sku)) == 1
