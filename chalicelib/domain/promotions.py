"""Full-reduction promotions (满减) and member tiers (会员价) as staff set them, and which of them
price an order now. The pricing itself is domain.pricing.

Decided where API.md is silent:
- several full reductions may run at once; each applies (its best tier) on its own scope, in the
  order they started (then by id), the threshold of each compared after the ones before it;
- a member's tier follows what they paid, net of refunds, over the 365 days up to yesterday and
  today in the venue's zone; a refund counts against the day its order was paid, so a refund of
  an old order does not take more than that order gave;
- a partial refund does not reprice the rest of the order: the units kept keep their shares,
  even if what is left would no longer reach a full reduction's threshold (the customer paid for
  those units what the order said; clawing back a reduction would surprise them and WeChat
  cannot take more money back than it gives);
- tiers are replaced whole (PUT); tier numbers 1..9, rising with min_spend and percent_off.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from .coupons import parse_scope
from .errors import InvalidInput
from .pricing import FullReduction, MemberTier, Scope
from .validation import Fields

MEMBER_WINDOW_DAYS = 365
MAX_REDUCTION_TIERS = 5
MAX_MEMBER_TIERS = 9


@dataclass(frozen=True)
class Promotion:
    """A 满减 promotion: the best tier whose threshold the lines in scope reach is taken off."""
    promotion_id: str
    name: str
    tiers: tuple[tuple[int, int], ...]
    scope: Scope
    starts_at: datetime
    ends_at: datetime
    status: str = "active"           # active | stopped
    created_by: str = ""

    def running(self, now: datetime) -> bool:
        return self.status == "active" and self.starts_at <= now < self.ends_at

    @property
    def reduction(self) -> FullReduction:
        return FullReduction(self.promotion_id, self.name, self.tiers, self.scope)


def running_reductions(promotions: list[Promotion], now: datetime) -> list[FullReduction]:
    """What prices an order placed `now`, in the order they apply."""
    return [p.reduction for p in sorted(promotions, key=lambda p: (p.starts_at, p.promotion_id)) if p.running(now)]


def parse_promotion(data: object, promotion_id: str, actor: str) -> Promotion:
    f = Fields(data)
    f.only({"name", "kind", "tiers", "scope", "starts_at", "ends_at"})
    name = f.string("name", max_len=60)
    f.choice("kind", ("full_reduction",))
    tiers = []
    for tier in f.objects("tiers", max_items=MAX_REDUCTION_TIERS, min_items=1):
        threshold = tier.integer("threshold", minimum=1, maximum=100_000_000)
        amount = tier.integer("amount", minimum=1, maximum=100_000_000)
        assert threshold is not None and amount is not None
        if amount > threshold:
            raise InvalidInput("a tier cannot take off more than its threshold", field=f"{tier.where}.amount")
        tiers.append((threshold, amount))
    tiers.sort()
    if len({t for t, _ in tiers}) != len(tiers) or any(a2 <= a1 for (_, a1), (_, a2) in zip(tiers, tiers[1:])):
        raise InvalidInput("tiers must have different thresholds, a higher one taking off more", field="tiers")
    starts_at, ends_at = f.instant("starts_at"), f.instant("ends_at")
    assert name and starts_at and ends_at
    if ends_at <= starts_at:
        raise InvalidInput("ends_at must be after starts_at", field="ends_at")
    return Promotion(promotion_id=promotion_id, name=name, tiers=tuple(tiers), scope=parse_scope(f),
                     starts_at=starts_at, ends_at=ends_at, created_by=actor)


def parse_promotion_changes(data: object) -> str:
    f = Fields(data)
    f.only({"status"})
    return f.choice("status", ("stopped",)) or "stopped"


def stopped(promotion: Promotion) -> Promotion:
    return replace(promotion, status="stopped")


@dataclass(frozen=True)
class TierRule:
    tier: int
    name: str
    min_spend: int
    percent_off: int

    @property
    def member_tier(self) -> MemberTier:
        return MemberTier(self.tier, self.name, self.percent_off)


NO_TIER = TierRule(0, "普通会员", 0, 0)


def parse_tiers(data: object) -> list[TierRule]:
    f = Fields(data)
    f.only({"tiers"})
    rules = []
    for t in f.objects("tiers", max_items=MAX_MEMBER_TIERS):
        t.only({"tier", "name", "min_spend", "percent_off"})
        tier = t.integer("tier", minimum=1, maximum=MAX_MEMBER_TIERS)
        name = t.string("name", max_len=20)
        min_spend = t.integer("min_spend", minimum=1, maximum=10_000_000_000)
        percent_off = t.integer("percent_off", minimum=0, maximum=99)
        assert tier is not None and name and min_spend is not None and percent_off is not None
        rules.append(TierRule(tier, name, min_spend, percent_off))
    rules.sort(key=lambda r: r.tier)
    if [r.tier for r in rules] != list(range(1, len(rules) + 1)):
        raise InvalidInput("tiers must be numbered 1, 2, 3, ... without gaps", field="tiers")
    if any(b.min_spend <= a.min_spend or b.percent_off < a.percent_off for a, b in zip(rules, rules[1:])):
        raise InvalidInput("a higher tier needs a higher min_spend and at least the discount of the one below",
                           field="tiers")
    return rules


def tier_for(spend: int, rules: list[TierRule]) -> TierRule:
    """The highest tier whose min_spend the spend reaches; tier 0 (no discount) below them all."""
    reached = [r for r in rules if spend >= r.min_spend]
    return max(reached, key=lambda r: r.tier) if reached else NO_TIER


def spend_window(today: date) -> tuple[date, date]:
    """The venue days whose payments count towards a tier: the last 365, today included."""
    return today - timedelta(days=MEMBER_WINDOW_DAYS - 1), today


def spend_within(counters: dict[str, int], today: date) -> int:
    """What a customer paid within the window, from their spend bucket's `<YYYY-MM-DD>|paid`."""
    first, last = spend_window(today)
    total = 0
    for name, amount in counters.items():
        day, _, counter = name.partition("|")
        if counter == "paid" and first.isoformat() <= day <= last.isoformat():
            total += int(amount)
    return max(total, 0)
