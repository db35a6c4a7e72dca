"""Races fired at once against the running local stack (as pretix's concurrency tests do), each
with its invariant and, for stock, a negative control showing the race is real."""
from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import boto3

from .conftest import Http, fire_at_once, inventory_of, ledger_sum, order, ticket_product

RACERS = 30


def test_many_customers_race_for_the_last_units_and_exactly_the_stock_is_sold(admin: Http, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [5])
    racers = customers(RACERS)
    answers = fire_at_once([lambda c=c: c.post("/orders", order((sku, 1))) for c in racers])
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 5, 409: RACERS - 5}, statuses
    assert all(r.json()["code"] == "SOLD_OUT" for r in answers if r.status_code == 409)
    stock = inventory_of(admin, sku)
    assert (stock["available"], stock["reserved"]) == (0, 5)
    assert ledger_sum(admin, sku) == stock["available"]


def test_negative_control_an_unconditional_decrement_oversells(admin: Http, stack: dict[str, str]) -> None:
    """The same race on a read-then-write decrement (no condition) sells more than there is: the
    conditional write above is what prevents it."""
    _, (sku,) = ticket_product(admin, [5])
    dynamodb = boto3.client("dynamodb", endpoint_url=stack["moto"], region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    table, key = "micromall-local-skus", {"sku_id": {"S": sku}}
    everyone_has_read = threading.Barrier(RACERS)

    def naive_buy() -> bool:
        seen = int(dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["available"]["N"])
        everyone_has_read.wait()     # the interleaving a busy shop produces: reads before writes
        if seen < 1:
            return False
        dynamodb.update_item(TableName=table, Key=key, UpdateExpression="SET available = :v",
                             ExpressionAttributeValues={":v": {"N": str(seen - 1)}})
        return True
    sold = sum(fire_at_once([naive_buy] * RACERS))
    assert sold > 5, "the negative control should oversell"


def test_multi_line_orders_race_all_or_nothing(admin: Http, customers) -> None:  # type: ignore[no-untyped-def]
    _, (wide, narrow) = ticket_product(admin, [100, 4])
    racers = customers(RACERS)
    bodies = [order((wide, 2), (narrow, 1)) if i % 2 == 0 else order((narrow, 1)) for i in range(RACERS)]
    answers = fire_at_once([lambda c=c, b=b: c.post("/orders", b) for c, b in zip(racers, bodies)])
    won = [b for b, r in zip(bodies, answers) if r.status_code == 201]
    assert len(won) == 4 and all(r.status_code in (201, 409) for r in answers)
    wide_won = sum(1 for b in won if len(b["items"]) == 2)
    wide_stock, narrow_stock = inventory_of(admin, wide), inventory_of(admin, narrow)
    # Losing two-line orders reserved nothing of their first line either.
    assert (wide_stock["available"], wide_stock["reserved"]) == (100 - 2 * wide_won, 2 * wide_won)
    assert (narrow_stock["available"], narrow_stock["reserved"]) == (0, 4)
    assert ledger_sum(admin, wide) == wide_stock["available"] and ledger_sum(admin, narrow) == 0


def test_one_customer_racing_their_own_purchase_limit(admin: Http, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [50], purchase_limit=2)
    (greedy,) = customers(1)
    answers = fire_at_once([lambda: greedy.post("/orders", order((sku, 1))) for _ in range(12)])
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 2, 422: 10}, statuses
    assert inventory_of(admin, sku)["reserved"] == 2


def test_a_double_tap_with_one_idempotency_key_places_one_order(admin: Http, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [50])
    (tapper,) = customers(1)
    answers: list[Any] = fire_at_once([lambda: tapper.post("/orders", order((sku, 1)), {"Idempotency-Key": "tap"})
                                       for _ in range(8)])
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["order_id"] for r in answers}) == 1
    assert inventory_of(admin, sku)["reserved"] == 1


def test_parallel_wrong_passwords_are_all_counted(stack: dict[str, str], admin: Http) -> None:
    """Eight guesses at once at one staff account: five are checked (and fail), the rest are
    refused unchecked, and the right password is then locked out too: no guess slips through a
    lost update of the failure count."""
    import requests
    import uuid
    name, password = "guess-" + uuid.uuid4().hex[:6], "Right-" + uuid.uuid4().hex
    assert admin.post("/admin/staff", {"username": name, "password": password, "roles": ["scanner"]}).status_code == 201
    answers = fire_at_once([lambda: requests.post(stack["url"] + "/auth/staff/login",
                                                  json={"username": name, "password": "wrong-password"}, timeout=60)
                            for _ in range(8)])
    assert Counter(r.status_code for r in answers) == {401: 5, 429: 3}
    right = requests.post(stack["url"] + "/auth/staff/login", json={"username": name, "password": password}, timeout=30)
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
