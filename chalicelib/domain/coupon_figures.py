"""A coupon's figures from the user coupons' stream: claims by the venue day they were claimed
(a cohort, for the promotions report), and one bucket per coupon by when its claims stop being
valid (staff's exact counts of issued, available, locked, used and expired)."""
from __future__ import annotations

from datetime import datetime

from .figure_facts import UserCouponFacts
from .figures import Figures, coupons_bucket, venue_day


def user_coupon_figures(coupon: UserCouponFacts | None, zone: str) -> Figures:
    """A claim counts as issued on its claim day from when it first appears; it counts as used
    while it is USED (so one given back after a refund is no longer used)."""
    figures = Figures()
    if coupon is None:
        return figures
    bucket = coupons_bucket(venue_day(coupon.claimed_at, zone))
    figures.add(bucket, coupon.coupon_id, "issued", 1)
    figures.add(bucket, coupon.coupon_id, "used", 1 if coupon.used else 0)
    figures.label(bucket, coupon.coupon_id, coupon.name)
    if coupon.valid_until is not None:
        # Staff's counts of one coupon, by when its claims stop being valid (few keys: one per
        # claim day, or one for fixed dates), so that those expired unused are counted exactly.
        key = coupon.valid_until.isoformat(timespec="minutes")
        one = coupon_bucket(coupon.coupon_id)
        figures.add(one, key, "issued", 1)
        figures.add(one, key, "locked", 1 if coupon.locked else 0)
        figures.add(one, key, "used", 1 if coupon.used else 0)
    return figures


def coupon_bucket(coupon_id: str) -> str:
    """One coupon's claims whatever the day: `<valid_until>|issued`, `|locked`, `|used`."""
    return f"coupon#{coupon_id}"


def coupon_counts(counters: dict[str, int], now: datetime) -> dict[str, int]:
    """AVAILABLE, LOCKED, USED and EXPIRED (available past its validity) from a coupon's bucket."""
    counts = {"AVAILABLE": 0, "LOCKED": 0, "USED": 0, "EXPIRED": 0}
    by_end: dict[str, dict[str, int]] = {}
    for name, value in counters.items():
        end, _, counter = name.rpartition("|")
        if isinstance(value, int):
            by_end.setdefault(end, {})[counter] = value
    for end, c in by_end.items():
        available = c.get("issued", 0) - c.get("locked", 0) - c.get("used", 0)
        counts["LOCKED"] += c.get("locked", 0)
        counts["USED"] += c.get("used", 0)
        counts["EXPIRED" if datetime.fromisoformat(end) <= now else "AVAILABLE"] += available
    return counts
