"""Coupons, user coupons, full reductions and member tiers, as `adapters.coupon_repository` and
`adapters.promotion_repository` keep them: a template's change is conditional on it as read
(tag "coupon"); a user coupon's moves on its status and order (`user_coupon:<id>`), its lock
also on its owner and validity."""
from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from typing import Any

from chalicelib.domain.coupons import Coupon, UserCoupon, UserCouponStatus
from chalicelib.domain.promotions import Promotion, TierRule
from chalicelib.service_layer.tags import ItemTag, Tag

from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent

COUPONS, USER_COUPONS, PROMOTIONS = "coupons", "user-coupons", "promotions"
TIERS_ID = "member-tiers"


class FakeCoupons:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add(self, uow: FakeUnitOfWork, coupon: Coupon) -> None:
        stored = copy.deepcopy(coupon)
        uow.add(COUPONS, coupon.coupon_id, Tag.COUPON, absent, lambda _: stored)

    def change(self, uow: FakeUnitOfWork, before: Coupon, after: Coupon) -> None:
        def unchanged(item: Coupon | None) -> bool:
            return item is not None and (item.status, item.total, item.claim_until) == \
                (before.status, before.total, before.claim_until)

        def apply(item: Any) -> Coupon:
            return dataclasses.replace(item, status=after.status, total=after.total, claim_until=after.claim_until)
        uow.add(COUPONS, before.coupon_id, Tag.COUPON, unchanged, apply)

    def get(self, coupon_id: str, consistent: bool = True) -> Coupon | None:
        found = self.db.table(COUPONS).get(coupon_id)
        return copy.deepcopy(found) if found is not None else None

    def all(self) -> list[Coupon]:
        return sorted((copy.deepcopy(c) for c in self.db.table(COUPONS).values()),
                      key=lambda c: c.created_at or datetime.min, reverse=True)


class FakeUserCoupons:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add(self, uow: FakeUnitOfWork, coupon: UserCoupon) -> None:
        stored = copy.deepcopy(coupon)
        uow.add(USER_COUPONS, coupon.user_coupon_id, ItemTag.USER_COUPON.of(coupon.user_coupon_id), absent,
                lambda _: stored)

    def lock(self, uow: FakeUnitOfWork, coupon: UserCoupon, order_id: str, now: datetime) -> None:
        def usable(item: UserCoupon | None) -> bool:
            return item is not None and item.usable(coupon.user_id, now)
        uow.add(USER_COUPONS, coupon.user_coupon_id, ItemTag.USER_COUPON.of(coupon.user_coupon_id), usable,
                lambda item: dataclasses.replace(item, status=UserCouponStatus.LOCKED, order_id=order_id))

    def _move(self, uow: FakeUnitOfWork, user_coupon_id: str, order_id: str, source: UserCouponStatus,
              target: UserCouponStatus) -> None:
        def held(item: UserCoupon | None) -> bool:
            return item is not None and item.status is source and item.order_id == order_id

        def apply(item: Any) -> UserCoupon:
            return dataclasses.replace(item, status=target,
                                       order_id=None if target is UserCouponStatus.AVAILABLE else item.order_id)
        uow.add(USER_COUPONS, user_coupon_id, ItemTag.USER_COUPON.of(user_coupon_id), held, apply)

    def use(self, uow: FakeUnitOfWork, user_coupon_id: str, order_id: str) -> None:
        self._move(uow, user_coupon_id, order_id, UserCouponStatus.LOCKED, UserCouponStatus.USED)

    def release(self, uow: FakeUnitOfWork, user_coupon_id: str, order_id: str) -> None:
        self._move(uow, user_coupon_id, order_id, UserCouponStatus.LOCKED, UserCouponStatus.AVAILABLE)

    def give_back(self, uow: FakeUnitOfWork, user_coupon_id: str, order_id: str) -> None:
        self._move(uow, user_coupon_id, order_id, UserCouponStatus.USED, UserCouponStatus.AVAILABLE)

    def get(self, user_coupon_id: str) -> UserCoupon | None:
        found = self.db.table(USER_COUPONS).get(user_coupon_id)
        return copy.deepcopy(found) if found is not None else None

    def of_user(self, user_id: str, limit: int = 200) -> list[UserCoupon]:
        mine = [copy.deepcopy(c) for c in self.db.table(USER_COUPONS).values() if c.user_id == user_id]
        return sorted(mine, key=lambda c: c.claimed_at, reverse=True)[:limit]


class FakePromotions:
    """No cache: the fakes' promotions are always current (the adapter's staleness is its own)."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add(self, uow: FakeUnitOfWork, promotion: Promotion) -> None:
        uow.add(PROMOTIONS, promotion.promotion_id, Tag.PROMOTION, absent, lambda _: promotion)

    def stop(self, uow: FakeUnitOfWork, promotion_id: str) -> None:
        uow.add(PROMOTIONS, promotion_id, Tag.PROMOTION,
                lambda item: item is not None and item.status == "active",
                lambda item: dataclasses.replace(item, status="stopped"))

    def set_tiers(self, uow: FakeUnitOfWork, tiers: list[TierRule], at: datetime, by: str) -> None:
        kept = list(tiers)
        uow.add(PROMOTIONS, TIERS_ID, Tag.PROMOTION, lambda _: True, lambda _: kept)

    def forget(self) -> None:
        pass

    def get(self, promotion_id: str) -> Promotion | None:
        found = self.db.table(PROMOTIONS).get(promotion_id)
        return found if isinstance(found, Promotion) else None

    def all(self) -> list[Promotion]:
        return [p for p in self.db.table(PROMOTIONS).values() if isinstance(p, Promotion)]

    def tiers(self) -> list[TierRule]:
        return list(self.db.table(PROMOTIONS).get(TIERS_ID) or [])

    def pricing_rules(self) -> tuple[list[Promotion], list[TierRule]]:
        return self.all(), self.tiers()
