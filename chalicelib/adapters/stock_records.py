"""The stock tables: SKUs (bucket 0 of their stock), the shards of a hot SKU's stock (buckets
1..N, see domain.stock_shards), the movement ledger, and the mapping to domain SKUs."""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.errors import Busy
from ..domain.model import Session, Sku, StockMovement
from .dynamo import batch_get_many, read_time, table_meta

INVENTORY_SHARDS = 4
READ_ATTEMPTS = 4


class InventoryIndex(GlobalSecondaryIndex["SkuRecord"]):
    """Every SKU for the back office's stock list, keys only and spread (sku#<shard>): a sale
    changes a SKU's stock but not its keys, so no sale writes here."""
    class Meta:
        index_name = "inventory-shard-index"
        projection = KeysOnlyProjection()
    inventory = UnicodeAttribute(hash_key=True)
    sku_id = UnicodeAttribute(range_key=True)


class SkuRecord(Model):
    Meta = table_meta("skus", streamed=True)
    sku_id = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute()
    name = UnicodeAttribute()
    price = NumberAttribute()
    available = NumberAttribute()
    reserved = NumberAttribute(default=0)
    sold = NumberAttribute(default=0)
    low_stock_threshold = NumberAttribute(default=0)
    session_start = UnicodeAttribute(null=True)
    session_end = UnicodeAttribute(null=True)
    valid_from = UnicodeAttribute(null=True)
    valid_until = UnicodeAttribute(null=True)
    attributes = MapAttribute(default=dict)
    low_stock_alerted = BooleanAttribute(null=True)  # latch: one alert per crossing below the threshold
    stock_shards = NumberAttribute(null=True)        # N: the free units sit in shard items 1..N
    transfers = NumberAttribute(null=True)           # counts moves of units between buckets (split, gather)
    inventory = UnicodeAttribute(null=True)           # absent: not stock staff keep (a coupon's claims left)
    inventory_index = InventoryIndex()
    cancelled = BooleanAttribute(null=True)          # the venue cancelled the session: reservations refused
    cancel_reason = UnicodeAttribute(null=True)


class StockShardRecord(Model):
    """Bucket 1..N of a sharded SKU: its own free, reserved and sold units."""
    Meta = table_meta("stock-shards")
    shard_id = UnicodeAttribute(hash_key=True)       # <sku_id>#<bucket>
    sku_id = UnicodeAttribute()
    available = NumberAttribute(default=0)
    reserved = NumberAttribute(default=0)
    sold = NumberAttribute(default=0)
    cancelled = BooleanAttribute(null=True)          # flagged with its SKU: a shard's reservation refuses it too


class MovementRecord(Model):
    """The stock ledger: one item per change of `available`, written in the same transaction.
    A shard's order movements go to the shard's own ledger, so a hot SKU's sales spread here too."""
    Meta = table_meta("movements")
    sku_id = UnicodeAttribute(hash_key=True)         # the ledger: the SKU, or <sku_id>#<bucket>
    movement_id = UnicodeAttribute(range_key=True)   # <UTC time>#<random>: sorts by time
    delta = NumberAttribute()
    reason = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    at = UnicodeAttribute()


def ledger(sku_id: str, bucket: int) -> str:
    """A bucket's key: the SKU's own for bucket 0, else its shard's (also the shard's ledger)."""
    return sku_id if bucket == 0 else f"{sku_id}#{bucket}"


def bucket_item(sku_id: str, bucket: int) -> tuple[Model, Any]:
    """The item to update for a bucket, and its model (for the attributes of its conditions)."""
    if bucket == 0:
        return SkuRecord(sku_id=sku_id), SkuRecord
    return StockShardRecord(shard_id=ledger(sku_id, bucket)), StockShardRecord


def sku_from(record: SkuRecord, shards: dict[str, StockShardRecord] | None = None) -> Sku:
    """A SKU; a sharded one read with its shards holds their sum (else the order path's partial
    view: `stock_known` is False)."""
    session = None
    if record.session_start and record.session_end:
        session = Session(timeutil.from_storage(record.session_start), timeutil.from_storage(record.session_end))
    count = int(record.stock_shards or 0)
    available, reserved, sold = int(record.available), int(record.reserved or 0), int(record.sold or 0)
    free = None
    if count and shards is not None:
        free = {0: available}
        for bucket in range(1, count + 1):
            shard = shards.get(ledger(record.sku_id, bucket))
            if shard is not None:
                free[bucket] = int(shard.available)
                reserved, sold = reserved + int(shard.reserved), sold + int(shard.sold)
        available = sum(free.values())
    return Sku(sku_id=record.sku_id, product_id=record.product_id, name=record.name, price=int(record.price),
               available=available, reserved=reserved, sold=sold,
               low_stock_threshold=int(record.low_stock_threshold or 0), session=session,
               valid_from=read_time(record.valid_from), valid_until=read_time(record.valid_until),
               attributes=dict(record.attributes.as_dict() if record.attributes else {}),
               stock_shards=count, free_by_bucket=free, low_stock_alerted=bool(record.low_stock_alerted),
               cancelled=bool(record.cancelled), cancel_reason=record.cancel_reason)


def with_shards(records: dict[str, SkuRecord]) -> dict[str, Sku]:
    """SKUs whole: the shards of the sharded ones in one more batched read. Units moved between
    buckets (a split, a gather) between the two reads would be counted twice or not at all, so
    the sharded SKUs are read again after their shards, until no such move came in between."""
    for _ in range(READ_ATTEMPTS):
        sharded = {k: r for k, r in records.items() if r.stock_shards}
        keys = [ledger(r.sku_id, b) for r in sharded.values() for b in range(1, int(r.stock_shards) + 1)]
        shards = batch_get_many(StockShardRecord, keys) if keys else {}
        again = batch_get_many(SkuRecord, list(sharded)) if sharded else {}
        moved = {k for k, r in again.items() if (r.transfers, r.stock_shards) != (sharded[k].transfers,
                                                                                  sharded[k].stock_shards)}
        if not moved:
            return {k: sku_from(v, shards) for k, v in records.items()}
        records = {**records, **again}
    raise Busy("a SKU's units kept moving between its shards while it was read; try again")


def movement_from(record: MovementRecord) -> StockMovement:
    return StockMovement(delta=int(record.delta), reason=record.reason, at=timeutil.from_storage(record.at),
                         actor=record.actor, order_id=record.order_id)


