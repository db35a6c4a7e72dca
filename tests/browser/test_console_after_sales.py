"""The console's 售后 page in Chromium: goods collected at the shop are asked back by their customer
(a return with refund and an exchange, over HTTP), and a support agent works them through the queue's
state tabs: approves, receives with restock, and hands the exchange over with a new pickup code.
Screenshots of the queue, a detail and the report are written to build/screenshots/."""
from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Http, Site, wait_for

from .conftest import new_staff, shot
from .test_console_pages import open_console


def goods_collected(stack: dict[str, str], admin: Http) -> tuple[Http, str, list[str]]:
    """A customer bought 2 mugs of one spec for pickup, paid, and collected them at the shop."""
    body = {"kind": "merch", "name": "馆藏青花瓷马克杯 " + uuid.uuid4().hex[:4], "category": "souvenir", "status": "listed",
            "fulfillment": ["pickup"],
            "skus": [{"name": name, "price": 6800, "stock": 10, "attributes": {"size": name}} for name in ("大号", "小号")]}
    r = admin.post("/admin/products", body)
    assert r.status_code == 201, r.text
    skus = [s["sku_id"] for s in r.json()["skus"]]
    site = Site(stack["url"], admin)
    (customer,) = site.customers(1)
    r = customer.post("/orders", {"items": [{"sku_id": skus[0], "quantity": 2}], "fulfillment": "pickup",
                                  "contact": {"name": "王小明", "phone": "13800138000"}})
    assert r.status_code == 201, r.text
    order_id = r.json()["order_id"]
    assert site.pay(order_id).status_code == 200
    code = customer.get(f"/orders/{order_id}").json()["pickup"]["code"]
    r = site.scanner().post("/redemptions", {"code": code, "gate": "shop", "device_id": "till"})
    assert r.status_code == 200, r.text
    return customer, order_id, skus


def row(page: Any, after_sale_id: str) -> Any:
    return page.locator(f"[data-testid=after-sale-row][data-after-sale-id='{after_sale_id}']")


def tab(page: Any, status: str) -> None:
    page.get_by_test_id(f"after-sale-tab-{status}").click()
    expect(page.locator(f"[data-testid=after-sale-tab-{status}].current")).to_have_count(1)
    page.locator("[data-testid=after-sale-row], table.after-sales td.muted").first.wait_for()


def detail(page: Any, after_sale_id: str) -> Any:
    row(page, after_sale_id).get_by_test_id("after-sale-open").click()
    card = row(page, after_sale_id).locator("xpath=following-sibling::tr[1]")
    card.get_by_test_id("after-sale-detail-card").wait_for()
    return card


def step(page: Any, after_sale_id: str, button: str) -> None:
    """Clicks a step in the detail and waits for the list it refreshes to say so."""
    detail_row = row(page, after_sale_id).locator("xpath=following-sibling::tr[1]")
    detail_row.get_by_test_id(button).click()
    expect(page.get_by_test_id("after-sale-flash")).to_contain_text(after_sale_id)


