"""The shop after an order, on a phone in Chromium (360x740, touch, zh-CN, Asia/Shanghai): a visitor
signed in with /shop/?code=dev:<openid> asks for a refund of one ticket (allowing the 退款结果 message on
the way, as WeChat's dialog asks), moves another ticket to the other session (改签), and asks to return
one of the mugs collected at the shop (售后). Each step is checked through the API too. Screenshots
build/screenshots/shop-*.png are to be looked at."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import CST, Http, Site, wait_for

from .conftest import PHONE, shot
from .test_shop_purchase import fits_a_phone


def customer(url: str) -> tuple[str, Http]:
    openid = "shop-" + uuid.uuid4().hex[:10]
    r = requests.post(url + "/auth/wechat/login", json={"code": f"dev:{openid}"}, timeout=30)
    assert r.status_code == 200, r.text
    return openid, Http(url, r.json()["token"])


def two_sessions(admin: Http) -> tuple[str, list[str]]:
    """常设展 admission in two sessions, two and three days ahead (admission opens at each start: a
    refund before it is approved at once)."""
    day = datetime.now(CST).replace(hour=9, minute=0, second=0, microsecond=0)
    skus = []
    for ahead in (2, 3):
        start = day + timedelta(days=ahead)
        skus.append({"name": "成人票", "price": 6000, "stock": 20, "low_stock_threshold": 0,
                     "session": {"start": start.isoformat(), "end": (start + timedelta(hours=3)).isoformat()}})
    r = admin.post("/admin/products", {"kind": "ticket", "name": "常设展 · 古代中国 " + uuid.uuid4().hex[:4],
                                       "category": "museum", "status": "listed", "skus": skus})
    assert r.status_code == 201, r.text
    return r.json()["product_id"], [s["sku_id"] for s in r.json()["skus"]]


def paid(url: str, shopper: Http, body: dict[str, Any]) -> str:
    r = shopper.post("/orders", {"contact": {"name": "王小明", "phone": "13800138000"}, **body})
    assert r.status_code == 201, r.text
    order_id = r.json()["order_id"]
    assert requests.post(f"{url}/dev/payments/{order_id}/succeed", json={}, timeout=60).status_code == 200
    return order_id


def look(page: Any, name: str, full_page: bool = True) -> None:
    """The whole page as on a phone as tall as it (a full-page shot would draw the fixed bars mid-page)."""
    page.evaluate("window.scrollTo(0, 0)")
    if not full_page:
        shot(page, name, full_page=False)
        return
    page.set_viewport_size({"width": 360, "height": page.evaluate("document.documentElement.scrollHeight")})
    shot(page, name, full_page=False)
    page.set_viewport_size(PHONE["viewport"])


def test_refund_reschedule_and_after_sale_from_the_phone(stack: dict[str, str], admin: Http, phone: Any) -> None:
    url = stack["url"]
    openid, shopper = customer(url)
    _, (first, second) = two_sessions(admin)
    order_id = paid(url, shopper, {"items": [{"sku_id": first, "quantity": 3}]})
    tickets = shopper.get(f"/orders/{order_id}/tickets").json()["items"]
    assert len(tickets) == 3

    # 退款: one ticket, with the 退款结果 message allowed in the sheet on the way.
    phone.goto(f"{url}/shop/?code=dev:{openid}#/orders")            # from 我的订单, as a visitor goes
    phone.locator(f"[data-testid=order-card][data-order-id='{order_id}']").click()
    expect(phone.get_by_test_id("to-reschedule")).to_have_text("改签")
    look(phone, "shop-order-actions", full_page=False)
    phone.get_by_test_id("to-refund").click()
    phone.get_by_test_id("refund-ticket").first.wait_for()
    expect(phone.get_by_test_id("refund-ticket")).to_have_count(3)
    fits_a_phone(phone)
    refunded = tickets[0]["ticket_id"]
    phone.locator(f"[data-testid=refund-ticket][data-ticket-id='{refunded}']").tap()
    expect(phone.get_by_test_id("refund-estimate")).to_have_text("¥60.00")
    phone.get_by_test_id("refund-submit").tap()
    sheet = phone.get_by_test_id("subscribe-sheet")
    expect(sheet).to_contain_text("「文博商城」申请向你发送以下通知")
    expect(sheet).to_contain_text("退款结果")
    shot(phone, "shop-subscribe", full_page=False)
    with phone.expect_response(lambda r: r.url.endswith("/me/subscriptions")) as answer:
        phone.get_by_test_id("subscribe-allow").tap()
    assert answer.value.json()["credits"] == {"local-refund_result": 1}
    expect(phone.get_by_test_id("refund-result")).to_be_visible()
    refunds = shopper.get(f"/orders/{order_id}/refunds").json()["items"]
    assert len(refunds) == 1 and refunds[0]["amount"] == 6000 and refunds[0]["tickets"] == 1
    # The page looks again while the money is on its way, until WeChat confirms it.
    expect(phone.locator("[data-testid=refund-item][data-status=SUCCEEDED]")).to_have_count(1, timeout=30000)
    expect(phone.locator(f"[data-testid=refund-ticket][data-ticket-id='{refunded}'] input")).to_be_disabled()
    fits_a_phone(phone)
    look(phone, "shop-refund")
    sent = wait_for(lambda: [m for m in requests.get(url + "/dev/wechat/messages", timeout=30).json()["items"]
                             if m["touser"] == openid and m["template_id"] == "local-refund_result"], seconds=30)
    assert len(sent) == 1, sent

    # 改签: the next ticket to the other session, from its ticket screen.
    moved = tickets[1]["ticket_id"]
    phone.goto(f"{url}/shop/#/tickets/{order_id}")
    phone.locator(f"[data-testid=ticket]:has([href*='{moved}'])").get_by_test_id("ticket-reschedule").click()
    phone.locator(f"[data-testid=reschedule-ticket][data-ticket-id='{moved}'] input").wait_for()
    expect(phone.locator(f"[data-testid=reschedule-ticket][data-ticket-id='{refunded}'] input")).to_be_disabled()
    expect(phone.get_by_test_id("reschedule-rules")).to_contain_text("差价 ¥0.00")
    phone.locator(f"[data-testid=reschedule-ticket][data-ticket-id='{moved}']").tap()
    phone.locator(f"[data-testid=reschedule-session][data-sku-id='{second}']").tap()
    expect(phone.get_by_test_id("reschedule-summary")).to_contain_text("新场次")
    fits_a_phone(phone)
    look(phone, "shop-reschedule")
    phone.get_by_test_id("reschedule-submit").tap()
    result = phone.get_by_test_id("reschedule-result")
    expect(result).to_have_attribute("data-sku-id", second)
    expect(phone.get_by_test_id("new-session")).to_contain_text(
        (datetime.now(CST) + timedelta(days=3)).strftime("%-m月%-d日"))
    shot(phone, "shop-reschedule-done", full_page=False)
    now = {t["ticket_id"]: t for t in shopper.get(f"/orders/{order_id}/tickets").json()["items"]}
    assert now[moved]["status"] == "REVOKED"
    (fresh,) = [t for t in now.values() if t.get("rescheduled_from") == moved]
    assert fresh["sku_id"] == second and fresh["status"] == "VALID"

    # An order that is not there (or not this visitor's) reads as such, in Chinese.
    phone.goto(f"{url}/shop/#/after-sale/O-NOT-MINE")
    expect(phone.get_by_test_id("error")).to_contain_text("订单不存在")

    # 售后: a return of one of two mugs collected at the shop.
    r = admin.post("/admin/products", {
        "kind": "merch", "name": "馆藏青花瓷马克杯 " + uuid.uuid4().hex[:4], "category": "souvenir", "status": "listed",
        "fulfillment": ["pickup"],
        "skus": [{"name": size, "price": 6800, "stock": 10, "attributes": {"size": size}} for size in ("大号", "小号")]})
    assert r.status_code == 201, r.text
    mug = r.json()["skus"][0]["sku_id"]
    goods = paid(url, shopper, {"items": [{"sku_id": mug, "quantity": 2}], "fulfillment": "pickup"})
    code = shopper.get(f"/orders/{goods}").json()["pickup"]["code"]
    site = Site(url, admin)
    assert site.scanner().post("/redemptions", {"code": code, "gate": "shop", "device_id": "till"}).status_code == 200
    phone.goto(f"{url}/shop/#/order/{goods}")
    phone.get_by_test_id("to-after-sale").click()
    line = phone.locator(f"[data-testid=after-sale-line][data-sku-id='{mug}']")
    line.get_by_test_id("after-sale-quantity").select_option("1")
    phone.locator("[data-testid=after-sale-type]", has_text="换货").tap()
    expect(line.get_by_test_id("after-sale-exchange")).to_be_visible()
    expect(line.get_by_test_id("after-sale-exchange").locator("option")).to_have_text(["小号"])
    line.scroll_into_view_if_needed()
    shot(phone, "shop-after-sale-exchange", full_page=False)
    phone.locator("[data-testid=after-sale-type]", has_text="退货退款").tap()
    phone.get_by_label("商品损坏").check()
    phone.locator("#after-sale-description").fill("杯口有裂纹")
    fits_a_phone(phone)
    phone.get_by_test_id("after-sale-line").scroll_into_view_if_needed()
    shot(phone, "shop-after-sale-form", full_page=False)
    phone.get_by_test_id("after-sale-submit").tap()
    phone.get_by_test_id("subscribe-cancel").tap()
    expect(phone.get_by_test_id("after-sale-result")).to_be_visible()
    expect(phone.locator("[data-testid=after-sale-item][data-status=REQUESTED]")).to_have_count(1)
    fits_a_phone(phone)
    look(phone, "shop-after-sale")
    (asked,) = shopper.get(f"/orders/{goods}/after-sales").json()["items"]
    assert (asked["type"], asked["lines"], asked["reason"]) == ("return_refund", [{"sku_id": mug, "quantity": 1}],
                                                                "damaged")
    assert asked["description"] == "杯口有裂纹"
