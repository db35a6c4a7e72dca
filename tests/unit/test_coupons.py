"""Coupons, full reductions and member tiers as plain rules (no AWS)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.coupons import (Coupon, CouponKind, CouponStatus, UserCouponStatus, Validity, best_first,
                                       changed, parse_coupon, parse_coupon_changes, parse_grant)
from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.pricing import EVERYTHING
from chalicelib.domain.promotions import (NO_TIER, Promotion, TierRule, parse_promotion, parse_tiers,
                                          running_reductions, spend_within, tier_for)

NOW = datetime(2026, 12, 3, 15, 50, tzinfo=timezone.utc)          # 23:50 in Shanghai
ZONE = "Asia/Shanghai"


def coupon(**extra: object) -> Coupon:
    body = {"name": "满100减20", "kind": "cash", "amount": 2000, "threshold": 10000,
            "claim_from": "2026-12-01T00:00:00+08:00", "claim_until": "2026-12-31T00:00:00+08:00", "valid_days": 1,
            **extra}
    return parse_coupon({k: v for k, v in body.items() if v is not None}, "CPN0000000000000001", NOW, "boss")


def test_valid_days_run_to_the_end_of_a_venue_day() -> None:
    claimed = coupon().claim("UC0000000000000001", "U1", NOW, ZONE)
    # Claimed at 23:50 venue time with one day: valid until midnight, ten minutes later.
    assert claimed.valid_until - NOW == timedelta(minutes=10)
    assert claimed.shown_status(NOW + timedelta(minutes=10)) is UserCouponStatus.EXPIRED
    assert claimed.usable("U1", NOW) and not claimed.usable("U2", NOW)
    fixed = Validity(valid_from=NOW, valid_until=NOW + timedelta(days=3))
    assert fixed.for_claim(NOW + timedelta(days=1), ZONE) == (NOW, NOW + timedelta(days=3))


def test_a_coupon_is_claimable_only_in_its_window_and_while_running() -> None:
    c = coupon()
    assert c.claimable(NOW)
    assert not c.claimable(datetime(2026, 12, 31, tzinfo=timezone.utc))
    assert not changed(c, parse_coupon_changes({"status": "stopped"})).claimable(NOW)


def test_a_total_only_grows_and_an_unlimited_coupon_has_none() -> None:
    limited = coupon(total=5)
    assert changed(limited, parse_coupon_changes({"total": 8})).total == 8
    with pytest.raises(Conflict):
        changed(limited, parse_coupon_changes({"total": 4}))
    with pytest.raises(Conflict):
        changed(coupon(), parse_coupon_changes({"total": 4}))
    with pytest.raises(InvalidInput):
        parse_coupon_changes({})


@pytest.mark.parametrize("extra, field", [
    ({"amount": None}, "amount"), ({"percent_off": 10}, "percent_off"), ({"kind": "percent"}, "amount"),
    ({"valid_days": None}, "valid_days"), ({"valid_until": "2027-01-01T00:00:00+08:00"}, "valid_days"),
    ({"claim_until": "2026-11-01T00:00:00+08:00"}, "claim_until"), ({"threshold": 1000}, "amount"),
    ({"scope": {"kinds": ["boat"]}}, "scope.kinds"), ({"per_user_limit": 0}, "per_user_limit"),
    ({"colour": "red"}, None),
])
def test_a_coupon_that_makes_no_sense_is_refused(extra: dict[str, object], field: str | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        coupon(**extra)
    assert field is None or refused.value.details.get("field") == field


def test_a_percent_coupon_and_its_scope() -> None:
    c = coupon(kind="percent", amount=None, percent_off=15, max_discount=3000, scope={"kinds": ["ticket"]})
    assert (c.kind, c.percent_off, c.max_discount, c.scope.kinds) == (CouponKind.PERCENT, 15, 3000, frozenset({"ticket"}))
    assert coupon().scope == EVERYTHING and coupon().status is CouponStatus.ACTIVE


def test_grants_name_each_customer_once() -> None:
    assert parse_grant({"user_ids": ["U1", "U2"], "reason": "排队太久"}).user_ids == ["U1", "U2"]
    for bad in ({"user_ids": [], "reason": "x"}, {"user_ids": ["U1", "U1"], "reason": "x"}, {"user_ids": ["U1"]}):
        with pytest.raises(InvalidInput):
            parse_grant(bad)


def test_the_coupon_taking_most_off_comes_first_then_the_one_expiring_soonest() -> None:
    a = coupon().claim("UCA", "U1", NOW, ZONE)
    b = coupon(valid_days=3).claim("UCB", "U1", NOW, ZONE)
    c = coupon().claim("UCC", "U1", NOW, ZONE)
    assert [x.user_coupon_id for x, _ in best_first([(b, 500), (c, 900), (a, 500)])] == ["UCC", "UCA", "UCB"]


def test_tiers_follow_the_spend_of_the_last_365_venue_days() -> None:
    rules = parse_tiers({"tiers": [{"tier": 2, "name": "金卡", "min_spend": 500000, "percent_off": 8},
                                   {"tier": 1, "name": "银卡", "min_spend": 100000, "percent_off": 5}]})
    assert [r.tier for r in rules] == [1, 2]
    assert tier_for(99999, rules) is NO_TIER and tier_for(100000, rules).name == "银卡"
    assert tier_for(10 ** 9, rules).tier == 2
    today = date(2026, 12, 3)
    counters = {"2026-12-03|paid": 50000, "2025-12-04|paid": 60000, "2025-12-03|paid": 70000, "2026-01-01|x": 5}
    assert spend_within(counters, today) == 110000          # a year and a day ago no longer counts
    assert spend_within({"2026-12-01|paid": -100}, today) == 0
    for bad in ({"tiers": [{"tier": 2, "name": "x", "min_spend": 1, "percent_off": 1}]},
                {"tiers": [{"tier": 1, "name": "a", "min_spend": 5, "percent_off": 5},
                           {"tier": 2, "name": "b", "min_spend": 4, "percent_off": 6}]}):
        with pytest.raises(InvalidInput):
            parse_tiers(bad)
    assert TierRule(1, "银卡", 1, 5).member_tier.percent_off == 5


def test_full_reductions_apply_in_the_order_they_started_while_they_run() -> None:
    def promotion(pid: str, starts: datetime, status: str = "active") -> Promotion:
        parsed = parse_promotion({"name": pid, "kind": "full_reduction", "tiers": [{"threshold": 100, "amount": 10}],
                                  "starts_at": starts.isoformat(), "ends_at": (NOW + timedelta(days=1)).isoformat()},
                                 pid, "boss")
        return Promotion(**{**parsed.__dict__, "status": status})
    later = promotion("PRMB", NOW - timedelta(hours=1))
    earlier = promotion("PRMA", NOW - timedelta(hours=2))
    stopped = promotion("PRMC", NOW - timedelta(hours=3), status="stopped")
    future = promotion("PRMD", NOW + timedelta(hours=1))
    assert [r.promotion_id for r in running_reductions([later, stopped, future, earlier], NOW)] == ["PRMA", "PRMB"]
    for tiers in ([{"threshold": 100, "amount": 200}], [{"threshold": 100, "amount": 20}, {"threshold": 200, "amount": 10}]):
        with pytest.raises(InvalidInput):
            parse_promotion({"name": "x", "kind": "full_reduction", "tiers": tiers, "starts_at": NOW.isoformat(),
                             "ends_at": (NOW + timedelta(days=1)).isoformat()}, "PRMX", "boss")
