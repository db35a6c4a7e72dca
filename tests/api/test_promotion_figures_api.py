"""Promotions in the figures (issue 22), from the streams on moto: the sales report's `gross` is
what customers paid and `discount` what promotions took off; the promotions report counts each
promotion's orders and each coupon's claims; a member's spend follows what they paid, net of
refunds, in one item the order path reads.

Until the pricing of POST /orders lands, the discount is put on the stored order before it is
paid, as the pricing will store it (each line's `discount`, the order's `promotions` with the
coupon's template as `coupon_id`), and the user coupons are written through their repository
(claimed, locked by the order, used once it is paid). The payment, the refund and the streams are
the real ones."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

import app as app_module

from .conftest import drain_queues, order_body, ticket_body
from .test_reports_api import REGION, csv_of, today

TEMPLATE = "CPN-SPRING"


def discount_before_payment(order_id: str, discounts: list[int], promotions: list[dict[str, Any]]) -> int:
    """What the pricing stores on an order it placed: the lines' discounts and the steps taking
    them off. Returns the order's new total (what the payment will be)."""
    from chalicelib.adapters.dynamo import plain
    from chalicelib.adapters.order_records import OrderRecord
    record = OrderRecord.get(order_id, consistent_read=True)
    lines = [plain(m) for m in record.lines]
    for line, discount in zip(lines, discounts):
        line["discount"] = discount
    record.lines = lines
    record.promotions = promotions
    record.total = sum(int(m["unit_price"]) * int(m["quantity"]) - int(m.get("discount") or 0) for m in lines)
    record.save()
    return int(record.total)


def user_coupon(user_id: str, number: int) -> Any:
    from chalicelib.domain.coupons import CouponKind, UserCoupon, UserCouponStatus
    now = datetime.now(timezone.utc)
    return UserCoupon(user_coupon_id=f"UC{number:08d}", coupon_id=TEMPLATE, user_id=user_id, name="春季满减券",
                      status=UserCouponStatus.AVAILABLE, valid_from=now - timedelta(hours=1),
                      valid_until=now + timedelta(days=7), claimed_at=now, kind=CouponKind.CASH, threshold=0,
                      amount=1000)


def commit(write: Any) -> None:
    from chalicelib.adapters.unit_of_work import UnitOfWork
    uow = UnitOfWork()
    write(uow)
    uow.commit()


def user_of(order_id: str) -> str:
    from chalicelib.adapters.order_records import OrderRecord
    return str(OrderRecord.get(order_id, consistent_read=True).user_id)


@pytest.fixture
def one_shard_for_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every other bucket written to the last shard: the spend's shard 0 is then its own choice."""
    from chalicelib.adapters import aggregate_store
    monkeypatch.setattr(aggregate_store, "random", SimpleNamespace(randrange=lambda n: n - 1))


