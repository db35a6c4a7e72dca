"""Pricing an order built from the catalog (the member discount, the running full reductions
and one coupon), and quoting one: what placing it would answer, nothing reserved or locked."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ..domain import identifiers
from ..domain.commands import PlaceOrder
from ..domain.coupons import UserCoupon, best_first, coupon_unavailable
from ..domain.error_codes import ErrorCode
from ..domain.errors import NotFound, RuleViolation
from ..domain.model import Order, Product
from ..domain.ordering import build_order
from ..domain.pricing import LineToPrice, PricedOrder, price
from ..domain.promotions import running_reductions, spend_within, tier_for
from . import ports
from .context import Actor
from .promotions import Promoting, venue_day


class Pricing(Promoting, Protocol):
    @property
    def placement(self) -> ports.PlacementRead: ...
    @property
    def user_coupons(self) -> ports.UserCouponStore: ...
    @property
    def payment_timeout(self) -> timedelta: ...


def price_order(ctx: Promoting, order: Order, products: dict[str, Product], spend_counters: dict[str, int],
                coupon: UserCoupon | None, now: datetime) -> PricedOrder:
    """The order's lines priced with the customer's tier, the full reductions running now and the
    coupon (as read: its lock in the order's transaction decides whether it is still theirs).
    Promotions and tiers come from the cache (ports.PromotionStore.pricing_rules)."""
    if coupon is not None:
        coupon.check_usable(order.user_id, now)
    promotions, tiers = ctx.promotions.pricing_rules()
    tier = tier_for(spend_within(spend_counters, venue_day(ctx, now)), tiers) if tiers else None
    lines = [LineToPrice(sku_id=line.sku_id, product_id=line.product_id, kind=line.kind.value,
                         category=line.category, unit_price=line.unit_price, quantity=line.quantity,
                         member_discount=products[line.product_id].member_discount) for line in order.lines]
    return price(lines, tier.member_tier if tier else None, running_reductions(promotions, now),
                 coupon.terms if coupon is not None else None)


def apply_price(order: Order, priced: PricedOrder, coupon: UserCoupon | None) -> None:
    """The order takes its price: each line's discount, the steps that made it, the coupon it holds."""
    order.lines = [dataclasses.replace(line, discount=p.discount) for line, p in zip(order.lines, priced.lines)]
    order.promotions = list(priced.promotions)
    order.coupon_id = coupon.user_coupon_id if coupon is not None else None


def wants_spend(ctx: Promoting) -> bool:
    """Whether an order needs the customer's spend read: only when tiers are set."""
    return bool(ctx.promotions.pricing_rules()[1])


def product_ids_of(command: PlaceOrder) -> list[str]:
    """The products the order's SKUs belong to (a SKU's id names its product); a SKU id that
    names none does not exist."""
    for line in command.lines:
        if identifiers.product_id_of(line.sku_id) is None:
            raise NotFound(f"SKU {line.sku_id} does not exist", code=ErrorCode.SKU_NOT_FOUND, sku_id=line.sku_id)
    return sorted({identifiers.product_id_of(line.sku_id) or "" for line in command.lines})


def priced(ctx: Pricing, command: PlaceOrder, user_id: str, snapshot: ports.PlacementSnapshot, now: datetime
            ) -> tuple[Order, UserCoupon | None]:
    """The order built from the catalog as read and priced: every rule checked before anything
    is written (the transaction re-checks stock, limits and the coupon)."""
    order = build_order(order_id=identifiers.new_order_id(now), user_id=user_id, command=command,
                        skus=snapshot.skus, products=snapshot.products, purchased=snapshot.purchased,
                        now=now, payment_timeout=ctx.payment_timeout)
    coupon = None
    if command.coupon_id is not None:
        coupon = snapshot.user_coupon
        if coupon is None:
            raise coupon_unavailable(command.coupon_id)
    apply_price(order, price_order(ctx, order, snapshot.products, snapshot.spend_counters, coupon, now), coupon)
    return order, coupon


@dataclass(frozen=True)
class Quote:
    order: Order
    applicable: list[tuple[UserCoupon, int]]       # the customer's usable coupons and what each takes off


def quote_order(ctx: Pricing, actor: Actor, command: PlaceOrder) -> Quote:
    """The priced order as placing it would answer, nothing reserved or locked; and the
    customer's coupons that apply to it, the one taking the most off first."""
    snapshot = ctx.placement.snapshot([l.sku_id for l in command.lines], product_ids_of(command), actor.name, None,
                                      command.coupon_id, wants_spend(ctx))
    now = ctx.clock()
    order, _ = priced(ctx, command, actor.name, snapshot, now)
    bare = dataclasses.replace(command, coupon_id=None)
    plain_order, _ = priced(ctx, bare, actor.name, snapshot, now)
    applicable = []
    for candidate in ctx.user_coupons.of_user(actor.name):
        if not candidate.usable(actor.name, now):
            continue
        try:
            with_coupon = price_order(ctx, plain_order, snapshot.products, snapshot.spend_counters, candidate, now)
        except RuleViolation:
            continue                      # below its threshold, or nothing in its scope
        applicable.append((candidate, with_coupon.promotions[-1].amount))
    return Quote(order, best_first(applicable))
