"""Reconciliation against WeChat Pay's bill, as the sandbox writes it from its own records: a day
that agrees is MATCHED, and each kind of difference is found, stored, and raises an alert."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import app as app_module
from chalicelib import bootstrap
from chalicelib.adapters.payment_ledger import PaymentLedger, PaymentRecord
from chalicelib.adapters.order_records import OrderRecord
from chalicelib.adapters.refund_repository import RefundRecord
from chalicelib.adapters.unit_of_work import UnitOfWork

from .conftest import drain_queues, order_body, sandbox, ticket_body

REGION = "us-east-1"
CST = timezone(timedelta(hours=8))
TICK = {"version": "0", "account": "1", "region": REGION, "detail": {}, "detail-type": "Scheduled Event",
        "source": "aws.events", "time": "2026-01-01T00:00:00Z", "id": "x", "resources": []}


def today() -> str:
    return datetime.now(CST).date().isoformat()


@pytest.fixture
def day_of_trade(make_product, customer, anonymous, deliver_notices):  # type: ignore[no-untyped-def]
    """Two paid orders and a ticket of one refunded (money back): a day WeChat and micromall agree on."""
    _, (sku,) = make_product(ticket_body([20], price=6000))
    alice = customer()
    orders = []
    for quantity in (2, 1):
        order = alice.post("/orders", order_body((sku, quantity))).json_body
        assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
        orders.append(order)
    ticket = alice.get(f"/orders/{orders[0]['order_id']}/tickets").json_body["items"][0]
    refund = alice.post(f"/orders/{orders[0]['order_id']}/refunds", {"reason": "ill", "ticket_ids": [ticket["ticket_id"]]})
    drain_queues()
    deliver_notices()
    assert RefundRecord.get(refund.json_body["refund_id"]).status == "SUCCEEDED"
    return {"orders": orders, "refund_id": refund.json_body["refund_id"], "sku": sku, "alice": alice}


def test_a_day_that_agrees_is_matched(day_of_trade, staff) -> None:  # type: ignore[no-untyped-def]
    finance = staff("finance")
    r = finance.post(f"/admin/reconciliation/{today()}/run")
    assert r.status_code == 200, r.body
    assert r.json_body["status"] == "MATCHED" and r.json_body["differences"] == []
    assert r.json_body["bill"] == {"trades": 2, "amount": 18000, "refunds": 1, "refunded": 6000, "voucher": 0,
                                   "settlement": 18000}
    stored = staff("auditor").get(f"/admin/reconciliation?date={today()}").json_body
    assert stored["status"] == "MATCHED" and stored["checked_at"]
    assert staff("auditor").get("/admin/reconciliation?date=2026-01-01").json_body["status"] == "NOT_RUN"
    audit = staff("admin").get("/admin/audit?action=reconciliation_run").json_body["items"]
    assert audit and audit[0]["target"] == today()


def bill_rows(day: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The sandbox's bill of a day as WeChat serves it (downloaded, SHA-1 checked, gunzipped by
    the adapter), read by its header: its rows and its summary."""
    text = sandbox().trade_bill(datetime.fromisoformat(day).date()).decode("utf-8")
    lines = text.strip("\r\n").split("\r\n")
    header = lines[0].split(",")
    rows = [dict(zip(header, line[1:].split(",`"))) for line in lines[1:-2]]
    return rows, dict(zip(lines[-2].split(","), (v.lstrip("`") for v in lines[-1].split(","))))


