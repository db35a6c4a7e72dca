"""An order's price: one pure function from its lines, the customer's member tier, the running
full-reduction (满减) promotions and one coupon (优惠券) to the priced order (API.md, Promotions).

The steps apply in API.md's order: the member discount (会员价), then each full reduction, then
the coupon, each on the lines in its scope, its threshold compared with what those lines cost
after the steps before it. Each step's amount is shared over its lines in proportion to what they
cost at that point, and a line's `paid` over its units, by largest remainder: every line and every
unit is exact fen, no share is negative or more than what it is a share of, and the shares sum
to the whole (property-tested in tests/unit/test_pricing.py).

Decided where API.md is silent:
- a percent discount (member or coupon) is rounded down to the fen: the customer never pays a
  fraction of a fen, the venue never gives one away;
- a scope's criteria all hold together (kinds AND product_ids AND categories; each absent one
  holds for every line), and an empty scope covers everything;
- full reductions apply in the order given (the caller's: by start, then id), each capped at
  what its lines still cost, so no step takes a line below zero;
- one coupon at most, after every promotion (what 满减 leaves is what the coupon's threshold sees).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .error_codes import ErrorCode
from .errors import RuleViolation


@dataclass(frozen=True)
class Scope:
    kinds: frozenset[str] = frozenset()
    product_ids: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()

    def covers(self, line: LineToPrice) -> bool:
        return ((not self.kinds or line.kind in self.kinds)
                and (not self.product_ids or line.product_id in self.product_ids)
                and (not self.categories or line.category in self.categories))


EVERYTHING = Scope()


@dataclass(frozen=True)
class LineToPrice:
    sku_id: str
    product_id: str
    kind: str
    category: str
    unit_price: int                  # fen
    quantity: int
    member_discount: bool = True     # a product may take no member discount


@dataclass(frozen=True)
class MemberTier:
    tier: int
    name: str
    percent_off: int                 # 0 to 99


@dataclass(frozen=True)
class FullReduction:
    promotion_id: str
    name: str
    tiers: tuple[tuple[int, int], ...]     # (threshold, amount) in fen
    scope: Scope = EVERYTHING


@dataclass(frozen=True)
class CouponTerms:
    """A user coupon's terms, as its template says."""
    user_coupon_id: str
    name: str
    kind: str                        # "cash" | "percent"
    threshold: int = 0
    amount: int = 0                  # cash, fen
    percent_off: int = 0             # percent, 1 to 99
    max_discount: int | None = None  # percent: the cap, fen
    scope: Scope = EVERYTHING
    coupon_id: str | None = None     # its template


@dataclass(frozen=True)
class Promotion:
    """One step of an order's price, and what it took off the order."""
    kind: str                        # "member" | "full_reduction" | "coupon"
    id: str                          # the tier, the promotion, the user coupon
    name: str
    amount: int
    coupon_id: str | None = None     # a coupon's template (what reports count it under)


@dataclass(frozen=True)
class PricedLine:
    sku_id: str
    unit_price: int
    quantity: int
    discount: int

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity

    @property
    def paid(self) -> int:
        return self.subtotal - self.discount

    def unit_paid(self) -> list[int]:
        """What each unit paid (what it refunds): `paid` over the units, the first ones a fen more."""
        return share(self.paid, [1] * self.quantity)


class PricedLines:
    """An order's price from its lines (each with `subtotal`, `discount` and `paid`): the priced
    order here, and the order as the shop keeps it (domain.model.Order)."""
    lines: Sequence[PricedLine] | Sequence[Any]

    @property
    def subtotal(self) -> int:
        """At list prices."""
        return sum(line.subtotal for line in self.lines)

    @property
    def discount(self) -> int:
        """What promotions took off."""
        return sum(line.discount for line in self.lines)

    @property
    def total(self) -> int:
        """What is to pay: the lines' `paid`."""
        return sum(line.paid for line in self.lines)


@dataclass(frozen=True)
class PricedOrder(PricedLines):
    lines: list[PricedLine]
    promotions: list[Promotion] = field(default_factory=list)


def share(amount: int, weights: Sequence[int]) -> list[int]:
    """`amount` over `weights` in proportion, by largest remainder (ties to the earlier weight):
    whole numbers summing to `amount`, none above its weight when `amount` is at most their sum."""
    total = sum(weights)
    if amount <= 0 or total <= 0:
        return [0] * len(weights)
    floors = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:amount - sum(floors)]:
        floors[i] += 1
    return floors


def _percent(amount: int, percent_off: int) -> int:
    return amount * percent_off // 100


def price(lines: Sequence[LineToPrice], tier: MemberTier | None = None,
          reductions: Iterable[FullReduction] = (), coupon: CouponTerms | None = None) -> PricedOrder:
    """The priced order. A coupon below its threshold or with nothing in scope is refused
    (COUPON_NOT_APPLICABLE); a promotion that does not reach a tier simply does not apply."""
    left = [line.unit_price * line.quantity for line in lines]
    applied: list[Promotion] = []

    def take(amount: int, chosen: list[int], promotion: Promotion) -> None:
        for i, part in zip(chosen, share(amount, [left[i] for i in chosen])):
            left[i] -= part
        applied.append(promotion)

    if tier is not None and tier.percent_off > 0:
        chosen = [i for i, line in enumerate(lines) if line.member_discount]
        amount = _percent(sum(left[i] for i in chosen), tier.percent_off)
        if amount > 0:
            take(amount, chosen, Promotion("member", str(tier.tier), tier.name, amount))
    for reduction in reductions:
        chosen = [i for i, line in enumerate(lines) if reduction.scope.covers(line)]
        base = sum(left[i] for i in chosen)
        reached = [amount for threshold, amount in reduction.tiers if base >= threshold and amount > 0]
        if reached:
            amount = min(max(reached), base)
            take(amount, chosen, Promotion("full_reduction", reduction.promotion_id, reduction.name, amount))
    if coupon is not None:
        chosen = [i for i, line in enumerate(lines) if coupon.scope.covers(line)]
        base = sum(left[i] for i in chosen)
        if not chosen or base < coupon.threshold or base == 0:
            raise RuleViolation("this coupon does not apply to this order", code=ErrorCode.COUPON_NOT_APPLICABLE,
                                threshold=coupon.threshold, in_scope=base)
        amount = coupon_amount(coupon, base)
        take(amount, chosen, Promotion("coupon", coupon.user_coupon_id, coupon.name, amount, coupon.coupon_id))
    return PricedOrder([PricedLine(line.sku_id, line.unit_price, line.quantity, line.unit_price * line.quantity - paid)
                        for line, paid in zip(lines, left)], applied)


def coupon_amount(coupon: CouponTerms, base: int) -> int:
    """What the coupon takes off `base` (the lines in its scope, after the steps before it)."""
    if coupon.kind == "cash":
        return min(coupon.amount, base)
    amount = _percent(base, coupon.percent_off)
    return amount if coupon.max_discount is None else min(amount, coupon.max_discount)
