"""Coupons: staff create, change and grant them; customers list, claim and hold them.

A claim is one transaction: a unit of the coupon's claims left (a stock item in the stock
ledger, sharded like a hot session's when it is grabbed: the same path, reservations and all),
the customer's count of it (a purchase counter under the per-customer limit), and the user
coupon; refused whole. An unlimited coupon has no stock item: its claim is the count and the
user coupon."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

from ..domain import identifiers
from ..domain.coupons import (Coupon, CouponChanges, CouponStatus, Grant, UserCoupon, changed, coupon_exhausted,
                              coupon_limit_reached)
from ..domain.error_codes import ErrorCode
from ..domain.errors import Busy, Conflict, DomainError, NotFound, RuleViolation, Saturated
from ..domain.coupon_figures import coupon_bucket, coupon_counts
from ..domain.model import Sku
from ..domain.stock_shards import Shares, shards_for_stock
from . import inventory, ports
from .context import Actor
from .publishing import Publishing, announce_hot_stock
from .reservations import plan_sharded, stock_refused
from .retrying import attempts
from .tags import ItemTag, Tag
from .writes import commit

log = logging.getLogger("micromall.coupons")
CLAIM_ATTEMPTS = 4
CHANGE_ATTEMPTS = 5


class Couponing(inventory.HotStockSplitting, Publishing, Protocol):
    @property
    def coupons(self) -> ports.CouponStore: ...
    @property
    def user_coupons(self) -> ports.UserCouponStore: ...
    @property
    def counters(self) -> ports.PurchaseCounterStore: ...
    @property
    def idempotency(self) -> ports.IdempotencyReplies: ...
    @property
    def placement(self) -> ports.PlacementRead: ...
    @property
    def aggregates(self) -> ports.AggregateCounters: ...
    @property
    def venue_timezone(self) -> str: ...
    def order_writes(self) -> ports.Writes: ...


@dataclass(frozen=True)
class CouponFigures:
    coupon: Coupon
    counts: dict[str, int]            # AVAILABLE, LOCKED, USED, EXPIRED
    remaining: int | None

    @property
    def issued(self) -> int:
        return sum(self.counts.values())


def _exhausted(coupon_id: str, _: int | None = None) -> DomainError:
    return coupon_exhausted(coupon_id)


# ------------------------------------------------------------------ staff

def create_coupon(ctx: Couponing, actor: Actor, coupon: Coupon) -> Coupon:
    """The template and, for a limited coupon, its stock item of claims left, in one
    transaction; a coupon large enough for a grab is split at once, like a release's stock."""
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.coupons.add(uow, coupon)
    if coupon.total is not None:
        ctx.stock.add_sku(uow, _claims_left(coupon), now, actor.name, listed=False)
    ctx.audit.record(actor.name, "coupon_created", now, target=coupon.coupon_id, source_ip=actor.source_ip,
                     details={"name": coupon.name, "total": coupon.total}, uow=uow)
    commit(uow)
    shards = shards_for_stock(coupon.total or 0)
    if shards:
        inventory.split_stock(ctx, actor, coupon.coupon_id, shards)
    return coupon


def _claims_left(coupon: Coupon) -> Sku:
    return Sku(sku_id=coupon.coupon_id, product_id=coupon.coupon_id, name=coupon.name, price=0,
               available=coupon.total or 0)


def coupon_of(ctx: Couponing, coupon_id: str, consistent: bool = True) -> Coupon:
    coupon = ctx.coupons.get(coupon_id, consistent) if identifiers.COUPON_ID.match(coupon_id) else None
    if coupon is None:
        raise NotFound("no such coupon", code=ErrorCode.COUPON_NOT_FOUND, coupon_id=coupon_id[:40])
    return coupon