def test_discounts_promotions_coupons_and_spend_equal_what_was_paid(  # type: ignore[no-untyped-def]
        make_product, customer, anonymous, staff, deliver_notices, figures, one_shard_for_the_rest) -> None:
    from chalicelib.adapters.aggregate_store import AggregateRecord
    from chalicelib.adapters.coupon_repository import UserCouponRepository
    from chalicelib.domain.figures import spend_bucket
    coupons = UserCouponRepository()
    _, (sku,) = make_product(ticket_body([20], price=6000))
    alice = customer()

    # alice's first order: 2 tickets (12000), 5% member price (600) and her coupon (1000) off
    first = alice.post("/orders", order_body((sku, 2))).json_body
    alice_id = user_of(first["order_id"])
    mine, bobs = user_coupon(alice_id, 1), user_coupon("bob", 2)
    commit(lambda uow: coupons.add(uow, mine))
    commit(lambda uow: coupons.add(uow, bobs))                    # claimed, never used
    commit(lambda uow: coupons.lock(uow, mine, first["order_id"], datetime.now(timezone.utc)))
    paid = discount_before_payment(first["order_id"], [1600], [
        {"kind": "member", "id": "1", "name": "银卡", "amount": 600},
        {"kind": "coupon", "id": mine.user_coupon_id, "name": "春季满减券", "amount": 1000, "coupon_id": TEMPLATE}])
    assert paid == 10400
    assert anonymous.post(f"/dev/payments/{first['order_id']}/succeed", {}).json_body["notify_status"] == 204
    assert alice.get(f"/orders/{first['order_id']}").json_body["status"] == "PAID"
    commit(lambda uow: coupons.use(uow, mine.user_coupon_id, first["order_id"]))

    # her second order, at list price, paid and then refunded in full
    second = alice.post("/orders", order_body((sku, 1))).json_body
    assert anonymous.post(f"/dev/payments/{second['order_id']}/succeed", {}).json_body["notify_status"] == 204
    tickets = [t["ticket_id"] for t in alice.get(f"/orders/{second['order_id']}/tickets").json_body["items"]]
    alice.post(f"/orders/{second['order_id']}/refunds", {"reason": "plans changed", "ticket_ids": tickets})
    drain_queues()
    deliver_notices()
    figures()
    finance = staff("finance")
    assert [r["amount"] for r in finance.get("/admin/refunds?status=SUCCEEDED").json_body["items"]] == [6000]

    def reports() -> tuple[dict[str, Any], dict[str, Any]]:
        return (finance.get(f"/admin/reports/sales?from={today()}&to={today()}").json_body,
                finance.get(f"/admin/reports/promotions?from={today()}&to={today()}").json_body)
    sales, promotions = reports()
    assert sales["totals"] == {"orders": 2, "units": 3, "gross": 10400 + 6000, "discount": 1600, "refunded": 6000,
                               "net": 10400, "aov": 8200}
    (row,) = finance.get("/admin/reports/sales?group_by=sku").json_body["rows"]
    assert (row["key"], row["gross"], row["discount"]) == (sku, 16400, 1600)
    exported = csv_of(finance.get(f"/admin/reports/sales?from={today()}&to={today()}&format=csv"))
    assert exported[0][-1] == "优惠(元)" and exported[-1][-1] == "16.00" and exported[-1][4] == "164.00"

    assert promotions["rows"] == [
        {"key": TEMPLATE, "label": "春季满减券", "kind": "coupon", "orders": 1, "discount": 1000, "gross": 10400},
        {"key": "member", "label": "会员价", "kind": "member", "orders": 1, "discount": 600, "gross": 10400}]
    assert promotions["coupons"] == [{"coupon_id": TEMPLATE, "name": "春季满减券", "issued": 2, "used": 1,
                                      "redemption_rate": 0.5}]

    # alice's spend: both orders on the day they were paid, less the refund; one item, shard 0
    def spend() -> list[tuple[str, str]]:
        items = boto3.client("dynamodb", region_name=REGION).query(
            TableName=AggregateRecord.Meta.table_name, KeyConditionExpression="#b = :b",
            ExpressionAttributeNames={"#b": "bucket"}, ExpressionAttributeValues={":b": {"S": spend_bucket(alice_id)}},
            ConsistentRead=True)["Items"]
        return [(i["shard"]["N"], i[f"{today()}|paid"]["N"]) for i in items]
    assert spend() == [("0", "10400")]

    # every record of the streams delivered again, orders, refunds and user coupons alike: nothing moves
    from local.streams import StreamReader, stream_handlers
    handlers = stream_handlers(app_module)
    batches: dict[str, list[dict[str, Any]]] = {table: [] for table in handlers}
    StreamReader({table: (lambda event, _, table=table: batches[table].append(event)) for table in handlers},
                 REGION).drain()
    assert batches[[t for t in handlers if t.endswith("user-coupons")][0]]
    for table, events in batches.items():
        for event in events:
            assert handlers[table](event, None) == {"batchItemFailures": []}
    assert reports() == (sales, promotions)
    assert spend() == [("0", "10400")]


def test_a_coupon_step_stored_without_its_template_counts_under_the_user_coupon(  # type: ignore[no-untyped-def]
        make_product, customer, anonymous, staff, figures) -> None:
    _, (sku,) = make_product(ticket_body([5], price=3000))
    order = customer().post("/orders", order_body((sku, 1))).json_body
    discount_before_payment(order["order_id"], [500], [
        {"kind": "full_reduction", "id": "PR-1", "name": "满30减3", "amount": 300},
        {"kind": "coupon", "id": "UC-OLD", "name": "2元券", "amount": 200}])
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    figures()
    rows = staff("auditor").get("/admin/reports/promotions").json_body["rows"]
    assert [(r["key"], r["kind"], r["discount"], r["gross"]) for r in rows] == [
        ("PR-1", "full_reduction", 300, 2500), ("UC-OLD", "coupon", 200, 2500)]
