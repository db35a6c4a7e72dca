"""The console half of notifications (issue 25, point 5): support sees an order's subscribe messages
(出票通知 已发送) and sends the tickets message again (重发门票), told in Chinese when the customer has
no subscription left, and seeing the second message sent once the customer subscribed again."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import Http, Site, wait_for

from .conftest import goto, new_staff, open_order, shot
from .test_console_changes import buy, sessions_product
from .test_console_pages import open_console

TICKETS = "local-ticket_issued"


def statuses(admin: Http, order_id: str) -> list[str]:
    r = admin.get(f"/admin/orders/{order_id}/messages")
    assert r.status_code == 200, r.text
    return [m["status"] for m in r.json()["items"]]


def test_support_sees_the_orders_messages_and_resends_the_tickets(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    site = Site(stack["url"], admin)
    (sku,) = sessions_product(admin, (2,))
    (customer,) = site.customers(1)
    order_id = buy(site, customer, sku, 1, pay=False)
    assert customer.post("/me/subscriptions", {"accepted": [TICKETS]}).status_code == 200
    assert site.pay(order_id).status_code == 200
    assert wait_for(lambda: statuses(admin, order_id) == ["SENT"], seconds=60)

    name, password = new_staff(admin, "support")
    open_console(page, stack["url"], name, password)
    open_order(page, order_id)
    section = page.get_by_test_id("order-notifications")
    expect(section.get_by_role("heading", name="消息通知")).to_be_visible()
    rows = section.get_by_test_id("order-message")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("出票通知")
    expect(rows.first).to_contain_text("已发送")

    resend = section.get_by_test_id("resend-tickets")
    resend.get_by_role("button", name="重发门票").click()
    expect(resend.locator(".error")).to_have_text("顾客没有可用的订阅次数，无法重发")
    shot(page, "console-order-messages-no-subscription")
    assert statuses(admin, order_id) == ["SENT"]

    assert customer.post("/me/subscriptions", {"accepted": [TICKETS]}).status_code == 200
    resend.get_by_role("button", name="重发门票").click()
    expect(resend.locator(".notice")).to_contain_text("已提交重发")
    expect(rows).to_have_count(2, timeout=45_000)
    expect(rows.filter(has_text="已发送")).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("出票通知（重发）")
    shot(page, "console-order-messages")
    assert statuses(admin, order_id) == ["SENT", "SENT"]


def test_a_finance_user_sees_no_messages_of_an_order(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    site = Site(stack["url"], admin)
    (sku,) = sessions_product(admin, (2,))
    (customer,) = site.customers(1)
    order_id = buy(site, customer, sku, 1)
    name, password = new_staff(admin, "finance")
    open_console(page, stack["url"], name, password)
    open_order(page, order_id)
    expect(page.get_by_role("heading", name=f"订单 {order_id}")).to_be_visible()
    expect(page.get_by_test_id("order-notifications")).to_have_count(0)


def test_the_settings_show_which_messages_the_stage_sends(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    """消息通知 (settings): each event with its template, the tap that asks for it and its fields;
    locally every event is configured (`local-<event>`) and opens the developer mini-program."""
    name, password = new_staff(admin, "support")
    open_console(page, stack["url"], name, password)
    goto(page, "消息通知")
    rows = page.get_by_test_id("template-row")
    expect(rows).to_have_count(6)
    expect(rows.filter(has_text="已配置")).to_have_count(6)
    tickets = page.locator("[data-testid=template-row][data-event=ticket_issued]")
    expect(tickets).to_contain_text("出票通知")
    expect(tickets).to_contain_text(TICKETS)
    expect(tickets).to_contain_text("购买门票支付时")
    expect(tickets).to_contain_text("thing1（事物）")
    expect(page.locator("[data-testid=template-row][data-event=refund_result]")).to_contain_text("申请退款/售后时")
    expect(page.get_by_test_id("miniprogram-state")).to_have_text("消息打开：开发版小程序")
    expect(page.get_by_test_id("templates-configured")).to_have_text("全部已配置")
    shot(page, "console-notification-settings")
