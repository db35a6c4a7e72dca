"""Coupons in DynamoDB: templates (`coupons`, a few, written by staff) and user coupons
(`user-coupons`, one per claim; streamed, so that the back office counts issued and used coupons
from their changes). How many of a limited coupon are left is not here: it is a stock item in
the stock ledger (see domain.coupons)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..domain.coupons import (Coupon, CouponKind, CouponStatus, UserCoupon, UserCouponStatus, Validity,
                              scope_as_dict)
from ..domain.pricing import Scope
from ..service_layer.tags import ItemTag, Tag
from .dynamo import get_or_none, plain, read_time, stored_time, table_meta
from .unit_of_work import UnitOfWork

LISTED = "coupon"          # the listing index's one key: staff write a few templates, never a claim


class CouponListing(GlobalSecondaryIndex["CouponRecord"]):
    class Meta:
        index_name = "coupon-listing-index"
        projection = AllProjection()
    listing = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class CouponRecord(Model):
    Meta = table_meta("coupons")
    coupon_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    amount = NumberAttribute(default=0)
    percent_off = NumberAttribute(default=0)
    max_discount = NumberAttribute(null=True)
    threshold = NumberAttribute(default=0)
    scope = MapAttribute(default=dict)
    total = NumberAttribute(null=True)
    per_user_limit = NumberAttribute(default=1)
    claim_from = UnicodeAttribute()
    claim_until = UnicodeAttribute()
    valid_days = NumberAttribute(null=True)
    valid_from = UnicodeAttribute(null=True)
    valid_until = UnicodeAttribute(null=True)
    returnable = BooleanAttribute(default=True)
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute(default="")
    listing = UnicodeAttribute(default=LISTED)
    listing_index = CouponListing()


class UserIndex(GlobalSecondaryIndex["UserCouponRecord"]):
    """A customer's coupons, newest claim first."""
    class Meta:
        index_name = "user-index"
        projection = AllProjection()
    user_id = UnicodeAttribute(hash_key=True)
    claimed_at = UnicodeAttribute(range_key=True)


class UserCouponRecord(Model):
    Meta = table_meta("user-coupons", streamed=True)
    user_coupon_id = UnicodeAttribute(hash_key=True)
    coupon_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute()
    valid_from = UnicodeAttribute()
    valid_until = UnicodeAttribute()
    claimed_at = UnicodeAttribute()
    kind = UnicodeAttribute()
    threshold = NumberAttribute(default=0)
    amount = NumberAttribute(default=0)
    percent_off = NumberAttribute(default=0)
    max_discount = NumberAttribute(null=True)
    scope = MapAttribute(default=dict)
    returnable = BooleanAttribute(default=True)
    order_id = UnicodeAttribute(null=True)
    granted_by = UnicodeAttribute(null=True)
    user_index = UserIndex()


def scope_from(stored: Any) -> Scope:
    data = plain(stored or {})
    return Scope(kinds=frozenset(data.get("kinds") or []), product_ids=frozenset(data.get("product_ids") or []),
                 categories=frozenset(data.get("categories") or []))


def _optional(value: Any) -> int | None:
    return int(value) if value is not None else None


def coupon_from(r: CouponRecord) -> Coupon:
    validity = (Validity(days=int(r.valid_days)) if r.valid_days is not None
                else Validity(valid_from=read_time(r.valid_from), valid_until=read_time(r.valid_until)))
    return Coupon(coupon_id=r.coupon_id, name=r.name, kind=CouponKind(r.kind), threshold=int(r.threshold),
                  scope=scope_from(r.scope), per_user_limit=int(r.per_user_limit),
                  claim_from=read_time(r.claim_from), claim_until=read_time(r.claim_until),  # type: ignore[arg-type]
                  validity=validity, returnable=bool(r.returnable), amount=int(r.amount or 0),
                  percent_off=int(r.percent_off or 0), max_discount=_optional(r.max_discount),
                  total=_optional(r.total), status=CouponStatus(r.status), created_at=read_time(r.created_at),
                  created_by=r.created_by or "")


def user_coupon_from(r: UserCouponRecord) -> UserCoupon:
    return UserCoupon(user_coupon_id=r.user_coupon_id, coupon_id=r.coupon_id, user_id=r.user_id, name=r.name,
                      status=UserCouponStatus(r.status), valid_from=read_time(r.valid_from),  # type: ignore[arg-type]
                      valid_until=read_time(r.valid_until), claimed_at=read_time(r.claimed_at),  # type: ignore[arg-type]
                      kind=CouponKind(r.kind), threshold=int(r.threshold), scope=scope_from(r.scope),
                      amount=int(r.amount or 0), percent_off=int(r.percent_off or 0),
                      max_discount=_optional(r.max_discount), returnable=bool(r.returnable), order_id=r.order_id,
                      granted_by=r.granted_by)