def test_an_order_a_wechat_voucher_paid_part_of_is_paid_in_full_and_reconciles(make_product, customer, anonymous,  # type: ignore[no-untyped-def]
                                                                               staff, deliver_notices) -> None:
    """WeChat's own promotion (a 免充值 代金券 of 15.00 on an order of 120.00): the order is PAID at
    its total, the bill shows 订单金额 120.00, 代金券金额 15.00 and 应结订单金额 105.00, and the day
    is MATCHED, the voucher in the bill's figures. A refund of it matches by 申请退款金额."""
    _, (sku,) = make_product(ticket_body([20], price=6000))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 2))).json_body
    plain = alice.post("/orders", order_body((sku, 1))).json_body
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"voucher": 1500}).json_body["notify_status"] == 204
    assert anonymous.post(f"/dev/payments/{plain['order_id']}/succeed", {}).json_body["notify_status"] == 204
    shown = alice.get(f"/orders/{order['order_id']}").json_body
    assert (shown["status"], shown["total"]) == ("PAID", 12000)
    ticket = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"][0]
    refund = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill", "ticket_ids": [ticket["ticket_id"]]})
    drain_queues()
    deliver_notices()
    assert RefundRecord.get(refund.json_body["refund_id"]).status == "SUCCEEDED"

    rows, summary = bill_rows(today())
    paid = next(r for r in rows if r["商户订单号"] == order["order_id"] and r["交易状态"] == "SUCCESS")
    assert (paid["订单金额"], paid["代金券金额"], paid["应结订单金额"], paid["手续费"]) == (
        "120.00", "15.00", "105.00", "0.63000")
    back = next(r for r in rows if r["交易状态"] == "REFUND")
    # 60.00 asked; the voucher's share (15.00 x 60/120) goes back to it, 52.50 to the customer.
    assert (back["申请退款金额"], back["退款金额"], back["充值券退款金额"]) == ("60.00", "52.50", "0.00")
    assert (summary["订单总金额"], summary["应结订单总金额"], summary["申请退款总金额"], summary["退款总金额"]) == (
        "180.00", "165.00", "60.00", "52.50")

    r = staff("finance").post(f"/admin/reconciliation/{today()}/run")
    assert r.status_code == 200, r.body
    assert r.json_body["status"] == "MATCHED" and r.json_body["differences"] == []
    assert r.json_body["bill"] == {"trades": 2, "amount": 18000, "refunds": 1, "refunded": 6000, "voucher": 1500,
                                   "settlement": 16500}
    assert staff("auditor").get(f"/admin/reconciliation?date={today()}").json_body["bill"]["voucher"] == 1500


def test_each_kind_of_difference_is_found_and_alerted(day_of_trade, make_product, customer, anonymous,  # type: ignore[no-untyped-def]
                                                      staff) -> None:
    first, second = day_of_trade["orders"]
    lost = customer().post("/orders", order_body((day_of_trade["sku"], 1))).json_body
    # WeChat took this money but its notice never came: only the bill knows it.
    anonymous.post(f"/dev/payments/{lost['order_id']}/succeed", {"notify": False})
    # Our record of the second payment says 1 fen more than WeChat took.
    PaymentRecord.get(OrderRecord.get(second["order_id"]).transaction_id).update([PaymentRecord.amount.set(6001)])
    # A payment only micromall believes in.
    uow = UnitOfWork()
    PaymentLedger().record(uow, "4200000000FAKE", "O20261121000000GHOSTGHOST01", 700, "paid", "EV-x",
                           datetime.now(timezone.utc), datetime.now(timezone.utc))
    uow.commit()
    # A refund WeChat made that micromall never sent.
    sandbox().refund("RFOREIGN0000000001", first["order_id"], 100, 12000, "not ours")
    # Our refund of the day records another amount than WeChat refunded.
    RefundRecord.get(day_of_trade["refund_id"]).update([RefundRecord.amount.set(5000)])
    # And a refund micromall says WeChat accepted today that WeChat never got.
    ghost = RefundRecord.get(day_of_trade["refund_id"])
    ghost.refund_id, ghost.out_refund_no, ghost.accepted_no = "RGHOST00000000001", "RGHOST00000000001", None
    ghost.save()
    bootstrap.context().refunds.accepted(bootstrap.context().refunds.get("RGHOST00000000001"),
                                         datetime.now(timezone.utc))
    result = staff("admin").post(f"/admin/reconciliation/{today()}/run").json_body
    assert result["status"] == "DIFFERENCES"
    found = {(d["kind"], d.get("out_refund_no") or d["out_trade_no"]) for d in result["differences"]}
    assert found == {("missing_in_micromall", lost["order_id"]), ("amount_mismatch", second["order_id"]),
                     ("missing_in_bill", "O20261121000000GHOSTGHOST01"),
                     ("refund_missing_in_micromall", "RFOREIGN0000000001"),
                     ("refund_amount_mismatch", day_of_trade["refund_id"]),
                     ("refund_missing_in_bill", "RGHOST00000000001")}
    mismatch = next(d for d in result["differences"] if d["kind"] == "amount_mismatch")
    assert mismatch["ours"] == {"amount": 6001} and mismatch["theirs"] == {"amount": 6000}
    drain_queues()
    alerts = [a for a in staff("finance").get("/admin/alerts").json_body["items"] if a["kind"] == "reconciliation"]
    assert alerts and alerts[0]["severity"] == "critical" and "6 differences" in alerts[0]["message"]


