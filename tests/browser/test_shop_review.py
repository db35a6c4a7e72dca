"""Review of the shop on a phone: the price next to 提交订单 is only ever one the API quoted for the
form as it is now. A quote that fails after the visitor changed something leaves no earlier figure
standing as 实付."""
from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Http

from .test_shop_goods import museum_goods
from .test_shop_purchase import sign_in


def test_a_failed_quote_leaves_no_stale_total(stack: dict[str, str], admin: Http, phone: Any) -> None:
    url = stack["url"]
    product_id, _, skus = museum_goods(admin)
    sign_in(phone, url, "review-" + uuid.uuid4().hex[:10])
    phone.goto(f"{url}/shop/#/checkout?product={product_id}&sku={skus['大号']}&qty=1")
    phone.get_by_test_id("contact-name").fill("张三")
    phone.get_by_test_id("contact-phone").fill("13900139000")
    expect(phone.get_by_test_id("quote-hint")).to_have_text("")
    expect(phone.get_by_test_id("order-total")).to_have_text("¥98.00")       # quoted

    phone.route("**/orders/quote", lambda route: route.abort())           # the network drops
    phone.get_by_test_id("fulfillment-shipping").check()
    for field, value in (("recipient", "张三"), ("phone", "13900139000"), ("region", "北京市 东城区"),
                         ("detail", "景山前街 4 号")):
        phone.get_by_test_id("address-" + field).fill(value)
    expect(phone.get_by_test_id("quote-hint")).to_have_text("网络不可用，请检查网络后重试")
    expect(phone.get_by_test_id("order-total")).to_have_text("—")          # not the figure quoted for pickup
