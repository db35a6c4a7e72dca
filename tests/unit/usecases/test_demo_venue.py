"""The demo venue `make run` seeds: Chinese names, sessions over the coming days, goods with specs,
and a welcome coupon a new visitor can claim and use on a ticket."""
from __future__ import annotations

import re
from datetime import datetime

from chalicelib.domain.model import Kind, Visitor
from chalicelib.service_layer import catalog, coupons
from chalicelib.service_layer.context import Context
from local import seed
from tests.unit.usecases.shop import customer, place
from tests.unit.usecases.test_ticket_changes import resident_id

_CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_demo_venue_speaks_chinese_and_sells_over_the_coming_days(ctx: Context) -> None:
    assert seed.seed(ctx) == 5
    listed, _ = catalog.catalog_page(ctx, 50, None, None, None, None)
    assert len(listed) == 5
    for product, skus in listed:
        assert _CJK.search(product.name) and _CJK.search(product.description), product.name
        assert all(_CJK.search(s.name) for s in skus), product.name
    tickets = [skus for p, skus in listed if p.kind is Kind.TICKET]
    days = {s.session.start.date() for skus in tickets for s in skus if s.session}
    assert len(days) >= 3
    goods = [skus for p, skus in listed if p.kind is Kind.MERCH]
    assert any(len(skus) > 1 and all(s.attributes for s in skus) for skus in goods)   # specs to choose


def test_a_new_visitor_claims_the_welcome_coupon_and_it_takes_ten_yuan_off_a_ticket(ctx: Context) -> None:
    seed.seed(ctx)
    (welcome, _), = coupons.claimable_coupons(ctx)
    assert welcome.name == "新客立减 10 元" and welcome.threshold == 5000
    visitor = customer(ctx, "xiaoming")
    mine, _ = coupons.claim(ctx, visitor, welcome.coupon_id)
    listed, _ = catalog.catalog_page(ctx, 50, None, "ticket", None, None)
    museum = next(skus for p, skus in listed if p.real_name)
    adult = next(s for s in museum if s.name.startswith("成人票") and s.session and s.session.start > datetime.now(
        s.session.start.tzinfo))
    placed = place(ctx, visitor, (adult.sku_id, 1), coupon_id=mine.user_coupon_id,
                   visitors=[Visitor("王小明", "id_card", resident_id(1))])
    assert placed.order.total == adult.price - 1000
