"""Full-reduction promotions and the member tiers in DynamoDB (`promotions`: a few items, written
by staff), and the per-container cache the order path prices from.

The cache is the stated staleness of API.md's cost target: an order reads promotions and tiers
from memory, refreshed at most every CACHE_SECONDS (one Query), so that placing an order stays
one batched read and one transaction. A promotion started or stopped reaches every container
within CACHE_SECONDS; the container that wrote it sees it at once."""
from __future__ import annotations

import threading
import time
from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..domain.coupons import scope_as_dict
from ..domain.promotions import Promotion, TierRule
from ..service_layer.tags import Tag
from .coupon_repository import scope_from
from .dynamo import plain, read_time, stored_time, table_meta
from .unit_of_work import UnitOfWork

LISTED = "promotion"
TIERS_ID = "member-tiers"
CACHE_SECONDS = 30.0


class PromotionListing(GlobalSecondaryIndex["PromotionRecord"]):
    class Meta:
        index_name = "promotion-listing-index"
        projection = AllProjection()
    listing = UnicodeAttribute(hash_key=True)
    promotion_id = UnicodeAttribute(range_key=True)


class PromotionRecord(Model):
    """A 满减 promotion, or (promotion_id `member-tiers`) the member tiers."""
    Meta = table_meta("promotions")
    promotion_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(default="")
    tiers = ListAttribute(of=MapAttribute, default=list)
    scope = MapAttribute(default=dict)
    starts_at = UnicodeAttribute(null=True)
    ends_at = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="active")
    created_by = UnicodeAttribute(default="")
    updated_at = UnicodeAttribute(null=True)
    listing = UnicodeAttribute(default=LISTED)
    listing_index = PromotionListing()


def _promotion_from(r: PromotionRecord) -> Promotion:
    return Promotion(promotion_id=r.promotion_id, name=r.name,
                     tiers=tuple((int(t["threshold"]), int(t["amount"])) for t in map(plain, r.tiers or [])),
                     scope=scope_from(r.scope), starts_at=read_time(r.starts_at),  # type: ignore[arg-type]
                     ends_at=read_time(r.ends_at), status=r.status, created_by=r.created_by)  # type: ignore[arg-type]


def _tiers_from(r: PromotionRecord | None) -> list[TierRule]:
    if r is None:
        return []
    return [TierRule(int(t["tier"]), t["name"], int(t["min_spend"]), int(t["percent_off"]))
            for t in map(plain, r.tiers or [])]


class PromotionRepository:
    def __init__(self, cache_seconds: float = CACHE_SECONDS) -> None:
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Promotion], list[TierRule]] | None = None

    def add(self, uow: UnitOfWork, promotion: Promotion) -> None:
        uow.put(PromotionRecord(
            promotion_id=promotion.promotion_id, name=promotion.name,
            tiers=[{"threshold": t, "amount": a} for t, a in promotion.tiers], scope=scope_as_dict(promotion.scope),
            starts_at=stored_time(promotion.starts_at), ends_at=stored_time(promotion.ends_at),
            status=promotion.status, created_by=promotion.created_by),
            condition=PromotionRecord.promotion_id.does_not_exist(), tag=Tag.PROMOTION)

    def stop(self, uow: UnitOfWork, promotion_id: str) -> None:
        uow.update(PromotionRecord(promotion_id=promotion_id), [PromotionRecord.status.set("stopped")],
                   condition=PromotionRecord.status == "active", tag=Tag.PROMOTION)

    def set_tiers(self, uow: UnitOfWork, tiers: list[TierRule], at: Any, by: str) -> None:
        uow.put(PromotionRecord(promotion_id=TIERS_ID, name="member tiers",
                                tiers=[{"tier": t.tier, "name": t.name, "min_spend": t.min_spend,
                                        "percent_off": t.percent_off} for t in tiers],
                                created_by=by, updated_at=stored_time(at)), tag=Tag.PROMOTION)

    def forget(self) -> None:
        """This container wrote a change: it reads them again at its next order."""
        with self._lock:
            self._cached = None

    def get(self, promotion_id: str) -> Promotion | None:
        try:
            record = PromotionRecord.get(promotion_id, consistent_read=True)
        except PromotionRecord.DoesNotExist:
            return None
        return _promotion_from(record) if record.promotion_id != TIERS_ID else None

    def _listed(self) -> tuple[list[Promotion], list[TierRule]]:
        """Every promotion and the tiers: one Query (the tiers item is listed with them)."""
        records = list(PromotionRecord.listing_index.query(LISTED))
        tiers = next((r for r in records if r.promotion_id == TIERS_ID), None)
        return [_promotion_from(r) for r in records if r.promotion_id != TIERS_ID], _tiers_from(tiers)

    def all(self) -> list[Promotion]:
        return self._listed()[0]

    def tiers(self) -> list[TierRule]:
        try:
            return _tiers_from(PromotionRecord.get(TIERS_ID, consistent_read=True))
        except PromotionRecord.DoesNotExist:
            return []

    def pricing_rules(self) -> tuple[list[Promotion], list[TierRule]]:
        """Promotions and tiers as of at most `cache_seconds` ago."""
        with self._lock:
            cached = self._cached
            if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
                return cached[1], cached[2]
        promotions, tiers = self._listed()
        with self._lock:
            self._cached = (time.monotonic(), promotions, tiers)
        return promotions, tiers