def test_the_schedule_reconciles_yesterday_once_after_ten(staff) -> None:  # type: ignore[no-untyped-def]
    ctx = bootstrap.context()
    real = ctx.clock
    now = datetime.now(CST)
    yesterday = (now - timedelta(days=1)).date()
    uow = UnitOfWork()
    paid_at = datetime(yesterday.year, yesterday.month, yesterday.day, 12, tzinfo=CST)
    PaymentLedger().record(uow, "4200000000YDAY", "O20261121000000YESTERDAY001", 700, "paid", "EV-y", paid_at, paid_at)
    uow.commit()
    try:
        for hour, runs in ((9, 0), (10, 1), (11, 0)):
            at = datetime(now.year, now.month, now.day, hour, 30, tzinfo=CST)
            ctx.clock = lambda at=at: at  # type: ignore[method-assign]
            assert app_module.every_minute(TICK, None)["reconciled"] == runs, hour
    finally:
        ctx.clock = real  # type: ignore[method-assign]
    stored = staff("finance").get(f"/admin/reconciliation?date={yesterday.isoformat()}").json_body
    assert stored["status"] == "DIFFERENCES" and stored["differences"][0]["kind"] == "missing_in_bill"
    assert staff("support").get("/admin/dashboard").json_body["todo"]["reconciliation_differences"] == 1


@pytest.mark.parametrize("role,status", [("finance", 200), ("admin", 200), ("auditor", 403), ("support", 403),
                                         ("scanner", 403)])
def test_who_may_run_a_reconciliation(staff, role: str, status: int) -> None:  # type: ignore[no-untyped-def]
    assert staff(role).post(f"/admin/reconciliation/{today()}/run").status_code == status


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", "1999-01-01", "2199-12-31"])
def test_a_day_that_has_no_bill_is_400(staff, day: str) -> None:  # type: ignore[no-untyped-def]
    r = staff("finance").post(f"/admin/reconciliation/{day}/run")
    assert r.status_code == 400 and r.json_body["code"] == "VALIDATION_ERROR"


def test_a_bill_wechat_cannot_serve_is_503_and_changes_nothing(staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.service_layer.ports import PaymentGatewayError

    def down(day: Any) -> bytes:
        raise PaymentGatewayError("connect timeout")
    monkeypatch.setattr(bootstrap.context().wechat_pay, "trade_bill", down)
    r = staff("finance").post(f"/admin/reconciliation/{today()}/run")
    assert r.status_code == 503 and r.json_body["code"] == "BILL_UNAVAILABLE"
    assert staff("finance").get(f"/admin/reconciliation?date={today()}").json_body["status"] == "NOT_RUN"


def test_a_bill_the_schedule_cannot_fetch_is_tried_hourly_and_alerted_once(staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.service_layer.ports import PaymentGatewayError
    ctx = bootstrap.context()
    asked: list[Any] = []

    def down(day: Any) -> bytes:
        asked.append(day)
        raise PaymentGatewayError("connect timeout")
    monkeypatch.setattr(ctx.wechat_pay, "trade_bill", down)
    now = datetime.now(CST)
    yesterday = (now - timedelta(days=1)).date().isoformat()
    real = ctx.clock
    try:
        for hour, minute in ((10, 0), (10, 1), (10, 30), (11, 5), (11, 6)):
            at = datetime(now.year, now.month, now.day, hour, minute, tzinfo=CST)
            ctx.clock = lambda at=at: at  # type: ignore[method-assign]
            assert app_module.every_minute(TICK, None)["reconciled"] == 0
    finally:
        ctx.clock = real  # type: ignore[method-assign]
    assert len(asked) == 2                                   # at 10:00 and again after an hour, not every minute
    stored = staff("finance").get(f"/admin/reconciliation?date={yesterday}").json_body
    assert stored["status"] == "NOT_RUN" and stored["failure"]["code"] == "BILL_UNAVAILABLE"
    drain_queues()
    alerts = [a for a in staff("finance").get("/admin/alerts").json_body["items"]
              if a["kind"] == "reconciliation" and "BILL_UNAVAILABLE" in a["message"]]
    assert len(alerts) == 1 and alerts[0]["severity"] == "critical"