class CouponRepository:
    def add(self, uow: UnitOfWork, coupon: Coupon) -> None:
        uow.put(CouponRecord(
            coupon_id=coupon.coupon_id, name=coupon.name, kind=coupon.kind.value, amount=coupon.amount,
            percent_off=coupon.percent_off, max_discount=coupon.max_discount, threshold=coupon.threshold,
            scope=scope_as_dict(coupon.scope), total=coupon.total, per_user_limit=coupon.per_user_limit,
            claim_from=stored_time(coupon.claim_from), claim_until=stored_time(coupon.claim_until),
            valid_days=coupon.validity.days, valid_from=stored_time(coupon.validity.valid_from),
            valid_until=stored_time(coupon.validity.valid_until), returnable=coupon.returnable,
            status=coupon.status.value, created_at=stored_time(coupon.created_at), created_by=coupon.created_by),
            condition=CouponRecord.coupon_id.does_not_exist(), tag=Tag.COUPON)

    def change(self, uow: UnitOfWork, before: Coupon, after: Coupon) -> None:
        """Status, total and claim window, conditional on them being as read: two editors, or a
        stop and a raise at once, never overwrite each other."""
        condition = (CouponRecord.status == before.status.value) & \
            (CouponRecord.claim_until == stored_time(before.claim_until))
        condition &= (CouponRecord.total == before.total) if before.total is not None \
            else CouponRecord.total.does_not_exist()
        actions = [CouponRecord.status.set(after.status.value),
                   CouponRecord.claim_until.set(stored_time(after.claim_until))]
        if after.total is not None:
            actions.append(CouponRecord.total.set(after.total))
        uow.update(CouponRecord(coupon_id=before.coupon_id), actions, condition=condition, tag=Tag.COUPON)

    def get(self, coupon_id: str, consistent: bool = True) -> Coupon | None:
        """`consistent=False` for a claim: on a grab every claim reads the template, and an
        eventual read costs half and is served by any replica (a stop reaches it within a second)."""
        try:
            return coupon_from(CouponRecord.get(coupon_id, consistent_read=consistent))
        except CouponRecord.DoesNotExist:
            return None

    def all(self) -> list[Coupon]:
        """Every coupon, newest first (a venue runs tens of them, not thousands)."""
        return [coupon_from(r) for r in CouponRecord.listing_index.query(LISTED, scan_index_forward=False)]


class UserCouponRepository:
    def add(self, uow: UnitOfWork, coupon: UserCoupon) -> None:
        uow.put(UserCouponRecord(
            user_coupon_id=coupon.user_coupon_id, coupon_id=coupon.coupon_id, user_id=coupon.user_id,
            name=coupon.name, status=coupon.status.value, valid_from=stored_time(coupon.valid_from),
            valid_until=stored_time(coupon.valid_until), claimed_at=stored_time(coupon.claimed_at),
            kind=coupon.kind.value, threshold=coupon.threshold, amount=coupon.amount, percent_off=coupon.percent_off,
            max_discount=coupon.max_discount, scope=scope_as_dict(coupon.scope), returnable=coupon.returnable,
            granted_by=coupon.granted_by),
            condition=UserCouponRecord.user_coupon_id.does_not_exist(), tag=ItemTag.USER_COUPON.of(coupon.user_coupon_id))

    def lock(self, uow: UnitOfWork, coupon: UserCoupon, order_id: str, now: datetime) -> None:
        """AVAILABLE -> LOCKED by one order: the condition is the whole rule (the customer's,
        available, within its validity), so two orders placed at once cannot both hold it."""
        r = UserCouponRecord
        uow.update(r(user_coupon_id=coupon.user_coupon_id),
                   [r.status.set(UserCouponStatus.LOCKED.value), r.order_id.set(order_id)],
                   condition=(r.status == UserCouponStatus.AVAILABLE.value) & (r.user_id == coupon.user_id)
                   & (r.valid_from <= stored_time(now)) & (r.valid_until > stored_time(now)),
                   tag=ItemTag.USER_COUPON.of(coupon.user_coupon_id))

    def _move(self, uow: UnitOfWork, user_coupon_id: str, order_id: str, source: UserCouponStatus,
              target: UserCouponStatus) -> None:
        r = UserCouponRecord
        actions = [r.status.set(target.value)]
        if target is UserCouponStatus.AVAILABLE:
            actions.append(r.order_id.remove())
        uow.update(r(user_coupon_id=user_coupon_id), actions,
                   condition=(r.status == source.value) & (r.order_id == order_id),
                   tag=ItemTag.USER_COUPON.of(user_coupon_id))

    def use(self, uow: UnitOfWork, user_coupon_id: str, order_id: str) -> None:
        self._move(uow, user_coupon_id, order_id, UserCouponStatus.LOCKED, UserCouponStatus.USED)

    def release(self, uow: UnitOfWork, user_coupon_id: str, order_id: str) -> None:
        self._move(uow, user_coupon_id, order_id, UserCouponStatus.LOCKED, UserCouponStatus.AVAILABLE)

    def give_back(self, uow: UnitOfWork, user_coupon_id: str, order_id: str) -> None:
        self._move(uow, user_coupon_id, order_id, UserCouponStatus.USED, UserCouponStatus.AVAILABLE)

    def get(self, user_coupon_id: str) -> UserCoupon | None:
        record = get_or_none(UserCouponRecord, user_coupon_id)
        return user_coupon_from(record) if record else None

    def of_user(self, user_id: str, limit: int = 200) -> list[UserCoupon]:
        return [user_coupon_from(r) for r in
                UserCouponRecord.user_index.query(user_id, scan_index_forward=False, limit=limit)]
