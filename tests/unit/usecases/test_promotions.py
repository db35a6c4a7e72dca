"""Coupons and promotions on the fakes: claims against a total and a limit (also on the sharded
path), a user coupon held by one order whatever a rival does, the coupon's moves with its order."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.coupons import Coupon, UserCouponStatus
from chalicelib.domain.errors import Conflict, RuleViolation, Saturated
from chalicelib.domain.model import OrderStatus
from chalicelib.domain.promotions import parse_promotion, parse_tiers
from chalicelib.service_layer import coupons, inventory, orders, promotions
from chalicelib.service_layer.context import Context
from tests.fakes import FakeDatabase, db

from .shop import ADMIN, customer, new_coupon, order_of, pay, place, stock_of, ticket_product


def issued(ctx: Context, coupon: Coupon) -> int:
    """User coupons of it in the store (staff's counts follow them through the stream)."""
    return sum(1 for c in db(ctx).table("user-coupons").values() if c.coupon_id == coupon.coupon_id)


def status(ctx: Context, user_coupon_id: str) -> UserCouponStatus:
    found = ctx.user_coupons.get(user_coupon_id)
    assert found is not None
    return found.status


def test_a_claim_takes_one_of_the_total_and_one_of_the_customers_limit(ctx: Context) -> None:
    coupon = new_coupon(ctx, total=2, per_user_limit=1)
    alice, bob, carol = (customer(ctx, n) for n in ("alice", "bob", "carol"))
    coupons.claim(ctx, alice, coupon.coupon_id)
    with pytest.raises(RuleViolation) as limit:
        coupons.claim(ctx, alice, coupon.coupon_id)
    assert limit.value.code == "COUPON_LIMIT_REACHED"
    coupons.claim(ctx, bob, coupon.coupon_id)
    with pytest.raises(Conflict) as gone:
        coupons.claim(ctx, carol, coupon.coupon_id)
    assert gone.value.code == "COUPON_EXHAUSTED"
    assert (issued(ctx, coupon), coupons.coupon_figures(ctx, coupon).remaining) == (2, 0)
    assert ctx.stock.inventory_page(50, None, False).items == []          # not in staff's stock list


def test_a_claim_the_read_allowed_is_refused_whole_when_a_rival_took_the_last(ctx: Context,
                                                                               database: FakeDatabase) -> None:
    coupon = new_coupon(ctx, total=1)
    alice, bob = customer(ctx, "alice"), customer(ctx, "bob")
    database.before_commit(lambda: coupons.claim(ctx, bob, coupon.coupon_id),
                           when=lambda tags: any(t.startswith("user_coupon:") for t in tags))
    with pytest.raises(Conflict) as gone:
        coupons.claim(ctx, alice, coupon.coupon_id)
    assert gone.value.code == "COUPON_EXHAUSTED"
    assert coupons.my_coupons(ctx, alice, None) == [] and len(coupons.my_coupons(ctx, bob, None)) == 1


def test_a_sharded_coupon_is_claimed_to_the_last_one_across_its_shards(ctx: Context) -> None:
    coupon = new_coupon(ctx, total=12)
    inventory.split_stock(ctx, ADMIN, coupon.coupon_id, 4)
    for n in range(12):
        coupons.claim(ctx, customer(ctx, f"c{n}"), coupon.coupon_id)
    with pytest.raises(Conflict):
        coupons.claim(ctx, customer(ctx, "late"), coupon.coupon_id)
    assert issued(ctx, coupon) == 12


def test_a_hot_coupon_asks_to_be_split_and_tells_the_customer_to_come_back(ctx: Context,
                                                                             database: FakeDatabase) -> None:
    coupon = new_coupon(ctx, total=100)
    database.throttle("sku:" + coupon.coupon_id)
    with pytest.raises(Saturated):
        coupons.claim(ctx, customer(ctx), coupon.coupon_id)
    assert ctx.messages.hot == [coupon.coupon_id]  # type: ignore[attr-defined]
    assert issued(ctx, coupon) == 0


def test_raising_the_total_while_claims_land_loses_none_of_them(ctx: Context, database: FakeDatabase) -> None:
    coupon = new_coupon(ctx, total=2)
    database.before_commit(lambda: coupons.claim(ctx, customer(ctx, "rival"), coupon.coupon_id),
                           when=lambda tags: "coupon" in tags)
    from chalicelib.domain.coupons import CouponChanges
    coupons.change_coupon(ctx, ADMIN, coupon.coupon_id, CouponChanges(total=5))
    figures = coupons.coupon_figures(ctx, coupons.coupon_of(ctx, coupon.coupon_id))
    assert (issued(ctx, coupon), figures.remaining, figures.coupon.total) == (1, 4, 5)


def test_one_user_coupon_holds_one_order_and_moves_with_it(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 10, price=3000)
    alice = customer(ctx)
    mine = coupons.claim(ctx, alice, new_coupon(ctx).coupon_id)[0].user_coupon_id
    # A rival order takes the coupon between this order's read and its write.
    database.before_commit(lambda: place(ctx, alice, (sku.sku_id, 1), coupon_id=mine),
                           when=lambda tags: "order" in tags)
    with pytest.raises(Conflict) as taken:
        place(ctx, alice, (sku.sku_id, 2), coupon_id=mine)
    assert taken.value.code == "COUPON_UNAVAILABLE"
    assert stock_of(ctx, sku.sku_id)[0] == 9                      # the loser reserved nothing
    holder = [o for o in orders.my_orders(ctx, alice, 10, None).items if o.coupon_id == mine]
    assert len(holder) == 1 and status(ctx, mine) is UserCouponStatus.LOCKED
    orders.cancel_order(ctx, alice, holder[0].order_id)
    assert status(ctx, mine) is UserCouponStatus.AVAILABLE
    placed = place(ctx, alice, (sku.sku_id, 2), coupon_id=mine).order
    assert (placed.subtotal, placed.discount, placed.total) == (6000, 1000, 5000)
    assert pay(ctx, placed) == "paid" and status(ctx, mine) is UserCouponStatus.USED


def test_a_zero_total_order_is_paid_at_once_without_a_trade(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 10, price=500)
    alice = customer(ctx)
    mine = coupons.claim(ctx, alice, new_coupon(ctx).coupon_id)[0].user_coupon_id
    placed = place(ctx, alice, (sku.sku_id, 2), coupon_id=mine)
    assert placed.payment is None and placed.order.status is OrderStatus.PAID and placed.order.total == 0
    assert order_of(ctx, placed.order.order_id).tickets_issued == 2
    assert ctx.wechat_pay.trades == {}  # type: ignore[attr-defined]
    assert ctx.payment_ledger.paid_on(ctx.clock().date()) == []


def test_member_tier_and_full_reduction_price_the_order_from_the_stores(ctx: Context) -> None:
    now = ctx.clock()
    promotions.set_member_tiers(ctx, ADMIN, parse_tiers({"tiers": [{"tier": 1, "name": "银卡", "min_spend": 1,
                                                                     "percent_off": 10}]}))
    promotions.create_promotion(ctx, ADMIN, parse_promotion(
        {"name": "满50减5", "kind": "full_reduction", "tiers": [{"threshold": 5000, "amount": 500}],
         "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat()},
        "PRM0000000000000001", "boss"))
    _, (sku,) = ticket_product(ctx, 10, price=3000)
    # Nobody has spent anything yet: tier 0, so only the full reduction.
    placed = place(ctx, customer(ctx), (sku.sku_id, 2)).order
    assert [(p.kind, p.amount) for p in placed.promotions] == [("full_reduction", 500)]
    promotions.stop_promotion(ctx, ADMIN, "PRM0000000000000001")
    assert place(ctx, customer(ctx, "bob"), (sku.sku_id, 2)).order.discount == 0
