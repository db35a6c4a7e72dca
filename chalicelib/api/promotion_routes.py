from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain import identifiers
from ..domain.commands import parse_place_order
from ..domain.coupons import UserCouponStatus, parse_coupon, parse_coupon_changes, parse_grant
from ..domain.errors import InvalidInput
from ..domain.promotions import parse_promotion, parse_promotion_changes, parse_tiers
from ..service_layer import coupons, order_pricing, promotions
from . import promotion_views as shown
from .http import Call, Reply, endpoint
from .order_routes import idempotency_key
from .views import views

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/coupons")
def claimable_coupons(call: Call) -> dict[str, Any]:
    v = views()
    return {"items": [shown.coupon(v, c, left) for c, left in coupons.claimable_coupons(context())]}


@endpoint(bp, "POST", "/coupons/{coupon_id}/claim")
def claim_coupon(call: Call, coupon_id: str) -> Reply:
    ctx = context()
    claimed, _ = coupons.claim(ctx, call.actor, coupon_id, idempotency_key(call))
    return Reply(shown.user_coupon(views(), claimed, ctx.clock()), 201)


@endpoint(bp, "GET", "/me/coupons")
def my_coupons(call: Call) -> dict[str, Any]:
    status = call.query("status")
    if status is not None and status not in UserCouponStatus.__members__:
        raise InvalidInput(f"status must be one of {', '.join(UserCouponStatus.__members__)}", field="status")
    ctx = context()
    now, v = ctx.clock(), views()
    return {"items": [shown.user_coupon(v, c, now) for c in coupons.my_coupons(ctx, call.actor, status)]}


@endpoint(bp, "GET", "/me")
def me(call: Call) -> dict[str, Any]:
    return shown.membership(promotions.membership(context(), call.actor))


@endpoint(bp, "POST", "/orders/quote")
def quote(call: Call) -> dict[str, Any]:
    ctx = context()
    quoted = order_pricing.quote_order(ctx, call.actor, parse_place_order(call.body()))
    now, v = ctx.clock(), views()
    order = v.order(quoted.order)
    for name in ("order_id", "status", "history", "expires_at", "created_at"):
        order.pop(name, None)           # nothing is placed: no id, no status, no deadline
    return {**order, "applicable_coupons": [{**shown.user_coupon(v, c, now), "discount": amount}
                                            for c, amount in quoted.applicable]}


@endpoint(bp, "POST", "/admin/coupons")
def create_coupon(call: Call) -> Reply:
    ctx = context()
    coupon = parse_coupon(call.body(), identifiers.new_reference("CPN"), ctx.clock(), call.actor.name)
    created = coupons.create_coupon(ctx, call.actor, coupon)
    return Reply(shown.coupon_for_staff(views(), coupons.coupon_figures(ctx, created)), 201)


@endpoint(bp, "GET", "/admin/coupons")
def all_coupons(call: Call) -> dict[str, Any]:
    v = views()
    return {"items": [shown.coupon_for_staff(v, f) for f in coupons.all_coupons(context())]}


@endpoint(bp, "GET", "/admin/coupons/{coupon_id}")
def get_coupon(call: Call, coupon_id: str) -> dict[str, Any]:
    ctx = context()
    return shown.coupon_for_staff(views(), coupons.coupon_figures(ctx, coupons.coupon_of(ctx, coupon_id)))


@endpoint(bp, "PATCH", "/admin/coupons/{coupon_id}")
def change_coupon(call: Call, coupon_id: str) -> dict[str, Any]:
    ctx = context()
    changed = coupons.change_coupon(ctx, call.actor, coupon_id, parse_coupon_changes(call.body()))
    return shown.coupon_for_staff(views(), coupons.coupon_figures(ctx, changed))


@endpoint(bp, "POST", "/admin/coupons/{coupon_id}/grants")
def grant_coupon(call: Call, coupon_id: str) -> dict[str, Any]:
    ctx = context()
    granted, refused = coupons.grant(ctx, call.actor, coupon_id, parse_grant(call.body()))
    now, v = ctx.clock(), views()
    return {"granted": [{**shown.user_coupon(v, c, now), "user_id": c.user_id} for c in granted],
            "refused": [{"user_id": user_id, "code": code} for user_id, code in refused]}


@endpoint(bp, "POST", "/admin/promotions")
def create_promotion(call: Call) -> Reply:
    ctx = context()
    promotion = parse_promotion(call.body(), identifiers.new_reference("PRM"), call.actor.name)
    return Reply(shown.promotion(views(), promotions.create_promotion(ctx, call.actor, promotion), ctx.clock()), 201)


@endpoint(bp, "GET", "/admin/promotions")
def all_promotions(call: Call) -> dict[str, Any]:
    ctx = context()
    now, v = ctx.clock(), views()
    return {"items": [shown.promotion(v, p, now) for p in promotions.all_promotions(ctx)]}


@endpoint(bp, "PATCH", "/admin/promotions/{promotion_id}")
def change_promotion(call: Call, promotion_id: str) -> dict[str, Any]:
    parse_promotion_changes(call.body())
    ctx = context()
    return shown.promotion(views(), promotions.stop_promotion(ctx, call.actor, promotion_id), ctx.clock())


@endpoint(bp, "PUT", "/admin/member-tiers")
def set_member_tiers(call: Call) -> dict[str, Any]:
    return shown.tiers(promotions.set_member_tiers(context(), call.actor, parse_tiers(call.body())))


@endpoint(bp, "GET", "/admin/member-tiers")
def member_tiers(call: Call) -> dict[str, Any]:
    return shown.tiers(promotions.member_tiers(context()))
