"""What `make run` promises: a seeded demo venue, the knobs of API.md, the error body at the edge."""
from __future__ import annotations

from datetime import datetime

import requests

from .conftest import PAYMENT_TIMEOUT, Http, order, ticket_product


def test_demo_catalog_is_seeded(stack: dict[str, str]) -> None:
    items = requests.get(stack["url"] + "/catalog/products", timeout=30).json()["items"]
    assert {"ticket", "merch"} <= {p["kind"] for p in items} and len(items) >= 4


def test_payment_timeout_knob_sets_expires_at(admin: Http, customers) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = ticket_product(admin, [3])
    (alice,) = customers(1)
    placed = alice.post("/orders", order((sku, 1))).json()
    waited = datetime.fromisoformat(placed["expires_at"]) - datetime.fromisoformat(placed["created_at"])
    assert waited.total_seconds() == PAYMENT_TIMEOUT    # the stack's ORDER_PAYMENT_TIMEOUT_SECONDS


def test_the_gateway_answers_in_the_error_body(stack: dict[str, str]) -> None:
    r = requests.get(stack["url"] + "/orders", headers={"Authorization": "Bearer forged"}, timeout=30)
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHORIZED"
    r = requests.post(stack["url"] + "/orders", data=b"{oops", headers={"Content-Type": "application/json"},
                      timeout=30)
    assert r.status_code == 401
    r = requests.get(stack["url"] + "/nowhere", timeout=30)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
