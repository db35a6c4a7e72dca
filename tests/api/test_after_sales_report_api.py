"""The after-sales report (售后报表) and the dashboard's after-sales waiting for staff, through the API on
moto: every figure recomputed here from what the test itself asked, approved, received, shipped,
rejected, cancelled and refunded (invariant 12), read in a bounded number of requests, and unchanged
when the streams deliver the same records again (API.md: `GET /admin/reports/after-sales`)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

import app as app_module
from chalicelib.adapters.after_sale_store import AfterSaleRecord
from chalicelib.adapters.order_records import OrderRecord

from .conftest import clock_ahead, drain_queues, merch_body, order_body

REGION = "us-east-1"
CST = timezone(timedelta(hours=8))
PRICE = 2500


def today() -> date:
    return datetime.now(CST).date()


def span(first: date, last: date) -> str:
    return f"/admin/reports/after-sales?from={first.isoformat()}&to={last.isoformat()}"


@pytest.fixture
def collect(customer, make_product, anonymous, staff):  # type: ignore[no-untyped-def]
    """A customer paid for goods (two specs of one product at one price), picked up at the shop:
    returns (customer, order_id, the bought SKU, the other SKU)."""
    def make(quantity: int = 2) -> tuple[Any, str, str, str]:
        _, (sku, other) = make_product(merch_body([10, 10], price=PRICE))
        who = customer()
        order = who.post("/orders", order_body((sku, quantity), fulfillment="pickup")).json_body
        assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
        code = who.get(f"/orders/{order['order_id']}").json_body["pickup"]["code"]
        assert staff("scanner").post("/redemptions", {"code": code, "gate": "shop", "device_id": "till"}
                                     ).status_code == 200
        return who, order["order_id"], sku, other
    return make


def ask(who: Any, order_id: str, sku: str, reason: str, exchange_for: str | None = None) -> str:
    body: dict[str, Any] = {"type": "exchange" if exchange_for else "return_refund",
                            "lines": [{"sku_id": sku, "quantity": 1}], "reason": reason}
    if exchange_for:
        body["exchange_sku_id"] = exchange_for
    r = who.post(f"/orders/{order_id}/after-sales", body)
    assert r.status_code == 201, r.body
    return str(r.json_body["after_sale_id"])


def test_the_after_sales_report_equals_what_was_asked_refunded_and_resolved(  # type: ignore[no-untyped-def]
        collect, staff, figures, deliver_notices, ddb_calls) -> None:
    support, finance = staff("support"), staff("finance")

    def waiting() -> int:
        figures()
        return int(support.get("/admin/dashboard").json_body["todo"]["after_sales"])

    # Four after-sales asked today: "size" a return refunded, a return rejected, an exchange cancelled;
    # "damaged" an exchange shipped.
    alice, a_order, a_sku, _ = collect()
    bob, b_order, b_sku, b_other = collect(quantity=1)
    carol, c_order, c_sku, _ = collect()
    dave, d_order, d_sku, d_other = collect(quantity=1)
    figures()
    assert waiting() == 0
    refunded_return = ask(alice, a_order, a_sku, "size")
    shipped_exchange = ask(bob, b_order, b_sku, "damaged", exchange_for=b_other)
    rejected = ask(carol, c_order, c_sku, "size")
    cancelled = ask(dave, d_order, d_sku, "size", exchange_for=d_other)
    assert waiting() == 4                                         # four to review

    assert support.post(f"/admin/after-sales/{refunded_return}/approve").status_code == 200
    assert waiting() == 3                                         # approved: the customer sends the goods
    assert alice.post(f"/orders/{a_order}/after-sales/{refunded_return}/return",
                      {"carrier": "SF", "tracking_no": "SF1"}).status_code == 200
    assert waiting() == 4                                         # on their way back: staff receive them
    received = support.post(f"/admin/after-sales/{refunded_return}/receive", {"restock": True})
    assert received.status_code == 200 and received.json_body["amount"] == PRICE
    assert waiting() == 3                                         # a received return waits for WeChat
    drain_queues()
    deliver_notices()
    assert alice.get(f"/orders/{a_order}/after-sales").json_body["items"][0]["status"] == "COMPLETED"

    assert support.post(f"/admin/after-sales/{shipped_exchange}/approve").status_code == 200
    assert bob.post(f"/orders/{b_order}/after-sales/{shipped_exchange}/return", {"at_counter": True}).status_code == 200
    assert support.post(f"/admin/after-sales/{shipped_exchange}/receive", {"restock": False}).status_code == 200
    assert waiting() == 3                                         # a received exchange: its replacement to ship
    with clock_ahead(timedelta(hours=2)):                         # shipped two hours after it was asked
        assert support.post(f"/admin/after-sales/{shipped_exchange}/ship", {"pickup": True}
                            ).json_body["status"] == "COMPLETED"
    assert waiting() == 2
    with clock_ahead(timedelta(hours=4)):
        assert support.post(f"/admin/after-sales/{rejected}/reject", {"reason": "worn"}).status_code == 200
    assert waiting() == 1
    with clock_ahead(timedelta(hours=6)):
        assert dave.post(f"/orders/{d_order}/after-sales/{cancelled}/cancel").status_code == 200
    assert waiting() == 0

    # Ended today or, late in a venue day, tomorrow: the range covers both.
    first, last = today(), today() + timedelta(days=1)
    ddb_calls.reset()
    r = finance.get(span(first, last))
    assert r.status_code == 200, r.body
    assert ddb_calls.operations == ["BatchGetItem"]              # 2 days x 2 buckets x 4 shards
    report = r.json_body
    expected = {
        "from": first.isoformat(), "to": last.isoformat(),
        # Four orders paid, Alice's has money back; the refunded return ended within seconds, the
        # others after 2, 4 and 6 hours: (0 + 2 + 4 + 6) / 4.
        "totals": {"requests": 4, "returns": 2, "exchanges": 2, "refund_rate": 0.25, "hours_to_resolve": 3.0},
        "rows": [{"key": "size", "label": "尺码/规格不合适", "requests": 3, "returns": 2, "exchanges": 1,
                  "refunded": PRICE},
                 {"key": "damaged", "label": "商品损坏", "requests": 1, "returns": 0, "exchanges": 1, "refunded": 0}]}
    assert report == expected

    # Another day's request is in another day's report, and only there; reading it costs the same
    # however many after-sales there are.
    erin, e_order, e_sku, _ = collect()
    with clock_ahead(timedelta(days=3)):
        ask(erin, e_order, e_sku, "other")
    figures()
    ddb_calls.reset()
    assert finance.get(span(first, last)).json_body == {**expected, "totals": {**expected["totals"],
                                                                                "refund_rate": 0.2}}
    assert ddb_calls.operations == ["BatchGetItem"]
    later = today() + timedelta(days=3)
    assert support.get(span(later, later)).json_body == {
        "from": later.isoformat(), "to": later.isoformat(),
        "totals": {"requests": 1, "returns": 1, "exchanges": 0, "refund_rate": None, "hours_to_resolve": None},
        "rows": [{"key": "other", "label": "其他", "requests": 1, "returns": 1, "exchanges": 0, "refunded": 0}]}
    ddb_calls.reset()
    assert finance.get(span(first, first + timedelta(days=30))).status_code == 200
    assert ddb_calls.operations == ["BatchGetItem"] * 3            # 31 days x 2 buckets x 4 shards = 248 keys
    assert waiting() == 1                                          # Erin's request


def test_redelivered_after_sale_and_order_records_count_once(  # type: ignore[no-untyped-def]
        collect, staff, figures, deliver_notices) -> None:
    from local.streams import StreamReader
    alice, order_id, sku, _ = collect()
    support = staff("support")
    aid = ask(alice, order_id, sku, "wrong_item")
    assert support.post(f"/admin/after-sales/{aid}/approve").status_code == 200
    assert alice.post(f"/orders/{order_id}/after-sales/{aid}/return", {"at_counter": True}).status_code == 200
    assert support.post(f"/admin/after-sales/{aid}/receive", {"restock": True}).status_code == 200
    drain_queues()
    deliver_notices()
    figures()
    path = span(today(), today() + timedelta(days=1))
    before = (support.get(path).json_body, support.get("/admin/dashboard").json_body["todo"])
    assert before[0]["totals"]["refund_rate"] == 1.0 and before[0]["rows"][0]["refunded"] == PRICE
    batches: dict[str, list[dict[str, Any]]] = {}
    tables = (AfterSaleRecord.Meta.table_name, OrderRecord.Meta.table_name)
    StreamReader({t: (lambda event, _, t=t: batches.setdefault(t, []).extend(event["Records"])) for t in tables},
                 REGION).drain()
    records = batches[AfterSaleRecord.Meta.table_name]
    assert [r["eventName"] for r in records][:2] == ["INSERT", "INSERT"]   # the after-sale and its units# counter
    for _ in range(2):                                                        # the whole batch, twice
        assert app_module.after_sales_stream({"Records": records}, None) == {"batchItemFailures": []}
        assert app_module.orders_stream({"Records": batches[OrderRecord.Meta.table_name]}, None) == \
            {"batchItemFailures": []}
    app_module.after_sales_stream({"Records": records[-1:]}, None)            # and its tail once more
    assert (support.get(path).json_body, support.get("/admin/dashboard").json_body["todo"]) == before


@pytest.mark.parametrize("query", ["from=2026-12-02&to=2026-12-01", "from=2024-01-01&to=2026-01-01",
                                   "from=2026-02-30", "from=1999-12-31", "to=tomorrow"])
def test_bad_dates_are_400(staff, query: str) -> None:  # type: ignore[no-untyped-def]
    r = staff("finance").get(f"/admin/reports/after-sales?{query}")
    assert r.status_code == 400 and r.json_body["code"] == "VALIDATION_ERROR", (query, r.body)
    assert set(r.json_body) >= {"code", "message", "details"}


def test_who_reads_the_after_sales_report(staff, customer) -> None:  # type: ignore[no-untyped-def]
    for role in ("finance", "support", "admin", "auditor"):
        assert staff(role).get("/admin/reports/after-sales").status_code == 200, role
    for role in ("scanner", "merchandiser"):
        r = staff(role).get("/admin/reports/after-sales")
        assert r.status_code == 403 and r.json_body["code"] == "FORBIDDEN", (role, r.body)
    assert customer().get("/admin/reports/after-sales").status_code == 403