def change_coupon(ctx: Couponing, actor: Actor, coupon_id: str, changes: CouponChanges) -> Coupon:
    """Stop, extend the claim window, or raise the total: the template and (for a raise) the
    claims left move in one transaction, conditional on the template as read; the claims left
    grow by the difference (an add, never a set from a count read earlier), so claims made
    meanwhile all stand."""
    for _ in attempts(CHANGE_ATTEMPTS):
        before = coupon_of(ctx, coupon_id)
        after = changed(before, changes)
        now = ctx.clock()
        uow = ctx.unit_of_work()
        ctx.coupons.change(uow, before, after)
        if after.total is not None and before.total is not None and after.total > before.total:
            sku = ctx.stock.skus([coupon_id])[coupon_id]
            ctx.stock.adjust(uow, sku, after.total - before.total, "coupon_total_raised", now, actor.name)
        ctx.audit.record(actor.name, "coupon_changed", now, target=coupon_id, source_ip=actor.source_ip,
                         details={"status": after.status.value, "total": after.total,
                                  "claim_until": after.claim_until.isoformat()}, uow=uow)
        try:
            if commit(uow, {Tag.COUPON: None, ItemTag.SKU: None}):
                return after
        except Busy:
            continue
    raise Conflict("the coupon kept changing; try again", code=ErrorCode.EDIT_CONFLICT)


def coupon_figures(ctx: Couponing, coupon: Coupon) -> CouponFigures:
    """Its counts as the back office keeps them from the user coupons' stream (a second or so
    behind, the same few reads however many claims it has), and what is left as stock says."""
    remaining = None
    if coupon.total is not None:
        sku = ctx.stock.skus([coupon.coupon_id]).get(coupon.coupon_id)
        remaining = sku.available if sku else 0
    bucket = coupon_bucket(coupon.coupon_id)
    return CouponFigures(coupon, coupon_counts(ctx.aggregates.read([bucket])[bucket], ctx.clock()), remaining)


def all_coupons(ctx: Couponing) -> list[CouponFigures]:
    return [coupon_figures(ctx, c) for c in ctx.coupons.all()]


def grant(ctx: Couponing, actor: Actor, coupon_id: str, request: Grant
          ) -> tuple[list[UserCoupon], list[tuple[str, str]]]:
    """Goodwill coupons: each customer's is a claim made for them (counted against the total and
    their limit), with its audit record (who, for whom, why) in the claim's own transaction."""
    coupon = coupon_of(ctx, coupon_id)
    granted: list[UserCoupon] = []
    refused: list[tuple[str, str]] = []
    for user_id in request.user_ids:
        if not identifiers.USER_ID.match(user_id):
            refused.append((user_id, ErrorCode.CUSTOMER_NOT_FOUND.value))
            continue
        def audited(uow: ports.Writes, user_id: str = user_id) -> None:
            ctx.audit.record(actor.name, "coupon_granted", ctx.clock(), target=coupon_id, source_ip=actor.source_ip,
                             details={"reason": request.reason, "user_id": user_id}, uow=uow)
        try:
            granted.append(_claim(ctx, coupon, user_id, None, granted_by=actor.name, also=audited))
        except (Conflict, RuleViolation) as error:
            refused.append((user_id, str(error.code)))
    return granted, refused


# ------------------------------------------------------------------ customers

def claimable_coupons(ctx: Couponing) -> list[tuple[Coupon, int | None]]:
    """Coupons that can be claimed now, with what is left of the limited ones (as last read:
    a grab's count moves every instant; the claim decides)."""
    now = ctx.clock()
    open_now = [c for c in ctx.coupons.all() if c.claimable(now)]
    limited = [c.coupon_id for c in open_now if c.total is not None]
    left = ctx.stock.skus(limited) if limited else {}
    return [(c, left[c.coupon_id].available if c.coupon_id in left else None) for c in open_now
            if c.total is None or c.coupon_id not in left or left[c.coupon_id].available > 0]


def claim(ctx: Couponing, actor: Actor, coupon_id: str, idempotency_key: str | None = None
          ) -> tuple[UserCoupon, bool]:
    """The customer's claim; True when it was made now (False: an Idempotency-Key replayed)."""
    coupon = coupon_of(ctx, coupon_id, consistent=False)
    key = f"{actor.name}#claim#{idempotency_key}" if idempotency_key else None
    if key:
        earlier = _replay(ctx, key, coupon_id)
        if earlier is not None:
            return earlier, False
    return _claim(ctx, coupon, actor.name, key), True


