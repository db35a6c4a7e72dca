"""The shop (/shop/) on a phone for goods (文创): a spec chosen, delivery by post or pickup, paid, and
the pickup code shown as a QR; and what a visitor sees when the network is slow (a waiting state)
and when the API refuses (its reason in Chinese)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import CST, Http

from .conftest import shot
from .test_shop_purchase import museum_tickets, sign_in


def museum_goods(admin: Http) -> tuple[str, str, dict[str, str]]:
    name = "青花瓷纹帆布包 " + uuid.uuid4().hex[:4]
    r = admin.post("/admin/products", {
        "kind": "merch", "name": name, "description": "馆藏青花纹样，纯棉帆布。", "category": "souvenir", "status": "listed",
        "fulfillment": ["pickup", "shipping"],
        "skus": [{"name": "中号", "price": 8800, "stock": 20, "low_stock_threshold": 0, "attributes": {"size": "M"}},
                 {"name": "大号", "price": 9800, "stock": 20, "low_stock_threshold": 0, "attributes": {"size": "L"}}]})
    assert r.status_code == 201, r.text
    return r.json()["product_id"], name, {s["name"]: s["sku_id"] for s in r.json()["skus"]}


def test_goods_are_bought_for_pickup_and_the_pickup_code_is_shown(stack, admin: Http, phone) -> None:  # type: ignore[no-untyped-def]
    url = stack["url"]
    _, name, skus = museum_goods(admin)
    sign_in(phone, url, "goods-" + uuid.uuid4().hex[:10])
    phone.get_by_test_id("product-card").filter(has_text=name).locator("a.product-head").click()
    large = phone.locator(f'[data-testid="sku"][data-sku="{skus["大号"]}"]')
    expect(large).to_contain_text("尺码：L")
    large.click()
    shot(phone, "shop-11-goods-product", full_page=False)
    phone.get_by_test_id("buy").click()

    expect(phone.get_by_test_id("order-total")).to_have_text("¥98.00")
    phone.get_by_test_id("contact-name").fill("张三")
    phone.get_by_test_id("contact-phone").fill("13900139000")
    phone.get_by_test_id("fulfillment-shipping").check()
    phone.get_by_test_id("address-recipient").fill("张三")
    phone.get_by_test_id("address-phone").fill("13900139000")
    phone.get_by_test_id("address-region").fill("北京市 东城区")
    phone.get_by_test_id("address-detail").fill("景山前街 4 号")
    expect(phone.get_by_test_id("quote-hint")).to_have_text("")
    phone.get_by_test_id("address-recipient").scroll_into_view_if_needed()
    shot(phone, "shop-12-goods-shipping", full_page=False)
    phone.get_by_test_id("fulfillment-pickup").check()               # changed their mind: picks it up at the shop
    expect(phone.get_by_test_id("address-recipient")).to_be_hidden()
    phone.get_by_test_id("place-order").click()

    phone.get_by_test_id("pay").click()
    sheet = phone.get_by_test_id("subscribe-sheet")                  # goods: pickup and shipping messages
    expect(sheet.get_by_test_id("subscribe-template")).to_have_count(2)
    expect(sheet).to_contain_text("待取货")
    sheet.get_by_test_id("subscribe-cancel").click()                 # declined: the payment goes on
    expect(phone.get_by_test_id("order-status")).to_have_attribute("data-status", "PAID", timeout=30000)
    expect(phone.get_by_test_id("view-tickets")).to_have_count(0)
    phone.get_by_role("link", name="查看订单").click()
    pickup = phone.get_by_test_id("pickup-qr")
    expect(pickup).to_be_visible()
    assert pickup.get_attribute("data-qr")
    shot(phone, "shop-13-goods-pickup-code", full_page=False)


def test_a_slow_network_shows_a_waiting_state_and_a_refusal_its_chinese_reason(  # type: ignore[no-untyped-def]
        stack, admin: Http, phone) -> None:
    url = stack["url"]
    product_id, _, sku_id = museum_tickets(admin, stock=2)
    sign_in(phone, url, "slow-" + uuid.uuid4().hex[:10])

    # Slow: the catalog takes two seconds to answer, and the page says it is loading meanwhile.
    def slowly(route: Any) -> None:
        phone.wait_for_timeout(2000)
        route.continue_()
    phone.route("**/catalog/products/*", slowly)
    phone.goto(f"{url}/shop/#/product/{product_id}")
    expect(phone.get_by_test_id("loading")).to_be_visible()
    shot(phone, "shop-14-loading", full_page=False)
    expect(phone.get_by_test_id("buy")).to_be_visible(timeout=15000)
    phone.unroute("**/catalog/products/*")

    # Refused: the session sells out while the visitor fills in the form.
    phone.get_by_role("button", name="增加").click()
    phone.get_by_test_id("buy").click()
    assert admin.post(f"/admin/inventory/{sku_id}/adjustments", {"delta": -2, "reason": "售出（窗口）"}).status_code == 200
    for i, (visitor, id_number) in enumerate([("王小明", "11010519491231002X"), ("李华", "110101199003077774")]):
        phone.get_by_test_id("visitor-name").nth(i).fill(visitor)
        phone.get_by_test_id("visitor-id").nth(i).fill(id_number)
    phone.get_by_test_id("contact-name").fill("王小明")
    phone.get_by_test_id("contact-phone").fill("13800138000")
    phone.get_by_test_id("place-order").click()
    error = phone.get_by_test_id("order-error")
    expect(error).to_have_text("库存不足，请减少数量或选择其他场次")
    shot(phone, "shop-15-sold-out", full_page=False)


def test_a_session_is_picked_from_the_strip_of_dates_and_an_expired_sign_in_asks_again(  # type: ignore[no-untyped-def]
        stack, admin: Http, phone) -> None:
    url = stack["url"]
    now = datetime.now(CST).replace(hour=10, minute=0, second=0, microsecond=0)
    sessions = [now + timedelta(days=d) for d in (2, 3, 4)]
    r = admin.post("/admin/products", {
        "kind": "ticket", "name": "夜游博物馆 " + uuid.uuid4().hex[:4], "category": "museum", "status": "listed",
        "skus": [{"name": "成人票", "price": 5000, "stock": 10, "low_stock_threshold": 0,
                  "session": {"start": s.isoformat(), "end": (s + timedelta(hours=2)).isoformat()}} for s in sessions]})
    assert r.status_code == 201, r.text
    product_id, skus = r.json()["product_id"], [s["sku_id"] for s in r.json()["skus"]]
    sign_in(phone, url, "dates-" + uuid.uuid4().hex[:10])
    phone.goto(f"{url}/shop/#/product/{product_id}")
    tabs = phone.get_by_test_id("date")
    expect(tabs).to_have_count(3)
    expect(tabs.first).to_have_attribute("aria-selected", "true")
    tabs.nth(2).click()                                             # the third day: its session is chosen
    expect(tabs.nth(2)).to_have_attribute("aria-selected", "true")
    expect(phone.locator(f'[data-testid="sku"][data-sku="{skus[2]}"] input')).to_be_checked()
    expect(phone.get_by_test_id("sku")).to_have_count(1)
    phone.get_by_test_id("buy").click()
    expect(phone.locator(".checkout")).to_contain_text(f"{sessions[2].month}月{sessions[2].day}日")

    # The token no longer works (expired, or ended): the visitor is asked to sign in again.
    phone.evaluate("""() => { const s = JSON.parse(localStorage.getItem('mm.shop.session'));
                              localStorage.setItem('mm.shop.session', JSON.stringify({...s, token: 'forged'})); }""")
    phone.goto(f"{url}/shop/#/orders")
    expect(phone.get_by_test_id("sign-in-notice")).to_have_text("登录已过期，请重新登录")
    phone.get_by_test_id("openid").fill("again-" + uuid.uuid4().hex[:8])
    phone.get_by_test_id("sign-in").click()
    expect(phone.locator("main")).to_contain_text("还没有订单")


def test_an_unpaid_order_is_paid_later_or_cancelled_from_its_page(stack, admin: Http, phone) -> None:  # type: ignore[no-untyped-def]
    url = stack["url"]
    _, name, skus = museum_goods(admin)
    openid = "later-" + uuid.uuid4().hex[:10]
    customer = Http(url, requests.post(f"{url}/auth/wechat/login", json={"code": f"dev:{openid}"}, timeout=30).json()["token"])
    placed = customer.post("/orders", {"items": [{"sku_id": skus["中号"], "quantity": 2}], "fulfillment": "pickup",
                                       "contact": {"name": "张三", "phone": "13900139000"}})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    sign_in(phone, url, openid)
    phone.get_by_role("link", name="我的订单").click()
    card = phone.locator(f'[data-testid="order-card"][data-order-id="{order_id}"]')
    expect(card.get_by_test_id("order-status")).to_have_attribute("data-status", "PENDING_PAYMENT")
    expect(card).to_contain_text(name)
    card.click()
    expect(phone.get_by_test_id("to-pay")).to_be_visible()
    shot(phone, "shop-16-unpaid-order", full_page=False)
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.get_by_test_id("cancel-order").click()
    expect(phone.get_by_test_id("order-status")).to_have_attribute("data-status", "CANCELLED")
    expect(phone.get_by_test_id("to-pay")).to_have_count(0)
    assert customer.get(f"/orders/{order_id}").json()["status"] == "CANCELLED"
