"""Changes after ordering in the console (issue 23, point 5): support moves a visitor's ticket to
another session (改签) and changes its visitor from the order page; an admin cancels a session
with a reason on the 场次 page and follows its refunds to the end."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, Http, Site, wait_for

from .conftest import goto, new_staff, open_order, shot
from .test_console_pages import open_console

CST = timezone(timedelta(hours=8))
VISITORS = [{"name": "王小明", "id_number": "11010519491231002X"}, {"name": "李华", "id_number": "110101199003077774"}]


def sessions_product(admin: Http, days: tuple[int, ...], real_name: bool = False) -> list[str]:
    """A ticket product with one 10:00–12:00 session per day ahead in `days`, ¥80 each."""
    today = datetime.now(CST).replace(hour=10, minute=0, second=0, microsecond=0)
    skus = [{"name": "成人票", "price": 8000, "stock": 20,
             "session": {"start": (today + timedelta(days=d)).isoformat(),
                         "end": (today + timedelta(days=d, hours=2)).isoformat()}} for d in days]
    body = {"kind": "ticket", "name": "城市博物馆 特展 " + uuid.uuid4().hex[:4], "category": "museum",
            "status": "listed", "real_name": real_name, "skus": skus}
    r = admin.post("/admin/products", body)
    assert r.status_code == 201, r.text
    return [s["sku_id"] for s in r.json()["skus"]]


def buy(site: Site, customer: Http, sku: str, quantity: int, pay: bool = True, **extra: Any) -> str:
    body = {"items": [{"sku_id": sku, "quantity": quantity}], "contact": {"name": "王小明", "phone": "13900139000"},
            **extra}
    r = customer.post("/orders", body)
    assert r.status_code == 201, r.text
    if pay:
        assert site.pay(r.json()["order_id"]).status_code == 200
    return str(r.json()["order_id"])


def test_support_reschedules_a_ticket_and_changes_its_visitor_from_the_order_page(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    site = Site(stack["url"], admin)
    first, second = sessions_product(admin, (2, 3), real_name=True)
    (customer,) = site.customers(1)
    order_id = buy(site, customer, first, 2, visitors=VISITORS)
    name, password = new_staff(admin, "support")
    open_console(page, stack["url"], name, password)
    open_order(page, order_id)
    tickets = page.get_by_test_id("order-ticket")
    expect(tickets).to_have_count(2)
    expect(tickets.first).to_contain_text("****-****-")
    tickets.first.get_by_role("button", name="改签").click()
    expect(page.get_by_test_id("order-ticket")).to_have_count(3)
    expect(page.get_by_test_id("order-ticket").filter(has_text="已作废")).to_have_count(1)
    valid = page.get_by_test_id("order-ticket").filter(has_text="未使用")
    expect(valid).to_have_count(2)
    target = valid.filter(has_text="李华")
    target.get_by_test_id("visitor-name").fill("赵敏")
    target.get_by_test_id("visitor-id").fill("110101199307076666")
    target.get_by_role("button", name="更换游客").click()
    expect(page.get_by_test_id("order-ticket").filter(has_text="赵敏")).to_have_count(1)
    shot(page, "console-order-tickets")
    mine = customer.get(f"/orders/{order_id}/tickets").json()["items"]
    assert sorted((t["sku_id"], t["status"]) for t in mine) == sorted(
        [(first, "REVOKED"), (first, "VALID"), (second, "VALID")])
    assert {t["visitor"]["name"] for t in mine if t["status"] == "VALID"} == {"王小明", "赵敏"}


def test_an_admin_cancels_a_session_and_follows_its_refunds_to_the_end(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    site = Site(stack["url"], admin)
    (sku,) = sessions_product(admin, (4,))
    payer, waiter = site.customers(2)
    paid = buy(site, payer, sku, 2)
    unpaid = buy(site, waiter, sku, 1, pay=False)
    open_console(page, stack["url"], "admin", ADMIN_PASSWORD)
    goto(page, "场次")
    product = admin.get(f"/admin/products/{sku.split('-S')[0]}").json()
    day = datetime.fromisoformat(product["skus"][0]["session"]["start"]).astimezone(CST).strftime("%m-%d")
    page.get_by_test_id("session-day").filter(has_text=day).click()
    row = page.get_by_test_id("session-row").filter(has_text=product["name"])
    expect(row).to_have_count(1)
    row.get_by_test_id("cancel-session").click()
    row.get_by_test_id("cancel-reason").fill("台风停业")
    row.get_by_role("button", name="确认取消").click()
    progress = page.get_by_test_id("cancellation-progress")
    expect(progress).to_contain_text("已完成", timeout=60_000)
    expect(page.get_by_test_id("cancellation-counts")).to_contain_text("已到账 1 笔", timeout=60_000)
    expect(page.get_by_test_id("session-row").filter(has_text=product["name"]).get_by_test_id("session-state")
           ).to_have_text("已取消：台风停业")
    shot(page, "console-session-cancelled")
    assert wait_for(lambda: payer.get(f"/orders/{paid}").json()["status"] == "REFUNDED", seconds=60)
    assert waiter.get(f"/orders/{unpaid}").json()["status"] == "CANCELLED"
    refunds = requests.get(f"{stack['url']}/dev/payments/refunds", timeout=30).json()["items"]
    assert [r["amount"] for r in refunds if r["out_trade_no"] == paid] == [16000]
