"""The refund queue tells finance what each refund takes back (product, session or spec, units)
and for whom (the contact, masked), so that a refund is decided without opening its order."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import Http

from .conftest import new_staff, shot
from .test_console_pages import open_console

CONTACT = {"name": "王小明", "phone": "13900000000"}


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def _paid_order(stack: dict[str, str], lines: list[tuple[str, int]], **extra: Any) -> tuple[Http, str]:
    login = requests.post(stack["url"] + "/auth/wechat/login", json={"code": "dev:queue-" + uuid.uuid4().hex[:8]},
                          timeout=30).json()
    customer = Http(stack["url"], login["token"])
    order = customer.post("/orders", {"items": [{"sku_id": s, "quantity": q} for s, q in lines],
                                      "contact": CONTACT, **extra}).json()
    paid = requests.post(f"{stack['url']}/dev/payments/{order['order_id']}/succeed", json={}, timeout=30).json()
    assert paid["notify_status"] == 204, paid
    return customer, order["order_id"]


def test_finance_sees_what_each_refund_takes_back_and_for_whom(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(timezone.utc)
    # A session on 12/6 10:00–12:00 at the venue (Asia/Shanghai), three days on, admission open already:
    # its refund waits for finance.
    start = (now + timedelta(days=3)).astimezone(timezone(timedelta(hours=8))).replace(
        hour=10, minute=0, second=0, microsecond=0).astimezone(timezone.utc)
    museum = admin.post("/admin/products", {
        "kind": "ticket", "name": "城市博物馆", "category": "museum", "status": "listed",
        "skus": [{"name": "门票", "price": 12000, "stock": 50, "low_stock_threshold": 0,
                  "session": {"start": _iso(start), "end": _iso(start + timedelta(hours=2))},
                  "valid_from": _iso(now - timedelta(hours=1))}]}).json()
    tote = admin.post("/admin/products", {
        "kind": "merch", "name": "文创帆布袋", "category": "souvenir", "status": "listed", "fulfillment": ["pickup"],
        "skus": [{"name": "红色", "price": 3900, "stock": 20}, {"name": "蓝色", "price": 3900, "stock": 20}]}).json()
    visitor, ticket_order = _paid_order(stack, [(museum["skus"][0]["sku_id"], 3)])
    tickets = visitor.get(f"/orders/{ticket_order}/tickets").json()["items"]
    ticket_refund = visitor.post(f"/orders/{ticket_order}/refunds", {
        "reason": "行程有变", "ticket_ids": [t["ticket_id"] for t in tickets[:2]]}).json()
    shopper, goods_order = _paid_order(stack, [(tote["skus"][0]["sku_id"], 1), (tote["skus"][1]["sku_id"], 2)],
                                       fulfillment="pickup")
    goods_refund = shopper.post(f"/orders/{goods_order}/refunds", {"reason": "颜色不喜欢"}).json()
    assert ticket_refund["status"] == goods_refund["status"] == "REQUESTED"

    open_console(page, stack["url"], *new_staff(admin, "finance"))
    page.locator("nav a", has_text="退款").click()
    tickets_row = page.locator("tr", has_text=ticket_refund["refund_id"])
    goods_row = page.locator("tr", has_text=goods_refund["refund_id"])
    expect(tickets_row.get_by_test_id("refund-item")).to_have_text(
        "城市博物馆 门票 · " + start.astimezone(timezone(timedelta(hours=8))).strftime("%Y/%-m/%-d")
        + " 10:00–12:00 × 2 ¥240.00")
    expect(tickets_row.get_by_test_id("refund-contact")).to_have_text("王**139****0000")
    expect(goods_row.get_by_test_id("refund-item")).to_have_count(2)
    assert sorted(goods_row.get_by_test_id("refund-item").all_inner_texts()) == [
        "文创帆布袋 · 红色 × 1 ¥39.00", "文创帆布袋 · 蓝色 × 2 ¥78.00"]
    expect(goods_row.get_by_test_id("refund-contact")).to_contain_text("139****0000")
    assert "13900000000" not in page.locator("main").inner_text() and "王小明" not in page.locator("main").inner_text()
    # The decisions are where they were.
    expect(tickets_row.get_by_role("button", name="批准")).to_be_visible()
    expect(goods_row.get_by_role("button", name="拒绝")).to_be_visible()
    expect(goods_row.get_by_text("商品已退回")).to_be_visible()
    page.locator("main").scroll_into_view_if_needed()
    shot(page, "console-refund-queue")
    goods_row.get_by_role("button", name="批准").click()
    goods_row.wait_for(state="detached")
    decided = admin.get("/admin/refunds?status=APPROVED").json()["items"] + \
        admin.get("/admin/refunds?status=PROCESSING").json()["items"] + \
        admin.get("/admin/refunds?status=SUCCEEDED").json()["items"]
    assert goods_refund["refund_id"] in {r["refund_id"] for r in decided}
