"""The staff console in Chromium: login, the dashboard a manager opens on, the pages each role
may use, products with a CSV import, refunds reviewed, reports with charts, on a laptop and a phone."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, Http, inventory_of, staff_login, ticket_product, wait_for

from .conftest import new_staff, shot


def open_console(page: Any, url: str, username: str, password: str) -> None:
    page.goto(url + "/console/")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("login-submit").click()


def menu(page: Any) -> list[str]:
    page.locator("nav a").first.wait_for()
    return [a.inner_text() for a in page.locator("nav a").all()]


def yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def test_a_wrong_password_is_told_and_nothing_opens(stack, page) -> None:  # type: ignore[no-untyped-def]
    open_console(page, stack["url"], "admin", "not-the-password")
    error = page.get_by_test_id("login-error")
    error.wait_for()
    assert "用户名或密码不正确" in error.inner_text()
    assert page.locator("nav").count() == 0
    shot(page, "console-1-login-error")


def test_the_dashboard_shows_today_against_yesterday_a_trend_and_work_waiting(  # type: ignore[no-untyped-def]
        stack, admin: Http, paid_tickets, page) -> None:
    customer, order_id, tickets = paid_tickets(3)
    customer.post(f"/orders/{order_id}/refunds", {"reason": "行程有变", "ticket_ids": [tickets[0]["ticket_id"]]})
    _, (sku,) = ticket_product(admin, [4], threshold=10)          # low stock: work waiting
    open_console(page, stack["url"], "admin", ADMIN_PASSWORD)
    gmv = page.get_by_test_id("today-gmv")
    gmv.wait_for()
    page.locator("[data-testid=sales-chart] canvas").wait_for()
    expected = admin.get("/admin/dashboard").json()
    assert re.fullmatch(r"¥[0-9,]+\.[0-9]{2}", gmv.inner_text())
    assert gmv.inner_text() == yuan(expected["today"]["gmv"])
    assert page.get_by_test_id("todo-refund-requests").inner_text() == str(expected["todo"]["refund_requests"])
    assert int(page.get_by_test_id("todo-low-stock").inner_text()) >= 1
    page.wait_for_timeout(900)                                    # the chart's entry animation
    shot(page, "console-2-dashboard")


def test_each_role_sees_only_its_pages(stack, admin: Http, browser) -> None:  # type: ignore[no-untyped-def]
    seen = {}
    for role in ("finance", "merchandiser", "support", "scanner", "auditor"):
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        open_console(page, stack["url"], *new_staff(admin, role))
        page.locator("main h1").wait_for()
        seen[role] = [a.inner_text() for a in page.locator("nav a").all()][:-1]   # the scanner link aside
        context.close()
    assert "报表" in seen["finance"] and "对账" in seen["finance"] and "商品" not in seen["finance"]
    assert "商品" in seen["merchandiser"] and "对账" not in seen["merchandiser"]
    assert "订单" in seen["support"] and "审计日志" not in seen["support"]
    assert "审计日志" in seen["auditor"] and "员工账号" not in seen["auditor"]
    assert "优惠券" in seen["merchandiser"] and "优惠券" in seen["support"] and "会员等级" in seen["auditor"]
    assert seen["scanner"] == ["库存", "预警"]
    assert all("员工账号" not in pages for pages in seen.values())


def test_products_are_created_and_imported_with_progress_and_line_errors(  # type: ignore[no-untyped-def]
        stack, admin: Http, page, tmp_path) -> None:
    open_console(page, stack["url"], *new_staff(admin, "merchandiser"))
    page.locator("nav a", has_text="商品").click()
    rows = ["product,kind,name,category,sku_name,price,stock"]
    rows += [f"p{n},merch,帆布袋{n},souvenir,标准款,{2500 + n},{10 + n}" for n in range(1, 240)]
    rows += ["bad,merch,缺价格,souvenir,标准款,,5"]
    csv_file = tmp_path / "goods.csv"
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(csv_file))
    page.get_by_role("button", name="开始导入").click()
    page.get_by_text(re.compile("导入完成")).wait_for(timeout=60000)
    assert "新建 239 个商品，1 行有误" in page.locator("main").inner_text()
    errors = page.get_by_test_id("import-errors").inner_text()
    assert "第 241 行" in errors, errors
    assert page.get_by_test_id("import-progress").locator("div").get_attribute("style").endswith("100%;")
    shot(page, "console-3-csv-import")


def test_a_refund_request_is_approved_with_the_goods_returned(  # type: ignore[no-untyped-def]
        stack, admin: Http, page) -> None:
    now_listed = {"kind": "merch", "name": "故宫文创 书签", "category": "souvenir", "status": "listed",
                  "fulfillment": ["pickup"], "skus": [{"name": "金色", "price": 3900, "stock": 20}]}
    product = admin.post("/admin/products", now_listed).json()
    token = requests.post(stack["url"] + "/auth/wechat/login", json={"code": "dev:refund-ui"}, timeout=30).json()["token"]
    customer = Http(stack["url"], token)
    order = customer.post("/orders", {"items": [{"sku_id": product["skus"][0]["sku_id"], "quantity": 2}],
                                      "contact": {"name": "观众", "phone": "13900139000"},
                                      "fulfillment": "pickup"}).json()
    requests.post(f"{stack['url']}/dev/payments/{order['order_id']}/succeed", json={}, timeout=30)
    refund = customer.post(f"/orders/{order['order_id']}/refunds", {"reason": "买重了"}).json()
    assert refund["status"] == "REQUESTED"
    open_console(page, stack["url"], *new_staff(admin, "finance"))
    page.locator("nav a", has_text="退款").click()
    row = page.locator("tr", has_text=refund["refund_id"])
    row.wait_for()
    shot(page, "console-4-refund-queue")
    row.get_by_role("button", name="批准").click()
    row.wait_for(state="detached")                              # the queue is read again without it
    decided = {r["refund_id"]: r["status"] for state in ("APPROVED", "PROCESSING", "SUCCEEDED")
               for r in admin.get(f"/admin/refunds?status={state}").json()["items"]}
    assert decided.get(refund["refund_id"]) in ("APPROVED", "PROCESSING", "SUCCEEDED")


def test_a_ticket_refund_after_admission_opened_says_why_and_its_offline_admission_is_alerted(  # type: ignore[no-untyped-def]
        stack, admin: Http, paid_tickets, page) -> None:
    """Finance sees why a ticket refund waits (admission has opened), approves it, and then sees
    the gate's offline admission from before the approval as a critical alert, in words."""
    customer, order_id, tickets = paid_tickets(1)
    # Let in by a gate offline just after the purchase (a scan before it is invalid_time), refunded later.
    let_in = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    refund = customer.post(f"/orders/{order_id}/refunds", {"reason": "临时有事"}).json()
    assert refund["status"] == "REQUESTED"
    open_console(page, stack["url"], *new_staff(admin, "finance"))
    page.locator("nav a", has_text="退款").click()
    row = page.locator("tr", has_text=refund["refund_id"])
    expect(row.get_by_test_id("review-reason")).to_contain_text("离线闸机")
    shot(page, "console-4b-refund-admission-open")
    row.get_by_role("button", name="批准").click()
    row.wait_for(state="detached")
    gate = staff_login(stack["url"], *new_staff(admin, "scanner"))
    (result,) = gate.post("/redemptions/batch", {"scans": [{"code": tickets[0]["qr"], "gate": "北门", "device_id": "ui",
                                                            "nonce": "ui-" + order_id, "scanned_at": let_in}]}).json()["results"]
    assert result["conflict"] == "admitted_then_refunded"
    assert wait_for(lambda: any(a["kind"] == "admitted_then_refunded" and a["details"]["ticket_id"] == tickets[0]["ticket_id"]
                                for a in admin.get("/admin/alerts?limit=200").json()["items"]), seconds=60)
    page.locator("nav a", has_text="预警").click()
    alert = page.locator("tr", has_text=tickets[0]["ticket_id"])
    expect(alert).to_contain_text("入园后退款")
    expect(alert).to_contain_text("北门")
    shot(page, "console-9-alert-admitted-then-refunded")


