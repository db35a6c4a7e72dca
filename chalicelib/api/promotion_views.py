"""JSON shapes of API.md's Promotions: coupons, user coupons, full reductions, member tiers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.coupons import Coupon, CouponKind, UserCoupon, scope_as_dict
from ..domain.promotions import Promotion, TierRule
from ..service_layer.coupons import CouponFigures
from ..service_layer.promotions import Membership
from .views import Views


def _what_it_takes(c: Coupon | UserCoupon) -> dict[str, int]:
    """A cash coupon's amount, or a percent coupon's percent and its cap."""
    if c.kind is CouponKind.CASH:
        return {"amount": c.amount}
    return {"percent_off": c.percent_off, **({"max_discount": c.max_discount} if c.max_discount is not None else {})}


def coupon(shown: Views, c: Coupon, remaining: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"coupon_id": c.coupon_id, "name": c.name, "kind": c.kind.value,
                            "threshold": c.threshold, "scope": scope_as_dict(c.scope),
                            "claim_until": shown.time(c.claim_until), "per_user_limit": c.per_user_limit}
    data.update(_what_it_takes(c))
    if remaining is not None:
        data["remaining"] = remaining
    if c.validity.days is not None:
        data["valid_days"] = c.validity.days
    else:
        data["valid_from"], data["valid_until"] = shown.time(c.validity.valid_from), shown.time(c.validity.valid_until)
    return data


def coupon_for_staff(shown: Views, figures: CouponFigures) -> dict[str, Any]:
    c = figures.coupon
    counts = figures.counts
    return {**coupon(shown, c, figures.remaining), "status": c.status.value, "total": c.total,
            "claim_from": shown.time(c.claim_from), "returnable": c.returnable, "created_by": c.created_by,
            "created_at": shown.time(c.created_at), "issued": figures.issued, "available": counts["AVAILABLE"],
            "locked": counts["LOCKED"], "used": counts["USED"], "expired": counts["EXPIRED"],
            "redemption_rate": round(counts["USED"] / figures.issued, 4) if figures.issued else 0}


def user_coupon(shown: Views, c: UserCoupon, now: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {"user_coupon_id": c.user_coupon_id, "coupon_id": c.coupon_id, "name": c.name,
                            "status": c.shown_status(now).value, "kind": c.kind.value, "threshold": c.threshold,
                            "scope": scope_as_dict(c.scope), "valid_from": shown.time(c.valid_from),
                            "valid_until": shown.time(c.valid_until)}
    data.update(_what_it_takes(c))
    if c.order_id:
        data["order_id"] = c.order_id
    return data


def promotion(shown: Views, p: Promotion, now: datetime) -> dict[str, Any]:
    return {"promotion_id": p.promotion_id, "name": p.name, "kind": "full_reduction",
            "tiers": [{"threshold": t, "amount": a} for t, a in p.tiers], "scope": scope_as_dict(p.scope),
            "starts_at": shown.time(p.starts_at), "ends_at": shown.time(p.ends_at), "status": p.status,
            "running": p.running(now)}


def tiers(rules: list[TierRule]) -> dict[str, Any]:
    return {"tiers": [{"tier": t.tier, "name": t.name, "min_spend": t.min_spend, "percent_off": t.percent_off}
                      for t in rules]}


def membership(m: Membership) -> dict[str, Any]:
    return {"user_id": m.user_id, "tier": m.tier.tier, "tier_name": m.tier.name,
            "percent_off": m.tier.percent_off, "spend": m.spend}
