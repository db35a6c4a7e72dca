"""Promotions in the console (issue 22, point 6): a coupon created through the console's form is
claimable by a customer, counted, raised, granted and stopped; a full reduction (满减) set in the
console and the coupon price a customer's order, whose detail shows each discount; member tiers
are edited; each role sees what the API lets it do."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, Http, Site, wait_for

from .conftest import goto, new_staff, open_order, shot
from .test_console_pages import open_console, yuan


def user_id(customer: Http) -> str:
    return str(customer.get("/me").json()["user_id"])


def merch(admin: Http) -> str:
    """A souvenir sold for pickup at ¥100: its SKU."""
    body = {"kind": "merch", "name": "文创 保温杯 " + uuid.uuid4().hex[:4], "category": "souvenir", "status": "listed",
            "fulfillment": ["pickup"], "skus": [{"name": "标准款", "price": 10000, "stock": 20}]}
    r = admin.post("/admin/products", body)
    assert r.status_code == 201, r.text
    return str(r.json()["skus"][0]["sku_id"])


def buy(customer: Http, base: str, sku: str, quantity: int, coupon_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"items": [{"sku_id": sku, "quantity": quantity}], "contact": {"name": "观众", "phone": "13900139000"},
                            "fulfillment": "pickup"}
    if coupon_id:
        body["coupon_id"] = coupon_id
    r = customer.post("/orders", body)
    assert r.status_code == 201, r.text
    assert requests.post(f"{base}/dev/payments/{r.json()['order_id']}/succeed", json={}, timeout=60).status_code == 200
    return dict(r.json())


def test_a_coupon_created_in_the_console_is_claimable_priced_and_stopped(stack, admin: Http, page) -> None:  # type: ignore[no-untyped-def]
    base = stack["url"]
    site = Site(base, admin)
    page.on("dialog", lambda dialog: dialog.accept())          # 停止 asks first
    tiers_before = admin.get("/admin/member-tiers").json()
    try:
        open_console(page, base, "admin", ADMIN_PASSWORD)
        goto(page, "优惠券")
        page.get_by_test_id("new-coupon").click()
        name = "开馆纪念券 " + uuid.uuid4().hex[:4]
        page.get_by_test_id("coupon-name").fill(name)
        page.get_by_test_id("coupon-threshold").fill("100")
        page.get_by_test_id("coupon-amount").fill("20")
        page.get_by_test_id("coupon-total").fill("50")
        page.get_by_test_id("coupon-valid-days").fill("7")
        shot(page, "console-11-coupon-form", full_page=False)
        page.get_by_role("button", name="创建优惠券").click()
        page.get_by_text(f"已创建 {name}").wait_for()
        row = page.get_by_test_id("coupon-row").filter(has_text=name)
        coupon_id = row.get_attribute("data-coupon-id")
        expect(row).to_contain_text("满¥100减¥20")
        expect(row.get_by_test_id("coupon-status")).to_have_text("领取中")

        # A customer finds it among the coupons to claim, as the console set it, and claims it.
        alice, bob = site.customers(2)
        listed = {c["coupon_id"]: c for c in alice.get("/coupons").json()["items"]}
        assert coupon_id in listed, listed
        c = listed[coupon_id]
        assert (c["kind"], c["amount"], c["threshold"], c["remaining"], c["valid_days"], c["per_user_limit"]) == \
            ("cash", 2000, 10000, 50, 7, 1), c
        claim = alice.post(f"/coupons/{coupon_id}/claim", {})
        assert claim.status_code == 201 and claim.json()["status"] == "AVAILABLE", claim.text
        mine = claim.json()["user_coupon_id"]

        # The total is raised, and a goodwill grant says who got one and, in Chinese, why not the others.
        detail = page.get_by_test_id("coupon-detail")
        row.get_by_role("button", name="管理").click()
        expect(detail.get_by_test_id("coupon-facts")).to_contain_text("领取后 7 天")
        detail.get_by_test_id("coupon-add").fill("10")
        detail.get_by_role("button", name="追加总量").click()
        expect(detail).to_contain_text("总量 60 张")
        assert admin.get(f"/admin/coupons/{coupon_id}").json()["total"] == 60
        detail.get_by_test_id("grant-users").fill(f"{user_id(alice)}\n{user_id(bob)}\nUnobody")
        detail.get_by_test_id("grant-reason").fill("排队太久补偿")
        detail.get_by_role("button", name="补发", exact=True).click()
        outcome = detail.get_by_test_id("grant-outcome")
        expect(outcome).to_contain_text(f"已发放 1 人：{user_id(bob)}")
        expect(outcome).to_contain_text(f"未发放 {user_id(alice)}：已达每人限领张数")
        expect(outcome).to_contain_text("未发放 Unobody：用户不存在")
        detail.scroll_into_view_if_needed()
        shot(page, "console-11b-coupon-grants", full_page=False)
        # 已发放 follows the user coupons' stream a moment behind: once it has both, the list shows 2.
        assert wait_for(lambda: admin.get(f"/admin/coupons/{coupon_id}").json()["issued"] == 2)
        page.reload()
        expect(page.get_by_test_id("coupon-row").filter(has_text=name).locator("td").nth(6)).to_have_text("2")

        # 满减 on souvenirs and member tiers, set in the console.
        big = merch(admin)
        goto(page, "满减")
        reduction = "文创满减 " + uuid.uuid4().hex[:4]
        form = page.get_by_test_id("promotion-form")
        form.get_by_test_id("promotion-name").fill(reduction)
        form.get_by_test_id("scope-ticket").uncheck()
        form.get_by_test_id("tier-threshold-1").fill("150")
        form.get_by_test_id("tier-amount-1").fill("15")
        form.get_by_role("button", name="添加一档").click()
        form.get_by_test_id("tier-threshold-2").fill("300")
        form.get_by_test_id("tier-amount-2").fill("40")
        form.get_by_role("button", name="创建满减").click()
        form.get_by_text(f"已创建 {reduction}（满¥150减¥15，满¥300减¥40）").wait_for()
        promotion_row = page.get_by_test_id("promotion-row").filter(has_text=reduction)
        expect(promotion_row.get_by_test_id("promotion-status")).to_have_text("进行中")
        expect(promotion_row).to_contain_text("文创")
        shot(page, "console-12-full-reductions")

        goto(page, "会员等级")
        editor = page.get_by_test_id("tier-editor")
        editor.get_by_role("button", name="添加等级").click()
        for row, (tier, spend, discount) in zip(editor.get_by_test_id("tier-edit-row").all(),
                                                [("金卡", "5000", "9"), ("银卡", "1000", "9.5")]):
            row.locator("input[name=name]").fill(tier)
            row.locator("input[name=minSpend]").fill(spend)
            row.locator("input[name=discount]").fill(discount)
        editor.get_by_role("button", name="保存会员等级").click()
        editor.get_by_text("已保存 2 个等级").wait_for()
        expect(page.get_by_test_id("tier-row")).to_have_text(["V1银卡¥1,000.009.5折（减 5%）", "V2金卡¥5,000.009折（减 10%）"])
        assert admin.get("/admin/member-tiers").json()["tiers"] == [
            {"tier": 1, "name": "银卡", "min_spend": 100000, "percent_off": 5},
            {"tier": 2, "name": "金卡", "min_spend": 500000, "percent_off": 10}]
        shot(page, "console-13-member-tiers", full_page=False)

        # Alice (no spend yet: no member price) pays for two cups with her coupon: the 满减, then the coupon.
        cart = {"items": [{"sku_id": big, "quantity": 2}], "contact": {"name": "观众", "phone": "13900139000"},
                "fulfillment": "pickup", "coupon_id": mine}
        # Promotions are read as they were up to 30 seconds ago.
        assert wait_for(lambda: len(alice.post("/orders/quote", cart).json().get("promotions", [])) == 2, seconds=60)
        placed = buy(alice, base, big, 2, coupon_id=mine)
        assert (placed["subtotal"], placed["discount"], placed["total"]) == (20000, 3500, 16500), placed
        open_order(page, placed["order_id"])
        price = page.get_by_test_id("order-price")
        expect(price.get_by_test_id("order-subtotal")).to_contain_text(yuan(20000))
        expect(price.get_by_test_id("order-promotion")).to_have_text([
            f"满减：{reduction}-{yuan(1500)}", f"优惠券：{name}-{yuan(2000)}"])
        expect(price.get_by_test_id("order-discount")).to_contain_text("-" + yuan(3500))
        expect(price.get_by_test_id("order-total")).to_contain_text(yuan(16500))
        expect(page.get_by_test_id("line-paid")).to_have_text([yuan(16500)])
        price.scroll_into_view_if_needed()
        shot(page, "console-14-order-with-discounts", full_page=False)

        # The coupons page counts the use and draws it; stopped, the coupon is no longer offered.
        assert wait_for(lambda: admin.get(f"/admin/coupons/{coupon_id}").json()["used"] == 1)
        goto(page, "优惠券")
        page.reload()
        page.locator("[data-testid=coupon-chart] canvas").wait_for()
        row = page.get_by_test_id("coupon-row").filter(has_text=name)
        expect(row.get_by_test_id("coupon-rate")).to_have_text("50.0%")               # 1 used of 2 issued
        page.wait_for_timeout(900)                                                   # the chart's entry animation
        shot(page, "console-15-coupons")
        row.get_by_role("button", name="管理").click()
        page.get_by_test_id("coupon-detail").get_by_role("button", name="停止发放").click()
        expect(page.get_by_test_id("coupon-detail").get_by_test_id("coupon-status")).to_have_text("已停止")
        expect(row.get_by_test_id("coupon-status")).to_have_text("已停止")
        assert coupon_id not in {c["coupon_id"] for c in bob.get("/coupons").json()["items"]}
        (carol,) = site.customers(1)
        refused = carol.post(f"/coupons/{coupon_id}/claim", {})
        assert refused.status_code == 409 and refused.json()["code"] == "NOT_CLAIMABLE"

        goto(page, "满减")
        promotion_row = page.get_by_test_id("promotion-row").filter(has_text=reduction)
        promotion_row.get_by_role("button", name="停止").click()
        expect(promotion_row.get_by_test_id("promotion-status")).to_have_text("已停止")
        stopped = [p for p in admin.get("/admin/promotions").json()["items"] if p["name"] == reduction]
        assert [p["status"] for p in stopped] == ["stopped"]
    finally:
        admin.session.put(base + "/admin/member-tiers", json=tiers_before,                   # as other tests found them
                          headers={"Authorization": f"Bearer {admin.token}"}, timeout=60)


def test_each_role_sees_on_the_promotion_pages_what_it_may_do(stack, admin: Http, browser) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(timezone.utc)
    coupon = admin.post("/admin/coupons", {"name": "角色检查券", "kind": "percent", "percent_off": 20, "max_discount": 5000,
                                           "threshold": 20000, "claim_from": (now - timedelta(hours=1)).isoformat(),
                                           "claim_until": (now + timedelta(days=7)).isoformat(), "valid_days": 3})
    assert coupon.status_code == 201, coupon.text
    seen: dict[str, dict[str, Any]] = {}
    for role in ("merchandiser", "support", "finance", "auditor"):
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
        page = context.new_page()
        try:
            open_console(page, stack["url"], *new_staff(admin, role))
            goto(page, "优惠券")
            row = page.get_by_test_id("coupon-row").filter(has_text="角色检查券")
            expect(row).to_contain_text("满¥200享8折，最高减¥50")
            row.get_by_role("button", name="管理").click()
            detail = page.get_by_test_id("coupon-detail")
            detail.wait_for()
            seen[role] = {"create": page.get_by_test_id("new-coupon").count(),
                          "stop": detail.get_by_role("button", name="停止发放").count(),
                          "grant": detail.get_by_test_id("grant-users").count()}
            goto(page, "会员等级")
            page.get_by_test_id("tier-list").wait_for()
            seen[role]["tiers"] = page.get_by_test_id("tier-editor").count()
            goto(page, "满减")
            page.get_by_test_id("promotion-list").wait_for()
            seen[role]["reduce"] = page.get_by_test_id("promotion-form").count()
            if role == "support":
                shot(page, "console-16-full-reductions-read-only", full_page=False)
        finally:
            context.close()
    assert seen["merchandiser"] == {"create": 1, "stop": 1, "grant": 0, "tiers": 0, "reduce": 1}
    assert seen["support"] == {"create": 0, "stop": 0, "grant": 1, "tiers": 0, "reduce": 0}
    assert seen["finance"] == seen["auditor"] == {"create": 0, "stop": 0, "grant": 0, "tiers": 0, "reduce": 0}
