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


def test_one_item_accepts_only_its_writes_per_second() -> None:
    """LOCAL_PARTITION_WRITES_PER_SECOND: the embedded DynamoDB throttles an item written faster,
    as DynamoDB throttles a hot partition; other items and later seconds are not affected."""
    import io
    import json
    import time
    from local.moto_server import FaultInjector
    applied: list[bytes] = []

    def moto(environ: dict, start_response) -> list[bytes]:  # type: ignore[no-untyped-def]
        applied.append(environ["wsgi.input"].read())
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0")])
        return [b"{}"]
    gate = FaultInjector(moto, rate=0, seed=1, item_writes_per_second=2)

    def write(operation: str, body: dict) -> tuple[str, dict]:  # type: ignore[type-arg]
        raw = json.dumps(body).encode()
        seen: list[str] = []
        answer = b"".join(gate({"HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{operation}", "CONTENT_LENGTH": str(len(raw)),
                                "wsgi.input": io.BytesIO(raw)}, lambda status, headers: seen.append(status)))
        return seen[0], json.loads(answer)
    hot = {"TableName": "skus", "Key": {"sku_id": {"S": "S1"}}, "UpdateExpression": "SET a = :a"}
    assert [write("UpdateItem", hot)[0] for _ in range(2)] == ["200 OK", "200 OK"]
    status, answer = write("UpdateItem", hot)
    assert status.startswith("400") and answer["__type"].endswith("ThrottlingException")
    other = {"TableName": "skus", "Key": {"sku_id": {"S": "S2"}}, "UpdateExpression": "SET a = :a"}
    assert write("UpdateItem", other)[0] == "200 OK"
    status, answer = write("TransactWriteItems", {"TransactItems": [{"Update": other}, {"Update": hot}]})
    assert status.startswith("400") and [r["Code"] for r in answer["CancellationReasons"]] == ["None", "ThrottlingError"]
    time.sleep(1.05)
    assert write("UpdateItem", hot)[0] == "200 OK"
    assert len(applied) == 4                                # throttled writes never reached the tables
