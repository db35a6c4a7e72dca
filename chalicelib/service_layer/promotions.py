"""Full reductions and member tiers (staff), a customer's tier (GET /me), and pricing an order
built from the catalog: the member discount, the running full reductions and one coupon."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from ..domain import identifiers
from ..domain.figures import spend_bucket
from ..domain.error_codes import ErrorCode
from ..domain.errors import NotFound
from ..domain.promotions import Promotion, TierRule, spend_within, stopped, tier_for
from . import ports
from .context import Actor
from .tags import Tag
from .writes import commit


class Promoting(Protocol):
    @property
    def promotions(self) -> ports.PromotionStore: ...
    @property
    def aggregates(self) -> ports.AggregateCounters: ...
    @property
    def audit(self) -> ports.AuditTrail: ...
    @property
    def clock(self) -> ports.Clock: ...
    @property
    def venue_timezone(self) -> str: ...
    def unit_of_work(self) -> ports.Writes: ...


@dataclass(frozen=True)
class Membership:
    user_id: str
    tier: TierRule
    spend: int


# ------------------------------------------------------------------ staff

def create_promotion(ctx: Promoting, actor: Actor, promotion: Promotion) -> Promotion:
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.promotions.add(uow, promotion)
    ctx.audit.record(actor.name, "promotion_created", now, target=promotion.promotion_id, source_ip=actor.source_ip,
                     details={"name": promotion.name, "tiers": [list(t) for t in promotion.tiers]}, uow=uow)
    commit(uow)
    ctx.promotions.forget()
    return promotion


def promotion_of(ctx: Promoting, promotion_id: str) -> Promotion:
    found = ctx.promotions.get(promotion_id) if identifiers.PROMOTION_ID.match(promotion_id) else None
    if found is None:
        raise NotFound("no such promotion", code=ErrorCode.PROMOTION_NOT_FOUND, promotion_id=promotion_id[:40])
    return found


def stop_promotion(ctx: Promoting, actor: Actor, promotion_id: str) -> Promotion:
    promotion = promotion_of(ctx, promotion_id)
    if promotion.status == "stopped":
        return promotion
    uow = ctx.unit_of_work()
    ctx.promotions.stop(uow, promotion_id)
    ctx.audit.record(actor.name, "promotion_stopped", ctx.clock(), target=promotion_id, source_ip=actor.source_ip,
                     uow=uow)
    commit(uow, {Tag.PROMOTION: None})
    ctx.promotions.forget()
    return stopped(promotion)


def all_promotions(ctx: Promoting) -> list[Promotion]:
    return sorted(ctx.promotions.all(), key=lambda p: (p.starts_at, p.promotion_id), reverse=True)


def set_member_tiers(ctx: Promoting, actor: Actor, tiers: list[TierRule]) -> list[TierRule]:
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.promotions.set_tiers(uow, tiers, now, actor.name)
    ctx.audit.record(actor.name, "member_tiers_set", now, source_ip=actor.source_ip,
                     details={"tiers": [dataclasses.asdict(t) for t in tiers]}, uow=uow)
    commit(uow)
    ctx.promotions.forget()
    return tiers


def member_tiers(ctx: Promoting) -> list[TierRule]:
    return ctx.promotions.tiers()


def venue_day(ctx: Promoting, now: datetime) -> date:
    return now.astimezone(ZoneInfo(ctx.venue_timezone)).date()


def membership(ctx: Promoting, actor: Actor) -> Membership:
    """The customer's tier and the spend it follows (kept from the streams: a payment counts
    within seconds of its notice)."""
    counters = ctx.aggregates.read([spend_bucket(actor.name)]).get(spend_bucket(actor.name), {})
    spend = spend_within({k: int(v) for k, v in counters.items() if isinstance(v, int)},
                         venue_day(ctx, ctx.clock()))
    return Membership(actor.name, tier_for(spend, ctx.promotions.tiers()), spend)
