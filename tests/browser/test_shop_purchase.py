"""The customer shop (/shop/, issue 26) on a phone: a visitor signs in as the mini-program would
sign them in, claims a coupon, buys two real-name tickets of a session, sees the coupon taken off
the price the API quotes, pays in the local payment sandbox and gets both tickets as QR codes; the
gate scanner page then admits one of them from the payload read off the shop's page, once. Inside
a mini-program's web-view the shop hands payment over to the mini-program's pay page instead."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import CST, Http, wait_for

from .conftest import PHONE, new_staff, shot
from .test_scanner_page import login as scanner_login, scan

VISITORS = [("王小明", "11010519491231002X"), ("李华", "110101199003077774")]


def museum_tickets(admin: Http, price: int = 6000, stock: int = 30) -> tuple[str, str, str]:
    """A real-name ticket product with one session two days ahead whose tickets the gates admit from
    an hour ago: (product id, its name, the session's SKU)."""
    now = datetime.now(timezone.utc)
    start = (now + timedelta(days=2)).astimezone(CST).replace(hour=9, minute=0, second=0, microsecond=0)
    name = "城市博物馆 特展 " + uuid.uuid4().hex[:4]
    body = {"kind": "ticket", "name": name, "description": "青铜器与玉器精品展，含常设展厅。", "category": "museum",
            "status": "listed", "real_name": True, "purchase_limit": 5,
            "skus": [{"name": "成人票", "price": price, "stock": stock, "low_stock_threshold": 0,
                      "valid_from": (now - timedelta(hours=1)).astimezone(CST).isoformat(),
                      "session": {"start": start.isoformat(), "end": (start + timedelta(hours=3)).isoformat()}}]}
    r = admin.post("/admin/products", body)
    assert r.status_code == 201, r.text
    return r.json()["product_id"], name, r.json()["skus"][0]["sku_id"]


def coupon_for(admin: Http, product_id: str, amount: int, threshold: int) -> str:
    now = datetime.now(CST)
    r = admin.post("/admin/coupons", {
        "name": f"满{threshold // 100}减{amount // 100} " + uuid.uuid4().hex[:4], "kind": "cash", "amount": amount,
        "threshold": threshold, "scope": {"product_ids": [product_id]}, "total": 100, "per_user_limit": 1,
        "claim_from": (now - timedelta(minutes=5)).isoformat(), "claim_until": (now + timedelta(days=3)).isoformat(),
        "valid_days": 7})
    assert r.status_code == 201, r.text
    return r.json()["coupon_id"]


def fits_a_phone(phone: Any) -> None:
    """Nothing wider than the screen, and everything a thumb taps at least 44 px high (a choice's radio
    button or checkbox is tapped through its whole row)."""
    found = phone.evaluate("""() => {
        const small = [];
        for (const e of document.querySelectorAll('a, button, select, input:not([type=radio]):not([type=checkbox]), label.choice')) {
            const r = e.getBoundingClientRect();
            if (r.width && r.height && r.height < 43.5) small.push(`${e.tagName} ${e.textContent.trim().slice(0, 20)} ${r.height}`);
        }
        return {small, overflow: Math.max(document.documentElement.scrollWidth, window.innerWidth) - screen.width};
    }""")
    assert found == {"small": [], "overflow": 0}, found


def sign_in(phone: Any, url: str, openid: str) -> None:
    phone.goto(f"{url}/shop/?code=dev:{openid}")
    expect(phone.get_by_test_id("product-card").first).to_be_visible()
    assert "code=" not in phone.url                                 # the code does not stay in the address


def test_a_visitor_buys_two_tickets_with_a_coupon_pays_and_gets_in_at_the_gate(  # type: ignore[no-untyped-def]
        stack, admin: Http, phone, page) -> None:
    url = stack["url"]
    problems: list[str] = []                                         # script errors, CSP refusals, failed loads
    phone.on("pageerror", lambda e: problems.append(str(e)))
    phone.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    product_id, name, sku_id = museum_tickets(admin)
    coupon_id = coupon_for(admin, product_id, amount=2000, threshold=10000)
    phone.goto(f"{url}/shop/#/orders")                               # no token yet: asked to sign in
    expect(phone.get_by_test_id("sign-in-panel")).to_be_visible()
    shot(phone, "shop-0-sign-in", full_page=False)
    openid = "shop-" + uuid.uuid4().hex[:10]
    sign_in(phone, url, openid)
    card = phone.get_by_test_id("product-card").filter(has_text=name)
    expect(card.get_by_test_id("session")).to_contain_text("余 30")
    card.scroll_into_view_if_needed()
    shot(phone, "shop-1-catalog", full_page=False)
    fits_a_phone(phone)

    # 优惠券: the coupon is offered and claimed.
    phone.get_by_role("link", name="优惠券").click()
    claim = phone.locator(f'[data-testid="coupon-claim"][data-coupon-id="{coupon_id}"]')
    claim.click()
    expect(claim).to_have_text("已领取")
    expect(phone.get_by_test_id("my-coupon").filter(has_text="满100减20")).to_have_attribute("data-status", "AVAILABLE")
    shot(phone, "shop-2-coupons", full_page=False)
    fits_a_phone(phone)

    # The product: its session by date, two tickets.
    phone.get_by_role("link", name="首页").click()
    phone.get_by_test_id("product-card").filter(has_text=name).locator("a.product-head").click()
    expect(phone.locator(f'[data-testid="sku"][data-sku="{sku_id}"] input')).to_be_checked()
    phone.get_by_role("button", name="增加").click()
    expect(phone.get_by_test_id("quantity")).to_have_value("2")
    shot(phone, "shop-3-product")
    fits_a_phone(phone)
    phone.get_by_test_id("buy").click()

    # The order form: one visitor per ticket, the contact, and the price as the API quotes it.
    expect(phone.get_by_test_id("order-total")).to_have_text("¥120.00")
    for i, (visitor, id_number) in enumerate(VISITORS):
        phone.get_by_test_id("visitor-name").nth(i).fill(visitor)
        phone.get_by_test_id("visitor-id").nth(i).fill(id_number)
    phone.get_by_test_id("contact-name").fill("王小明")
    phone.get_by_test_id("contact-phone").fill("13800138000")
    expect(phone.get_by_test_id("order-total")).to_have_text("¥100.00")        # 满100减20 taken off ¥120.00
    expect(phone.get_by_test_id("order-discount")).to_have_text("已优惠 ¥20.00")
    expect(phone.locator('[data-testid="coupon-choice"] input')).to_be_checked()          # the best coupon, chosen for them
    phone.evaluate("window.scrollTo(0, 0)")
    shot(phone, "shop-4-checkout", full_page=False)
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    shot(phone, "shop-4b-checkout-total", full_page=False)
    fits_a_phone(phone)
    phone.get_by_test_id("place-order").click()

    # Payment through the local sandbox, as WeChat's pay sheet would take it.
    phone.wait_for_url("**/shop/#/pay/*")
    order_id = phone.url.rsplit("/", 1)[-1]
    pay = phone.get_by_test_id("pay")
    expect(pay).to_contain_text("¥100.00")
    expect(phone.get_by_test_id("order-status")).to_have_attribute("data-status", "PENDING_PAYMENT")
    shot(phone, "shop-5-pay", full_page=False)
    fits_a_phone(phone)
    pay.click()
    # The pay tap asks for the order's messages, as the mini-program would (订阅消息).
    sheet = phone.get_by_test_id("subscribe-sheet")
    expect(sheet).to_contain_text("出票通知")
    expect(sheet.get_by_test_id("subscribe-template")).to_have_count(3)     # tickets, the day before, a cancellation
    shot(phone, "shop-5b-subscribe", full_page=False)
    sheet.get_by_test_id("subscribe-allow").click()
    expect(phone.get_by_test_id("order-status")).to_have_attribute("data-status", "PAID", timeout=30000)
    shot(phone, "shop-6-paid", full_page=False)
    # ... and the tickets message reaches the visitor's WeChat (the local sandbox), once.
    assert wait_for(lambda: [m for m in Http(url).get("/dev/wechat/messages").json()["items"]
                             if m["touser"] == openid and m["template_id"] == "local-ticket_issued"], seconds=60)

    # Both tickets, each a QR code a screen.
    phone.get_by_test_id("view-tickets").click()
    qrs = phone.get_by_test_id("ticket-qr")
    expect(qrs).to_have_count(2)
    box = qrs.first.bounding_box()
    assert box and box["width"] >= 300 and box["height"] >= 300            # large enough to scan from a phone
    payloads = [qrs.nth(i).get_attribute("data-qr") for i in range(2)]
    codes = [c.strip() for c in phone.get_by_test_id("ticket-code").all_inner_texts()]
    assert len(set(payloads)) == 2 and all(payloads) and all(codes)
    shot(phone, "shop-7-ticket", full_page=False)
    fits_a_phone(phone)

    # 我的订单: paid, with its history.
    phone.goto(f"{url}/shop/#/orders")
    expect(phone.get_by_test_id("order-status").first).to_have_attribute("data-status", "PAID")
    shot(phone, "shop-8-orders", full_page=False)
    fits_a_phone(phone)
    phone.get_by_test_id("order-card").first.click()
    expect(phone.get_by_test_id("order-history")).to_contain_text("已支付")
    shot(phone, "shop-9-order", full_page=False)
    fits_a_phone(phone)

    assert problems == []

    # The gate: the scanner page admits one ticket from the payload the shop showed, once.
    username, password = new_staff(admin, "scanner")
    scanner_login(page, url, username, password, "东门")
    first = scan(page, payloads[0])
    assert first["result"] == "ok", first
    again = scan(page, payloads[0])
    assert (again["result"], again["reason"]) == ("rejected", "already_redeemed")

    # The shop shows it used; the other is still good.
    phone.goto(f"{url}/shop/#/tickets/{order_id}")
    expect(phone.get_by_test_id("ticket").first).to_have_attribute("data-status", "REDEEMED")
    expect(phone.get_by_test_id("ticket").nth(1)).to_have_attribute("data-status", "VALID")


def test_inside_a_mini_program_payment_is_handed_over_to_its_pay_page(  # type: ignore[no-untyped-def]
        stack, admin: Http, browser) -> None:
    """wx.miniProgram (WeChat's JSSDK in a web-view) stubbed: 立即支付 asks the mini-program to open
    /pages/pay/index with the order, and the page follows the order to PAID when the mini-program paid."""
    url = stack["url"]
    _, _, sku_id = museum_tickets(admin)
    openid = "mp-" + uuid.uuid4().hex[:10]
    customer = Http(url, requests.post(f"{url}/auth/wechat/login", json={"code": f"dev:{openid}"}, timeout=30).json()["token"])
    placed = customer.post("/orders", {"items": [{"sku_id": sku_id, "quantity": 1}],
                                       "visitors": [{"name": "李华", "id_number": VISITORS[1][1]}],
                                       "contact": {"name": "李华", "phone": "13900139000"}})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]

    context = browser.new_context(**PHONE)
    context.add_init_script("window.__navigated = []; window.__wxjs_environment = 'miniprogram';"
                            "window.wx = {miniProgram: {navigateTo: (o) => window.__navigated.push(o.url)}};")
    phone = context.new_page()
    try:
        phone.goto(f"{url}/shop/?code=dev:{openid}#/pay/{order_id}")
        phone.get_by_test_id("pay").click()
        expect(phone.get_by_test_id("pay-waiting")).to_contain_text("小程序")
        assert phone.evaluate("window.__navigated") == [f"/pages/pay/index?order_id={order_id}"]
        shot(phone, "shop-10-mini-program-hand-over", full_page=False)
        # The mini-program's pay page pays (here: the sandbox); the web-view sees the order paid.
        assert requests.post(f"{url}/dev/payments/{order_id}/succeed", json={}, timeout=60).status_code == 200
        expect(phone.get_by_test_id("order-status")).to_have_attribute("data-status", "PAID", timeout=30000)
    finally:
        context.close()