def test_reports_draw_charts_and_download_csv(stack, admin: Http, paid_tickets, page) -> None:  # type: ignore[no-untyped-def]
    _, _, tickets = paid_tickets(2)
    gate = staff_login(stack["url"], *new_staff(admin, "scanner"))
    assert gate.post("/redemptions", {"code": tickets[0]["code"], "gate": "东门", "device_id": "pda-1"}).status_code == 200
    assert wait_for(lambda: admin.get("/admin/reports/redemptions?group_by=gate").json()["rows"], seconds=30)
    open_console(page, stack["url"], *new_staff(admin, "finance"))
    page.locator("nav a", has_text="报表").click()
    page.locator("[data-testid=report-chart] canvas").wait_for()
    page.locator("[data-testid=admissions-chart] canvas").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").first.click()
    raw = open(download.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf") and "销售额(元)" in raw.decode("utf-8-sig")
    page.wait_for_timeout(900)
    shot(page, "console-5-reports")


def test_the_console_on_a_phone(stack, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    try:
        open_console(page, stack["url"], "admin", ADMIN_PASSWORD)
        page.get_by_test_id("today-gmv").wait_for()
        assert not page.locator("nav").is_visible()               # the menu folds away behind ☰
        page.locator(".menu-toggle").click()
        assert page.locator("nav").is_visible()
        page.locator(".menu-toggle").click()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the dashboard scrolls sideways on a phone ({width}px)"
        page.wait_for_timeout(900)
        shot(page, "console-6-phone")
    finally:
        context.close()


def test_a_merchandiser_splits_a_hot_sessions_stock_before_its_release(  # type: ignore[no-untyped-def]
        stack, admin: Http, page) -> None:
    _, (sku,) = ticket_product(admin, [1200])
    open_console(page, stack["url"], *new_staff(admin, "merchandiser"))
    page.locator("nav a", has_text="库存").click()
    row = page.locator("tr", has_text=sku)
    more = page.get_by_role("button", name="加载更多")
    page.locator("table tbody tr").first.wait_for()
    while not row.count() and more.is_visible():
        more.click()
        page.wait_for_timeout(300)
    row.get_by_placeholder("分片数").fill("8")
    row.get_by_role("button", name="分片").click()
    row.get_by_text("已分为 8 片，可售 1200").wait_for()
    assert row.locator("td").nth(6).inner_text() == "8"
    row.scroll_into_view_if_needed()
    shot(page, "console-8-inventory-split", full_page=False)
    found = inventory_of(admin, sku)
    assert (found["stock_shards"], found["available"]) == (8, 1200)
    row.get_by_placeholder("分片数").fill("4")
    row.get_by_role("button", name="分片").click()
    row.locator(".error", has_text="分片数只能增加").wait_for()


def test_every_page_of_the_menu_opens_for_an_admin(stack, page) -> None:  # type: ignore[no-untyped-def]
    """A module per page: each loads with the console, draws, and says nothing went wrong."""
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    open_console(page, stack["url"], "admin", ADMIN_PASSWORD)
    titles = menu(page)[:-1]                                    # the scanner link aside
    assert titles == ["概览", "商品", "库存", "场次", "订单", "退款", "售后", "优惠券", "满减", "会员等级", "消息通知", "预警", "报表", "对账", "审计日志",
                      "员工账号"]
    routes = [a.get_attribute("href") for a in page.locator("nav a").all()[:-1]]
    for route, title in zip(routes, titles):
        page.evaluate(f"location.hash = {route!r}")
        expect(page.locator("main h1")).to_have_text(title)
        page.locator("main > div > *").first.wait_for()            # the page drew something
        page.wait_for_timeout(500)
        assert not page.locator("main p.error").count(), (title, page.locator("main p.error").all_inner_texts())
    assert not failures, failures
    shot(page, "console-10-every-page-the-last-staff-accounts", full_page=False)


def test_a_console_on_a_computer_set_to_another_zone_shows_the_venues_time(stack, browser) -> None:  # type: ignore[no-untyped-def]
    """The zone is the server's (VENUE_TIMEZONE, read with the menu's document), not the computer's."""
    context = browser.new_context(locale="zh-CN", timezone_id="Europe/London")
    page = context.new_page()
    try:
        open_console(page, stack["url"], "admin", ADMIN_PASSWORD)
        page.get_by_test_id("today-gmv").wait_for()
        shown = page.evaluate("""async () => {
            const time = await import(new URL("assets/venue-time.js", location.href));
            return [time.venueZone(), time.localTime("2026-12-01T02:00:00Z"), time.venueInstant("2026-12-01T09:30")];
        }""")
        assert shown == ["Asia/Shanghai", "2026/12/1 10:00:00", "2026-12-01T01:30:00.000Z"]
    finally:
        context.close()