def _replay(ctx: Couponing, key: str, coupon_id: str) -> UserCoupon | None:
    reply = ctx.idempotency.get(key)
    if reply is None:
        return None
    if reply.fingerprint != coupon_id:
        raise RuleViolation("this Idempotency-Key was used with a different request",
                            code=ErrorCode.IDEMPOTENCY_KEY_REUSED)
    return ctx.user_coupons.get(reply.order_id)


def _claim(ctx: Couponing, coupon: Coupon, user_id: str, key: str | None, granted_by: str | None = None,
           also: Callable[[ports.Writes], None] | None = None) -> UserCoupon:
    """Reads once (the claims left and the customer's count, one batched read), then writes
    once; a short shard is planned around, a throttled one tried once elsewhere, and a hot
    unsharded coupon split by the alerts worker, as an order's stock is."""
    planned: dict[str, Shares] = {}
    shard_tried = False
    for _ in attempts(CLAIM_ATTEMPTS):
        now = ctx.clock()
        if granted_by is None or coupon.status is CouponStatus.STOPPED:
            coupon.check_claimable(now)     # staff's goodwill is not held to the claim window
        snapshot = ctx.placement.snapshot([coupon.coupon_id] if coupon.limited else [], [coupon.coupon_id],
                                          user_id, None)
        if snapshot.purchased.get(coupon.coupon_id, 0) >= coupon.per_user_limit:
            raise coupon_limit_reached(coupon.coupon_id, coupon.per_user_limit)
        user_coupon = coupon.claim(identifiers.new_reference("UC"), user_id, now, ctx.venue_timezone, granted_by)
        uow = ctx.order_writes()
        if coupon.limited:
            sku = snapshot.skus.get(coupon.coupon_id)
            if sku is None or (sku.stock_known and sku.available < 1):
                raise coupon_exhausted(coupon.coupon_id)
            ctx.stock.reserve(uow, sku, 1, user_coupon.user_coupon_id, now, planned.get(coupon.coupon_id))
        ctx.counters.hold(uow, user_id, coupon.coupon_id, 1, coupon.per_user_limit)
        ctx.user_coupons.add(uow, user_coupon)
        if key:
            ctx.idempotency.remember(uow, key, coupon.coupon_id, user_coupon.user_coupon_id, now)
        if also is not None:
            also(uow)                 # a grant's audit record, in the claim's own transaction
        try:
            written = commit(uow, {Tag.IDEMPOTENCY: None,
                                   ItemTag.SKU: lambda sku_id: stock_refused(ctx, sku_id, _exhausted),
                                   ItemTag.SHARD: None,
                                   ItemTag.LIMIT: lambda _: coupon_limit_reached(coupon.coupon_id,
                                                                                 coupon.per_user_limit)})
        except Saturated as saturated:
            hot = sorted(set(ItemTag.SKU.ids_in(saturated.hot)))
            if not hot and not shard_tried and all(ItemTag.SHARD.matches(t) for t in saturated.hot):
                shard_tried, planned = True, {}
                continue
            announce_hot_stock(ctx, hot)
            ctx.metrics.count("ClaimsSaturated")
            raise
        except Busy:
            continue
        if written:
            ctx.metrics.count("CouponsClaimed")
            return user_coupon
        if key:
            earlier = _replay(ctx, key, coupon.coupon_id)
            if earlier is not None:
                return earlier
        planned = plan_sharded(ctx, {coupon.coupon_id: 1}, _exhausted)
    raise Busy("the shop is busy; please try again", retry_after_seconds=1)


def my_coupons(ctx: Couponing, actor: Actor, status: str | None) -> list[UserCoupon]:
    now = ctx.clock()
    return [c for c in ctx.user_coupons.of_user(actor.name)
            if status is None or c.shown_status(now).value == status]


def usable_coupons(ctx: Couponing, user_id: str, now: datetime) -> list[UserCoupon]:
    return [c for c in ctx.user_coupons.of_user(user_id) if c.usable(user_id, now)]