def test_support_works_a_return_and_an_exchange_through_the_queue(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    customer, order_id, (mug, small) = goods_collected(stack, admin)
    r = customer.post(f"/orders/{order_id}/after-sales", {
        "type": "return_refund", "lines": [{"sku_id": mug, "quantity": 1}], "reason": "damaged",
        "description": "收到时杯口有裂纹，包装盒也压坏了"})
    assert r.status_code == 201, r.text
    returned = r.json()["after_sale_id"]
    r = customer.post(f"/orders/{order_id}/after-sales", {
        "type": "exchange", "lines": [{"sku_id": mug, "quantity": 1}], "reason": "size", "exchange_sku_id": small})
    assert r.status_code == 201, r.text
    exchanged = r.json()["after_sale_id"]

    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    open_console(page, stack["url"], *new_staff(admin, "support"))
    page.locator("nav a", has_text="售后").click()
    expect(page.locator("main h1")).to_have_text("售后")
    row(page, returned).wait_for()
    row(page, exchanged).wait_for()
    expect(row(page, returned).get_by_test_id("after-sale-status")).to_have_text("待处理")
    expect(row(page, returned)).to_contain_text("退货退款")
    expect(row(page, returned)).to_contain_text("商品损坏")
    expect(row(page, returned).get_by_test_id("after-sale-what")).to_contain_text("馆藏青花瓷马克杯")
    expect(row(page, returned).get_by_test_id("after-sale-what")).to_contain_text("大号 × 1")
    expect(row(page, exchanged)).to_contain_text("尺码/规格不合适")
    shot(page, "console-after-sales-1-queue")

    # The type filter keeps to exchanges.
    page.get_by_test_id("after-sale-type").select_option("exchange")
    row(page, exchanged).wait_for()
    expect(row(page, returned)).to_have_count(0)
    page.get_by_test_id("after-sale-type").select_option("")
    row(page, returned).wait_for()

    card = detail(page, returned)
    expect(card).to_contain_text("收到时杯口有裂纹")
    expect(card).to_contain_text("馆藏青花瓷马克杯")                  # the names, read from the order
    expect(card.get_by_test_id("after-sale-history")).to_contain_text("顾客")
    expect(row(page, exchanged).get_by_test_id("after-sale-what")).to_contain_text("大号 × 1")
    expect(card.get_by_test_id("after-sale-history")).to_have_count(1)
    expect(card.get_by_test_id("after-sale-approve")).to_be_visible()
    expect(card.get_by_test_id("after-sale-reject")).to_be_visible()
    expect(card.get_by_test_id("after-sale-receive")).to_have_count(0)
    shot(page, "console-after-sales-2-detail")
    step(page, returned, "after-sale-approve")
    expect(row(page, returned)).to_have_count(0)                   # out of 待处理 ...
    tab(page, "APPROVED")
    expect(row(page, returned).get_by_test_id("after-sale-status")).to_have_text("已同意")   # ... into 已同意

    r = customer.post(f"/orders/{order_id}/after-sales/{returned}/return", {"carrier": "顺丰速运", "tracking_no": "SF1234567890"})
    assert r.status_code == 200, r.text
    tab(page, "RETURNING")
    card = detail(page, returned)
    expect(card).to_contain_text("顺丰速运 SF1234567890")
    card.get_by_test_id("after-sale-restock").check()
    card.get_by_test_id("after-sale-receive-note").fill("外包装破损，杯子完好")
    shot(page, "console-after-sales-3-receive")
    step(page, returned, "after-sale-receive")
    expect(row(page, returned)).to_have_count(0)

    tab(page, "REQUESTED")
    detail(page, exchanged)
    step(page, exchanged, "after-sale-approve")
    tab(page, "APPROVED")
    card = detail(page, exchanged)
    expect(card).to_contain_text("换成规格")
    expect(card).to_contain_text("小号")
    step(page, exchanged, "after-sale-receive")                  # brought to the counter
    tab(page, "RECEIVED")
    card = detail(page, exchanged)
    expect(card.get_by_test_id("after-sale-ship-pickup")).to_be_visible()
    step(page, exchanged, "after-sale-ship-pickup")
    expect(page.get_by_test_id("after-sale-flash")).to_contain_text("提货码")
    expect(row(page, exchanged)).to_have_count(0)

    def states() -> dict[str, dict[str, Any]]:
        items = admin.get(f"/orders/{order_id}/after-sales").json()["items"]
        return {a["after_sale_id"]: a for a in items}
    final = wait_for(lambda: (s := states())[returned]["status"] == "COMPLETED" and s)
    assert final[returned]["restocked"] is True and final[returned]["receive_note"] == "外包装破损，杯子完好"
    assert final[returned]["amount"] == 6800 and final[returned]["refund_id"]
    assert final[exchanged]["status"] == "COMPLETED" and final[exchanged]["shipment"]["pickup_code"]
    assert final[exchanged]["restocked"] is False

    tab(page, "COMPLETED")
    row(page, exchanged).wait_for()
    row(page, returned).wait_for()
    card = detail(page, exchanged)
    expect(card).to_contain_text("到店自提，提货码 " + final[exchanged]["shipment"]["pickup_code"])
    expect(card.get_by_test_id("after-sale-history")).to_have_count(4)
    expect(card.get_by_test_id("after-sale-approve")).to_have_count(0)
    expect(card).to_contain_text("小号")
    expect(card.get_by_test_id("after-sale-history").first).to_contain_text("顾客")
    card = detail(page, returned)
    expect(card).to_contain_text("微信支付")                          # the refund settled
    expect(card).to_contain_text("¥68.00")
    expect(row(page, returned).get_by_test_id("after-sale-what")).to_contain_text("馆藏青花瓷马克杯")
    shot(page, "console-after-sales-4-completed")

    page.get_by_test_id("after-sale-tab-report").click()
    report = page.get_by_test_id("after-sales-report")
    expect(report.locator("[data-testid=after-sales-report-unavailable], [data-testid=after-sales-report-totals]")
           ).to_have_count(1)
    assert not page.locator("main p.error").count(), page.locator("main p.error").all_inner_texts()
    page.wait_for_timeout(600)
    shot(page, "console-after-sales-5-report")
    assert not failures, failures


def test_finance_reads_the_queue_and_takes_no_step(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    customer, order_id, (mug, _) = goods_collected(stack, admin)
    asked = customer.post(f"/orders/{order_id}/after-sales", {
        "type": "return_refund", "lines": [{"sku_id": mug, "quantity": 2}], "reason": "no_longer_needed"}).json()
    open_console(page, stack["url"], *new_staff(admin, "finance"))
    page.locator("nav a", has_text="售后").click()
    card = detail(page, asked["after_sale_id"])
    expect(card).to_contain_text("（未填写）")
    expect(card.get_by_test_id("after-sale-no-step")).to_contain_text("只能查看")
    expect(card.locator("button")).to_have_count(0)


def test_the_report_draws_totals_and_a_chart_by_reason(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    """The report's endpoint is built elsewhere: here the browser is handed one in its shape (API.md
    "Back office"), and the access table naming it, to see the page draw it."""
    import json
    answer = {"from": "2026-11-05", "to": "2026-12-04",
              "totals": {"requests": 12, "returns": 7, "exchanges": 5, "refund_rate": 0.0425, "hours_to_resolve": 26.25},
              "rows": [{"key": "damaged", "label": "damaged", "requests": 5, "returns": 4, "exchanges": 1, "refunded": 27200},
                       {"key": "size", "label": "size", "requests": 4, "returns": 1, "exchanges": 3, "refunded": 6800},
                       {"key": "no_longer_needed", "label": "no_longer_needed", "requests": 3, "returns": 2,
                        "exchanges": 1, "refunded": 13600}]}

    def openapi(route: Any) -> None:
        doc = route.fetch().json()
        doc["paths"].setdefault("/admin/reports/after-sales", {"get": {"x-roles": ["finance", "support", "admin", "auditor"]}})
        route.fulfill(json=doc)
    page.route("**/openapi.json", openapi)
    page.route("**/admin/reports/after-sales?*", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(answer)))
    open_console(page, stack["url"], *new_staff(admin, "finance"))
    page.locator("nav a", has_text="售后").click()
    page.get_by_test_id("after-sale-tab-report").click()
    expect(page.get_by_test_id("after-sales-total-requests")).to_have_text("12")
    expect(page.get_by_test_id("after-sales-total-refund-rate")).to_have_text("4.3%")
    expect(page.get_by_test_id("after-sales-total-hours")).to_have_text("26.3 小时")
    expect(page.get_by_test_id("after-sales-report-row").first).to_contain_text("商品损坏")
    expect(page.get_by_test_id("after-sales-report-row").first).to_contain_text("¥272.00")
    page.locator("[data-testid=after-sales-report-chart] canvas").wait_for()
    page.wait_for_timeout(700)                                   # the chart's entry animation
    shot(page, "console-after-sales-6-report-drawn")
