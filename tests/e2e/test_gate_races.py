"""Races at the gate and at the payment notify endpoint, against the running local stack."""
from __future__ import annotations

import threading
import uuid
from collections import Counter

import boto3
import requests

from .conftest import Http, fire_at_once, order, ticket_product

SCANNERS = 20


def paid_order(stack: dict[str, str], admin: Http, customers, quantity: int = 1) -> tuple[Http, dict]:  # type: ignore[no-untyped-def, type-arg]
    _, (sku,) = ticket_product(admin, [50])
    (alice,) = customers(1)
    placed = alice.post("/orders", order((sku, quantity))).json()
    r = requests.post(f"{stack['url']}/dev/payments/{placed['order_id']}/succeed", json={}, timeout=30)
    assert r.json() == {"notify_status": 204}
    return alice, placed


def scanner(stack: dict[str, str], admin: Http) -> Http:
    name, password = "gate-" + uuid.uuid4().hex[:6], "Pw-" + uuid.uuid4().hex
    assert admin.post("/admin/staff", {"username": name, "password": password, "roles": ["scanner"]}).status_code == 201
    token = requests.post(stack["url"] + "/auth/staff/login", json={"username": name, "password": password},
                          timeout=30).json()["token"]
    return Http(stack["url"], token)


def test_many_scanners_one_code_exactly_one_ok(stack, admin, customers) -> None:  # type: ignore[no-untyped-def]
    alice, placed = paid_order(stack, admin, customers)
    (ticket,) = alice.get(f"/orders/{placed['order_id']}/tickets").json()["items"]
    gates = [scanner(stack, admin) for _ in range(4)]
    answers = fire_at_once([
        lambda i=i: gates[i % 4].post("/redemptions", {"code": ticket["qr"], "gate": f"G{i}", "device_id": f"d{i}",
                                                       "nonce": f"n{i}"}) for i in range(SCANNERS)])
    results = Counter((r.status_code, r.json()["result"]) for r in answers)
    assert results == {(200, "ok"): 1, (409, "rejected"): SCANNERS - 1}, results
    winner = next(r.json() for r in answers if r.status_code == 200)
    assert {r.json()["first_gate"] for r in answers if r.status_code == 409} == {winner["gate"]}


def test_negative_control_read_then_write_redemption_admits_many(stack, admin, customers) -> None:  # type: ignore[no-untyped-def]
    """The same race on a check-then-set redemption (read the status, then write it) lets more
    than one scanner through: the single conditional write is what prevents it."""
    alice, placed = paid_order(stack, admin, customers)
    (ticket,) = alice.get(f"/orders/{placed['order_id']}/tickets").json()["items"]
    dynamodb = boto3.client("dynamodb", endpoint_url=stack["moto"], region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    key = {"code": {"S": ticket["code"].replace("-", "")}}
    all_read = threading.Barrier(SCANNERS)

    def naive_scan() -> bool:
        status = dynamodb.get_item(TableName="micromall-local-tickets", Key=key, ConsistentRead=True)["Item"]["status"]
        all_read.wait()
        if status["S"] != "VALID":
            return False
        dynamodb.update_item(TableName="micromall-local-tickets", Key=key, UpdateExpression="SET #s = :r",
                             ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":r": {"S": "REDEEMED"}})
        return True
    admitted = sum(fire_at_once([naive_scan] * SCANNERS))
    assert admitted > 1, "the negative control should admit more than one visitor"


def test_concurrent_duplicate_notices_issue_tickets_once(stack, admin, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [50])
    (alice,) = customers(1)
    placed = alice.post("/orders", order((sku, 3))).json()
    same_payment = {"transaction_id": "4200000000" + uuid.uuid4().hex[:18].upper(), "notification_id": "EV-dup"}
    answers = fire_at_once([lambda: requests.post(f"{stack['url']}/dev/payments/{placed['order_id']}/succeed",
                                                  json=same_payment, timeout=60) for _ in range(10)])
    assert {r.json()["notify_status"] for r in answers} == {204}
    tickets = alice.get(f"/orders/{placed['order_id']}/tickets").json()["items"]
    assert len(tickets) == 3 and len({t["code"] for t in tickets}) == 3
    assert alice.get(f"/orders/{placed['order_id']}").json()["status"] == "PAID"
    refunds = requests.get(f"{stack['url']}/dev/payments/refunds", timeout=30).json()["items"]
    assert [r for r in refunds if r["out_trade_no"] == placed["order_id"]] == []
