"""Coupons (优惠券): a coupon is the template staff create (its terms, how many may be claimed and
by whom, when); a user coupon is one customer's claim of it, which pays for one order at most.

A user coupon is AVAILABLE, LOCKED by one unpaid order (in the transaction that places or
changes it), USED once that order is paid; AVAILABLE again when the order ends unpaid, drops it,
or is refunded in full while the coupon is returnable and still valid. EXPIRED is shown, never
stored: an AVAILABLE coupon past its `valid_until`.

The count of claims is a hot item on a grab (抢券): it lives in the stock ledger as a stock item
of its own (the coupon's id as its SKU id, `available` the claims left, `reserved` the claims
made), so that it takes the sharded path a popular session's stock takes (domain.stock_shards).
An unlimited coupon has no such item.

Decided where API.md is silent:
- `valid_days` runs from the claim to the end of the venue day `valid_days - 1` days later (a
  coupon claimed at 23:50 with 1 day is valid until midnight: staff and customers read "valid
  until the end of <day>", never a time of day);
- a stopped coupon cannot be claimed or granted; claimed ones stay usable until `valid_until`;
- a grant is a claim made by staff for the customer: counted against `total` and the limit.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from .error_codes import ErrorCode
from .errors import Conflict, InvalidInput, RuleViolation
from .pricing import EVERYTHING, CouponTerms, Scope
from .validation import Fields

COUPON_PREFIX = "CPN"
USER_COUPON_PREFIX = "UC"
MAX_GRANTS = 50                  # one grant request: each customer is one claim transaction
MAX_VALID_DAYS = 3660
MAX_SCOPE_ITEMS = 50


class CouponKind(str, Enum):
    CASH = "cash"
    PERCENT = "percent"


class CouponStatus(str, Enum):
    ACTIVE = "active"
    STOPPED = "stopped"


class UserCouponStatus(str, Enum):
    AVAILABLE = "AVAILABLE"
    LOCKED = "LOCKED"
    USED = "USED"
    EXPIRED = "EXPIRED"          # shown only


@dataclass(frozen=True)
class Validity:
    """Either a number of days from the claim, or fixed dates."""
    days: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def for_claim(self, claimed_at: datetime, zone: str) -> tuple[datetime, datetime]:
        if self.days is None:
            assert self.valid_from is not None and self.valid_until is not None
            return self.valid_from, self.valid_until
        local = claimed_at.astimezone(ZoneInfo(zone)).date() + timedelta(days=self.days)
        end = datetime.combine(local, time(0), ZoneInfo(zone))
        return claimed_at, end.astimezone(claimed_at.tzinfo)


@dataclass
class Coupon:
    coupon_id: str
    name: str
    kind: CouponKind
    threshold: int
    scope: Scope
    per_user_limit: int
    claim_from: datetime
    claim_until: datetime
    validity: Validity
    returnable: bool = True
    amount: int = 0
    percent_off: int = 0
    max_discount: int | None = None
    total: int | None = None     # None: unlimited
    status: CouponStatus = CouponStatus.ACTIVE
    created_at: datetime | None = None
    created_by: str = ""

    @property
    def limited(self) -> bool:
        return self.total is not None

    def claimable(self, now: datetime) -> bool:
        return self.status is CouponStatus.ACTIVE and self.claim_from <= now < self.claim_until

    def check_claimable(self, now: datetime) -> None:
        if not self.claimable(now):
            raise Conflict("this coupon cannot be claimed now", code=ErrorCode.NOT_CLAIMABLE,
                           coupon_id=self.coupon_id, status=self.status.value)

    def claim(self, user_coupon_id: str, user_id: str, now: datetime, zone: str, granted_by: str | None = None
              ) -> UserCoupon:
        valid_from, valid_until = self.validity.for_claim(now, zone)
        return UserCoupon(user_coupon_id=user_coupon_id, coupon_id=self.coupon_id, user_id=user_id, name=self.name,
                          status=UserCouponStatus.AVAILABLE, valid_from=valid_from, valid_until=valid_until,
                          claimed_at=now, kind=self.kind, threshold=self.threshold, amount=self.amount,
                          percent_off=self.percent_off, max_discount=self.max_discount, scope=self.scope,
                          returnable=self.returnable, granted_by=granted_by)


@dataclass
class UserCoupon:
    """A customer's coupon, with its template's terms copied at the claim: a later edit of the
    template does not change what was claimed."""
    user_coupon_id: str
    coupon_id: str
    user_id: str
    name: str
    status: UserCouponStatus
    valid_from: datetime
    valid_until: datetime
    claimed_at: datetime
    kind: CouponKind
    threshold: int
    scope: Scope = EVERYTHING
    amount: int = 0
    percent_off: int = 0
    max_discount: int | None = None
    returnable: bool = True
    order_id: str | None = None
    granted_by: str | None = None

    def shown_status(self, now: datetime) -> UserCouponStatus:
        if self.status is UserCouponStatus.AVAILABLE and now >= self.valid_until:
            return UserCouponStatus.EXPIRED
        return self.status

    def usable(self, user_id: str, now: datetime) -> bool:
        return (self.user_id == user_id and self.status is UserCouponStatus.AVAILABLE
                and self.valid_from <= now < self.valid_until)

    def check_usable(self, user_id: str, now: datetime) -> None:
        if not self.usable(user_id, now):
            raise coupon_unavailable(self.user_coupon_id)

    def returns_on_refund(self, now: datetime) -> bool:
        """A fully refunded order gives its coupon back only if it may be returned and is still valid."""
        return self.returnable and now < self.valid_until

    @property
    def terms(self) -> CouponTerms:
        return CouponTerms(user_coupon_id=self.user_coupon_id, name=self.name, kind=self.kind.value,
                           threshold=self.threshold, amount=self.amount, percent_off=self.percent_off,
                           max_discount=self.max_discount, scope=self.scope, coupon_id=self.coupon_id)


def coupon_unavailable(user_coupon_id: str) -> Conflict:
    return Conflict("this coupon cannot be used: it is used, held by another order, expired or not yours",
                    code=ErrorCode.COUPON_UNAVAILABLE, coupon_id=user_coupon_id)


def coupon_exhausted(coupon_id: str) -> Conflict:
    return Conflict("all of this coupon has been claimed", code=ErrorCode.COUPON_EXHAUSTED, coupon_id=coupon_id)


def coupon_limit_reached(coupon_id: str, limit: int) -> RuleViolation:
    return RuleViolation(f"at most {limit} of this coupon per customer", code=ErrorCode.COUPON_LIMIT_REACHED,
                         coupon_id=coupon_id, limit=limit)


# ------------------------------------------------------------------ reading staff's input

def parse_scope(f: Fields, name: str = "scope") -> Scope:
    scope = f.obj(name, required=False)
    if scope is None:
        return EVERYTHING
    scope.only({"kinds", "product_ids", "categories"})
    kinds = scope.strings("kinds", max_items=2, max_len=10)
    if any(k not in ("ticket", "merch") for k in kinds):
        raise InvalidInput("scope.kinds may hold ticket and merch", field=f"{name}.kinds")
    return Scope(kinds=frozenset(kinds),
                 product_ids=frozenset(scope.strings("product_ids", max_items=MAX_SCOPE_ITEMS, max_len=40)),
                 categories=frozenset(scope.strings("categories", max_items=MAX_SCOPE_ITEMS, max_len=50)))


def scope_as_dict(scope: Scope) -> dict[str, list[str]]:
    return {name: sorted(values) for name, values in
            (("kinds", scope.kinds), ("product_ids", scope.product_ids), ("categories", scope.categories)) if values}


def parse_coupon(data: object, coupon_id: str, now: datetime, actor: str) -> Coupon:
    f = Fields(data)
    f.only({"name", "kind", "amount", "percent_off", "max_discount", "threshold", "scope", "total",
            "per_user_limit", "claim_from", "claim_until", "valid_days", "valid_from", "valid_until", "returnable"})
    name = f.string("name", max_len=60)
    kind = CouponKind(f.choice("kind", ("cash", "percent")))

    def given(field: str) -> bool:          # null is "not given", as everywhere in a body
        return f.data.get(field) is not None
    amount = percent_off = 0
    max_discount = None
    if kind is CouponKind.CASH:
        if given("percent_off") or given("max_discount"):
            raise InvalidInput("a cash coupon takes amount, not percent_off or max_discount", field="percent_off")
        amount = f.integer("amount", minimum=1, maximum=10_000_000) or 0
    else:
        if given("amount"):
            raise InvalidInput("a percent coupon takes percent_off (and max_discount), not amount", field="amount")
        percent_off = f.integer("percent_off", minimum=1, maximum=99) or 0
        max_discount = f.integer("max_discount", minimum=1, maximum=10_000_000, required=False)
    threshold = f.integer("threshold", minimum=0, maximum=100_000_000)
    total = f.integer("total", minimum=1, maximum=10_000_000, required=False)
    per_user_limit = f.integer("per_user_limit", minimum=1, maximum=100, required=False) or 1
    claim_from, claim_until = f.instant("claim_from"), f.instant("claim_until")
    assert name and threshold is not None and claim_from and claim_until
    if claim_until <= claim_from:
        raise InvalidInput("claim_until must be after claim_from", field="claim_until")
    if given("valid_days") == (given("valid_from") or given("valid_until")):
        raise InvalidInput("give valid_days, or valid_from and valid_until", field="valid_days")
    if given("valid_days"):
        validity = Validity(days=f.integer("valid_days", minimum=1, maximum=MAX_VALID_DAYS))
    else:
        valid_from, valid_until = f.instant("valid_from"), f.instant("valid_until")
        assert valid_from and valid_until
        if valid_until <= valid_from or valid_until <= claim_from:
            raise InvalidInput("valid_until must be after valid_from and claim_from", field="valid_until")
        validity = Validity(valid_from=valid_from, valid_until=valid_until)
    if kind is CouponKind.CASH and threshold and amount > threshold:
        raise InvalidInput("a cash coupon's amount cannot exceed its threshold", field="amount")
    return Coupon(coupon_id=coupon_id, name=name, kind=kind, threshold=threshold, scope=parse_scope(f),
                  per_user_limit=per_user_limit, claim_from=claim_from, claim_until=claim_until, validity=validity,
                  returnable=f.boolean("returnable", default=True), amount=amount, percent_off=percent_off,
                  max_discount=max_discount, total=total, created_at=now, created_by=actor)


@dataclass(frozen=True)
class CouponChanges:
    stop: bool = False
    total: int | None = None
    claim_until: datetime | None = None


def parse_coupon_changes(data: object) -> CouponChanges:
    f = Fields(data)
    f.only({"status", "total", "claim_until"})
    status = f.choice("status", ("stopped",), required=False)
    changes = CouponChanges(stop=status == "stopped",
                            total=f.integer("total", minimum=1, maximum=10_000_000, required=False),
                            claim_until=f.instant("claim_until", required=False))
    if changes == CouponChanges():
        raise InvalidInput("nothing to change: status, total or claim_until", field="body")
    return changes


def changed(coupon: Coupon, changes: CouponChanges) -> Coupon:
    """The coupon after staff's changes. The total may only grow (claims already made stand) and
    an unlimited coupon stays unlimited."""
    if changes.total is not None:
        if coupon.total is None:
            raise Conflict("this coupon is unlimited; it has no total to raise", code=ErrorCode.INVALID_CHANGE,
                           field="total")
        if changes.total < coupon.total:
            raise Conflict("a coupon's total may only grow: claims made stand", code=ErrorCode.INVALID_CHANGE,
                           field="total", total=coupon.total)
    return replace(coupon, status=CouponStatus.STOPPED if changes.stop else coupon.status,
                   total=changes.total if changes.total is not None else coupon.total,
                   claim_until=changes.claim_until or coupon.claim_until)


@dataclass(frozen=True)
class Grant:
    user_ids: list[str] = field(default_factory=list)
    reason: str = ""


def parse_grant(data: object) -> Grant:
    f = Fields(data)
    f.only({"user_ids", "reason"})
    user_ids = f.strings("user_ids", max_items=MAX_GRANTS, max_len=40, required=True)
    if not user_ids:
        raise InvalidInput("user_ids must name at least one customer", field="user_ids")
    if len(set(user_ids)) != len(user_ids):
        raise InvalidInput("user_ids must not repeat a customer", field="user_ids")
    reason = f.string("reason", max_len=200)
    return Grant(user_ids=user_ids, reason=reason or "")


def best_first(coupons: list[tuple[UserCoupon, int]]) -> list[tuple[UserCoupon, int]]:
    """Applicable coupons, the one taking the most off first, then the one expiring soonest."""
    return sorted(coupons, key=lambda c: (-c[1], c[0].valid_until, c[0].user_coupon_id))
