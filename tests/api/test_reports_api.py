"""Reports equal the orders, refunds and scans they summarise (invariant 12): every figure is
recomputed here from what the test itself bought, paid, refunded and scanned."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import app as app_module

from .conftest import Api, drain_queues, merch_body, order_body, ticket_body

REGION = "us-east-1"
CST = timezone(timedelta(hours=8))


def today() -> str:
    return datetime.now(CST).date().isoformat()


def csv_of(response: Any) -> list[list[str]]:
    """A CSV download as Excel reads it: UTF-8 behind a byte-order mark."""
    raw = response.body if isinstance(response.body, bytes) else response.body.encode()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.fixture
def shop(make_product, customer, anonymous, deliver_notices, figures):  # type: ignore[no-untyped-def]
    """Two ticket SKUs (museum) and a goods SKU (souvenir); three paid orders, one unpaid order,
    and a paid order whose ticket was refunded (money back): what a day of sales looks like."""
    tickets, (adult, child) = make_product(ticket_body([50, 50], price=6000))
    goods, (tote,) = make_product(merch_body([20], price=2500))
    orders: list[dict[str, Any]] = []

    def buy(who: Api, *lines: tuple[str, int], pay: bool = True, **extra: Any) -> dict[str, Any]:
        order = who.post("/orders", order_body(*lines, **extra)).json_body
        if pay:
            assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
            orders.append(order)
        return order
    alice, bob, carol = customer(), customer(), customer()
    buy(alice, (adult, 2), (tote, 1), fulfillment="pickup")
    buy(bob, (child, 1))
    buy(carol, (adult, 1), pay=False)                         # never paid: not a sale
    refunded = buy(alice, (adult, 3))
    ticket_ids = [t["ticket_id"] for t in alice.get(f"/orders/{refunded['order_id']}/tickets").json_body["items"]]
    refund = alice.post(f"/orders/{refunded['order_id']}/refunds", {"reason": "plans changed",
                                                                     "ticket_ids": ticket_ids[:1]}).json_body
    drain_queues()
    deliver_notices()
    figures()
    return {"tickets": tickets, "goods": goods, "adult": adult, "child": child, "tote": tote, "orders": orders,
            "refund": refund, "alice": alice}


def expected(orders: list[dict[str, Any]], group_by: str, refunds: dict[str, int]) -> dict[str, dict[str, int]]:
    """Rows recomputed from the orders as the API answered them."""
    rows: dict[str, dict[str, Any]] = defaultdict(lambda: {"orders": set(), "units": 0, "gross": 0, "refunded": 0})
    for order in orders:
        for item in order["items"]:
            key = {"product": item["product_id"], "sku": item["sku_id"],
                   "category": "museum" if item["kind"] == "ticket" else "souvenir"}[group_by]
            rows[key]["orders"].add(order["order_id"])
            rows[key]["units"] += item["quantity"]
            rows[key]["gross"] += item["subtotal"]
    for key, amount in refunds.items():
        rows[key]["refunded"] += amount
    return {k: {"orders": len(v["orders"]), "units": v["units"], "gross": v["gross"], "refunded": v["refunded"],
                "net": v["gross"] - v["refunded"]} for k, v in rows.items()}


def test_sales_report_equals_the_orders_paid_and_refunds_made(shop, staff) -> None:  # type: ignore[no-untyped-def]
    finance = staff("finance")
    assert finance.get("/admin/refunds?status=SUCCEEDED").json_body["items"][0]["refund_id"] == shop["refund"]["refund_id"]
    paid = shop["orders"]
    gross = sum(o["total"] for o in paid)
    refund_amount = shop["refund"]["amount"]
    assert refund_amount == 6000
    report = finance.get(f"/admin/reports/sales?from={today()}&to={today()}").json_body
    assert report["totals"] == {"orders": 3, "units": sum(i["quantity"] for o in paid for i in o["items"]),
                                "gross": gross, "discount": 0, "refunded": refund_amount,
                                "net": gross - refund_amount, "aov": (2 * gross + 3) // 6}
    assert report["rows"] == [{"key": today(), "label": today(), **report["totals"]}]
    for group_by, refunded_key in (("product", shop["tickets"]["product_id"]), ("sku", shop["adult"]),
                                   ("category", "museum")):
        rows = {r["key"]: r for r in finance.get(f"/admin/reports/sales?group_by={group_by}").json_body["rows"]}
        want = expected(paid, group_by, {refunded_key: refund_amount})
        assert {k: {f: r[f] for f in ("orders", "units", "gross", "refunded", "net")} for k, r in rows.items()} == want
    hourly = finance.get("/admin/reports/sales?group_by=hour").json_body["rows"]
    assert sum(r["gross"] for r in hourly) == gross and sum(r["orders"] for r in hourly) == 3
    top = finance.get("/admin/reports/sales?group_by=sku&top=1").json_body["rows"]
    assert [r["key"] for r in top] == [shop["adult"]]          # 5 adult tickets: the highest gross


def test_sales_csv_opens_with_chinese_headers(shop, staff) -> None:  # type: ignore[no-untyped-def]
    r = staff("finance").get("/admin/reports/sales?group_by=product&format=csv")
    assert r.headers["Content-Type"].startswith("text/csv") and "attachment" in r.headers["Content-Disposition"]
    rows = csv_of(r)
    assert rows[0] == ["商品编号", "名称", "订单数", "件数", "销售额(元)", "退款(元)", "净额(元)", "客单价(元)", "优惠(元)"]
    totals = rows[-1]
    gross = sum(o["total"] for o in shop["orders"])
    assert totals[0] == "合计" and totals[4] == f"{gross // 100}.{gross % 100:02d}"
    names = {row[0]: row[1] for row in rows[1:-1]}
    assert names[shop["goods"]["product_id"]] == shop["goods"]["name"]


def test_a_name_excel_would_run_as_a_formula_is_shown_as_text(make_product, customer, anonymous, staff,  # type: ignore[no-untyped-def]
                                                             figures) -> None:
    name = '=HYPERLINK("http://evil.example","门票")'
    product, (sku,) = make_product(ticket_body([10], price=1000, name=name))
    order = customer().post("/orders", order_body((sku, 1))).json_body
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    figures()
    rows = csv_of(staff("finance").get("/admin/reports/sales?group_by=product&format=csv"))
    named = {row[0]: row[1] for row in rows[1:-1]}
    assert named[product["product_id"]] == "'" + name
    refunds = {row[0]: row[5] for row in rows[1:]}
    assert all(not v.startswith("'") for v in refunds.values())          # numbers stay numbers


def test_redelivered_stream_batches_count_once(make_product, customer, anonymous, staff, figures) -> None:  # type: ignore[no-untyped-def]
    """A batch the stream sends twice, or cut short and sent again, counts nothing twice."""
    from local.streams import StreamReader
    from chalicelib.adapters.tables import OrderRecord
    _, (sku,) = make_product(ticket_body([10], price=1000))
    figures()                                                   # everything before this order
    order = customer().post("/orders", order_body((sku, 2))).json_body
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    batches: list[dict[str, Any]] = []
    StreamReader({OrderRecord.Meta.table_name: lambda event, _: batches.append(event)}, REGION).drain()
    records = [r for b in batches for r in b["Records"]]
    assert any(r["dynamodb"].get("NewImage", {}).get("paid_at") for r in records)
    for _ in range(3):                                          # the whole batch, three times
        assert app_module.orders_stream({"Records": records}, None) == {"batchItemFailures": []}
    app_module.orders_stream({"Records": records[-1:]}, None)   # and its tail once more
    totals = staff("finance").get("/admin/reports/sales").json_body["totals"]
    assert (totals["orders"], totals["gross"]) == (1, 2000)


def test_a_cancelled_transaction_leaves_the_stream_as_it_was(aws: None) -> None:
    """The local AWS once swapped a table's stream for a copy when it rolled a cancelled
    transaction back: the stream then showed the cancelled write and lost every later one, and
    the figures missed most sales of a busy run. In DynamoDB a cancelled transaction writes
    nothing and the stream goes on."""
    import boto3
    from botocore.config import Config
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    arn = dynamodb.create_table(
        TableName="stream-rollback", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=REGION, config=Config(account_id_endpoint_mode="disabled"))
    dynamodb.put_item(TableName="stream-rollback", Item={"k": {"S": "before"}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "stream-rollback", "Item": {"k": {"S": "cancelled"}}}},
            {"Put": {"TableName": "stream-rollback", "Item": {"k": {"S": "before"}},
                     "ConditionExpression": "attribute_not_exists(k)"}}])
    dynamodb.put_item(TableName="stream-rollback", Item={"k": {"S": "after"}})
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["k"]["S"] for r in records] == ["after"]
    dynamodb.delete_table(TableName="stream-rollback")


def test_aggregation_cost_per_order_and_report_cost(make_product, customer, anonymous, staff, figures,  # type: ignore[no-untyped-def]
                                                    ddb_calls) -> None:
    _, (sku,) = make_product(ticket_body([100], price=1000))
    figures()
    for _ in range(5):
        order = customer().post("/orders", order_body((sku, 1))).json_body
        anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    ddb_calls.reset()
    figures()
    writes = [op for op in ddb_calls.operations if op != "DescribeTable"]
    # Five paid orders (and their tickets and SKU changes) counted in ONE transaction: a marker
    # per changed order plus one increment per bucket.
    assert writes.count("TransactWriteItems") == 1, writes
    assert set(writes) <= {"TransactWriteItems"}, writes
    finance = staff("finance")
    for path, reads in (("/admin/reports/sales", ["BatchGetItem"]),
                        # 31 days x (totals, SKUs) x 4 shards = 248 keys, 100 per BatchGetItem
                        ("/admin/reports/sales?group_by=sku&from=2026-11-01&to=2026-12-01", ["BatchGetItem"] * 3),
                        ("/admin/dashboard", ["BatchGetItem", "GetItem"]),
                        ("/admin/reports/redemptions?group_by=sku", ["BatchGetItem"])):
        ddb_calls.reset()
        assert finance.get(path).status_code in (200, 403)
        assert ddb_calls.operations == reads, (path, ddb_calls.operations)


def test_redemption_report_counts_admissions_against_tickets_out(make_product, customer, anonymous, staff,  # type: ignore[no-untyped-def]
                                                                 figures) -> None:
    hall, (adult, child) = make_product(ticket_body([20, 20], admission_open=True))
    alice, bob = customer(), customer()
    bought = {}
    for who, sku, n in ((alice, adult, 3), (bob, child, 2)):
        order = who.post("/orders", order_body((sku, n))).json_body
        anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
        bought[sku] = (who, order["order_id"], who.get(f"/orders/{order['order_id']}/tickets").json_body["items"])
    scanner = staff("scanner")
    for sku, gate, n in ((adult, "东门", 2), (child, "西门", 1)):
        for ticket in bought[sku][2][:n]:
            assert scanner.post("/redemptions", {"code": ticket["qr"], "gate": gate, "device_id": "pda-1"}).json_body["result"] == "ok"
    who, order_id, adult_tickets = bought[adult]
    asked = who.post(f"/orders/{order_id}/refunds", {"reason": "ill", "ticket_ids": [adult_tickets[2]["ticket_id"]]})
    assert asked.json_body["status"] == "REQUESTED"                  # admission is open: staff decide
    assert staff("finance").post(f"/admin/refunds/{asked.json_body['refund_id']}/approve").status_code == 200
    figures()
    support = staff("support")

    def report(group_by: str) -> dict[str, Any]:
        r = support.get(f"/admin/reports/redemptions?group_by={group_by}")
        assert r.status_code == 200, r.body
        return r.json_body
    by_sku = {row["key"]: (row["redeemed"], row["issued"]) for row in report("sku")["rows"]}
    assert by_sku == {adult: (2, 2), child: (1, 2)}              # 3 adult tickets, one refunded
    assert {row["key"]: (row["redeemed"], row["issued"]) for row in report("gate")["rows"]} == {
        "东门": (2, None), "西门": (1, None)}
    sessions = report("session")["rows"]
    assert [(row["redeemed"], row["issued"]) for row in sessions] == [(3, 4)]   # both SKUs share the session
    assert hall["name"] in sessions[0]["label"]
    hours = report("hour")
    assert hours["totals"] == {"redeemed": 3, "issued": None} and sum(r["redeemed"] for r in hours["rows"]) == 3
    csv_rows = csv_of(support.get("/admin/reports/redemptions?group_by=sku&format=csv"))
    assert csv_rows[0] == ["规格编号", "名称", "已核销", "已售出"] and csv_rows[-1][:3] == ["合计", today(), "3"]


def test_dashboard_today_against_yesterday_and_work_waiting(make_product, customer, anonymous, staff,  # type: ignore[no-untyped-def]
                                                            figures) -> None:
    _, (sku,) = make_product(ticket_body([3], price=5000))           # low-stock threshold 2
    _, (tote,) = make_product(merch_body([3], price=2000))
    alice = customer()
    first = alice.post("/orders", order_body((sku, 2))).json_body
    anonymous.post(f"/dev/payments/{first['order_id']}/succeed", {})
    post = alice.post("/orders", order_body((tote, 1), fulfillment="shipping", address={
        "recipient": "张三", "phone": "13800138000", "region": "北京市", "detail": "东城区景山前街4号"})).json_body
    anonymous.post(f"/dev/payments/{post['order_id']}/succeed", {})
    picked = alice.post("/orders", order_body((tote, 1), fulfillment="pickup")).json_body
    anonymous.post(f"/dev/payments/{picked['order_id']}/succeed", {})
    assert alice.post(f"/orders/{picked['order_id']}/refunds", {"reason": "wrong size"}).json_body["status"] == "REQUESTED"
    drain_queues()
    figures()
    board = staff("merchandiser").get("/admin/dashboard").json_body
    gmv = 2 * 5000 + 2000 + 2000
    assert board["today"] == {"gmv": gmv, "orders": 3, "aov": (2 * gmv + 3) // 6, "refunded": 0, "redeemed": 0}
    assert board["yesterday"] == {"gmv": 0, "orders": 0, "aov": 0, "refunded": 0, "redeemed": 0}
    assert board["todo"] == {"refund_requests": 1, "to_ship": 1, "low_stock": 1, "failed_refunds": 0,
                             "reconciliation_differences": 0, "after_sales": 0}
    support = staff("support")
    assert support.post(f"/admin/orders/{post['order_id']}/ship", {"carrier": "顺丰", "tracking_no": "SF1"}).status_code == 200
    requested = alice.get(f"/orders/{picked['order_id']}/refunds").json_body["items"][0]["refund_id"]
    assert staff("finance").post(f"/admin/refunds/{requested}/reject", {"reason": "used"}).status_code == 200
    figures()
    assert staff("admin").get("/admin/dashboard").json_body["todo"]["to_ship"] == 0
    assert staff("admin").get("/admin/dashboard").json_body["todo"]["refund_requests"] == 0


@pytest.mark.parametrize("path,allowed,denied", [
    ("/admin/dashboard", ("admin", "merchandiser", "finance", "support", "auditor"), ("scanner",)),
    ("/admin/reports/sales", ("admin", "finance", "auditor"), ("scanner", "merchandiser", "support")),
    ("/admin/reports/promotions", ("admin", "finance", "auditor"), ("scanner", "merchandiser", "support")),
    ("/admin/reports/redemptions", ("admin", "merchandiser", "finance", "support", "auditor"), ("scanner",)),
    ("/admin/reports/after-sales", ("admin", "finance", "support", "auditor"), ("scanner", "merchandiser")),
    ("/admin/reconciliation", ("admin", "finance", "auditor"), ("scanner", "merchandiser", "support")),
])
def test_who_reads_the_reports(staff, customer, path: str, allowed: tuple[str, ...], denied: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    for role in allowed:
        assert staff(role).get(path).status_code == 200, (role, path)
    for role in denied:
        assert staff(role).get(path).status_code == 403, (role, path)
    assert customer().get(path).status_code == 403


@pytest.mark.parametrize("query", ["from=2026-12-02&to=2026-12-01", "from=2024-01-01&to=2026-01-01",
                                   "group_by=week", "top=0", "top=x", "format=xlsx", "from=2026-02-30",
                                   "from=1999-12-31"])
def test_bad_report_questions_are_400(staff, query: str) -> None:  # type: ignore[no-untyped-def]
    r = staff("finance").get(f"/admin/reports/sales?{query}")
    assert r.status_code == 400 and r.json_body["code"] == "VALIDATION_ERROR", (query, r.body)
