"""SKUs (the unit of stock), the shards of a hot SKU's stock, and the movement ledger in
DynamoDB. Every change of a bucket's `available` (the SKU item is bucket 0, its shards 1..N; see
domain.stock_shards) is a conditional update plus a movement in the same transaction, so a SKU's
ledgers always sum to its stock."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.model import Session, Sku, StockMovement
from ..domain.stock_shards import Shares, blind_floor, pick_shard, plan, spread_evenly
from ..service_layer.ports import Page
from .dynamo import (UnitOfWork, batch_get_many, fanned_page, read_time, spread, spread_keys, stamp,
                     stored_time, table_meta)

INVENTORY_SHARDS = 4


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
    inventory = UnicodeAttribute()
    inventory_index = InventoryIndex()


class StockShardRecord(Model):
    """Bucket 1..N of a sharded SKU: its own free, reserved and sold units."""
    Meta = table_meta("stock-shards")
    shard_id = UnicodeAttribute(hash_key=True)       # <sku_id>#<bucket>
    sku_id = UnicodeAttribute()
    available = NumberAttribute(default=0)
    reserved = NumberAttribute(default=0)
    sold = NumberAttribute(default=0)


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


def _bucket(sku_id: str, bucket: int) -> tuple[Model, Any]:
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
               stock_shards=count, free_by_bucket=free)


def with_shards(records: dict[str, SkuRecord]) -> dict[str, Sku]:
    """SKUs whole: the shards of the sharded ones in one more batched read."""
    keys = [ledger(r.sku_id, b) for r in records.values() for b in range(1, int(r.stock_shards or 0) + 1)]
    shards = batch_get_many(StockShardRecord, keys) if keys else {}
    return {k: sku_from(v, shards) for k, v in records.items()}


def _movement_from(record: MovementRecord) -> StockMovement:
    return StockMovement(delta=int(record.delta), reason=record.reason, at=timeutil.from_storage(record.at),
                         actor=record.actor, order_id=record.order_id)


class StockLedger:
    def _movement(self, uow: UnitOfWork, ledger_id: str, delta: int, reason: str, at: datetime,
                  actor: str | None = None, order_id: str | None = None) -> None:
        uow.put(MovementRecord(sku_id=ledger_id, movement_id=stamp(at), delta=delta, reason=reason,
                               actor=actor, order_id=order_id, at=stored_time(at)),
                condition=MovementRecord.movement_id.does_not_exist(), tag=f"movement:{ledger_id}")

    def _move(self, uow: UnitOfWork, sku_id: str, bucket: int, free: int, reserved: int, sold: int,
              condition: Any, tag: str) -> None:
        """One bucket's counts change together, under `condition(model)`."""
        record, model = _bucket(sku_id, bucket)
        actions = [getattr(model, name).add(by) for name, by in
                   (("available", free), ("reserved", reserved), ("sold", sold)) if by]
        uow.update(record, actions, condition=condition(model), tag=tag)

    def add_sku(self, uow: UnitOfWork, sku: Sku, at: datetime, actor: str) -> None:
        """A new SKU, not sharded: a large one is split afterwards (`split`), so that a product
        with many SKUs still fits one transaction."""
        uow.put(SkuRecord(
            sku_id=sku.sku_id, product_id=sku.product_id, name=sku.name, price=sku.price,
            available=sku.available, reserved=0, sold=0, low_stock_threshold=sku.low_stock_threshold,
            session_start=stored_time(sku.session.start) if sku.session else None,
            session_end=stored_time(sku.session.end) if sku.session else None,
            valid_from=stored_time(sku.valid_from), valid_until=stored_time(sku.valid_until),
            attributes=sku.attributes, inventory=spread("sku", sku.sku_id, INVENTORY_SHARDS)),
            condition=SkuRecord.sku_id.does_not_exist(), tag=f"sku:{sku.sku_id}")
        if sku.available:
            self._movement(uow, sku.sku_id, sku.available, "initial_stock", at, actor=actor)

    def split(self, uow: UnitOfWork, sku: Sku, shards: int) -> None:
        """Spreads the SKU's free units evenly over `shards` shard items (more than it had),
        conditional on every bucket still holding what was read. The total does not change, so
        no movement; units that orders hold stay where they are."""
        assert sku.free_by_bucket is not None or not sku.sharded
        free = sku.free_by_bucket or {0: sku.available}
        target = spread_evenly(sku.available, list(range(1, shards + 1)))
        uow.update(SkuRecord(sku_id=sku.sku_id),
                   [SkuRecord.available.set(0), SkuRecord.stock_shards.set(shards)],
                   condition=(SkuRecord.available == free[0]) & (
                       SkuRecord.stock_shards.does_not_exist() if not sku.sharded
                       else SkuRecord.stock_shards == sku.stock_shards), tag=f"sku:{sku.sku_id}")
        for bucket in range(1, shards + 1):
            if bucket in free:
                uow.update(StockShardRecord(shard_id=ledger(sku.sku_id, bucket)),
                           [StockShardRecord.available.set(target[bucket])],
                           condition=StockShardRecord.available == free[bucket], tag=f"sku:{sku.sku_id}")
            else:
                uow.put(StockShardRecord(shard_id=ledger(sku.sku_id, bucket), sku_id=sku.sku_id,
                                         available=target[bucket], reserved=0, sold=0),
                        condition=StockShardRecord.shard_id.does_not_exist(), tag=f"sku:{sku.sku_id}")

    def adjust(self, uow: UnitOfWork, sku: Sku, delta: int, reason: str, at: datetime, actor: str) -> None:
        """A conditional add. A sharded SKU receives units spread over its shards, and gives them
        up from the buckets that hold them as read; one movement either way."""
        if delta < 0 and sku.sharded:
            taken = plan(-delta, sku.free_by_bucket or {})
            if taken is None:
                raise ValueError("the caller checks the stock first")
            for bucket, units in taken.items():
                self._move(uow, sku.sku_id, bucket, -units, 0, 0,
                           lambda m, units=units: m.available >= units, f"sku:{sku.sku_id}")
        elif delta > 0 and sku.sharded:
            for bucket, units in spread_evenly(delta, list(range(1, sku.stock_shards + 1))).items():
                if units:
                    self._move(uow, sku.sku_id, bucket, units, 0, 0, lambda m: m.available.exists(),
                               f"sku:{sku.sku_id}")
        else:
            condition = SkuRecord.sku_id.exists()
            if delta < 0:
                condition &= SkuRecord.available >= -delta
            uow.update(SkuRecord(sku_id=sku.sku_id), [SkuRecord.available.add(delta)], condition=condition,
                       tag=f"sku:{sku.sku_id}")
        self._movement(uow, sku.sku_id, delta, reason, at, actor=actor)

    def count(self, uow: UnitOfWork, sku: Sku, counted: int, reason: str, at: datetime, actor: str) -> None:
        """A stocktake line. An unsharded SKU is set to `counted` only if nothing moved since it
        was read. A sharded one sells too fast to wait for a quiet moment: the difference found
        is applied like an adjustment, so sales made meanwhile still count."""
        if sku.sharded:
            found = counted - sku.available
            if found > 0:           # to one shard: a stocktake of many SKUs stays one transaction
                self._move(uow, sku.sku_id, pick_shard(sku.stock_shards), found, 0, 0,
                           lambda m: m.available.exists(), f"sku:{sku.sku_id}")
                self._movement(uow, sku.sku_id, found, reason, at, actor=actor)
            elif found < 0:
                self.adjust(uow, sku, found, reason, at, actor)
            return
        uow.update(SkuRecord(sku_id=sku.sku_id), [SkuRecord.available.set(counted)],
                   condition=SkuRecord.available == sku.available, tag=f"sku:{sku.sku_id}")
        if counted != sku.available:
            self._movement(uow, sku.sku_id, counted - sku.available, reason, at, actor=actor)

    def reserve(self, uow: UnitOfWork, sku: Sku, quantity: int, order_id: str, at: datetime,
                planned: Shares | None = None) -> Shares:
        """Takes `quantity` free units for an order; returns where from (empty: the SKU item).
        A sharded SKU's order tries one shard at random without reading, keeping back the shard's
        part of the low-stock threshold; when that shard is short, the caller reads every bucket
        and passes the `planned` split. Shard refusals are tagged `shard:`."""
        if not sku.sharded:
            uow.update(SkuRecord(sku_id=sku.sku_id),
                       [SkuRecord.available.add(-quantity), SkuRecord.reserved.add(quantity)],
                       condition=SkuRecord.sku_id.exists() & (SkuRecord.available >= quantity),
                       tag=f"sku:{sku.sku_id}")
            self._movement(uow, sku.sku_id, -quantity, "order_reserved", at, order_id=order_id)
            return {}
        keep = 0 if planned else blind_floor(sku.low_stock_threshold, sku.stock_shards)
        shares = planned or {pick_shard(sku.stock_shards): quantity}
        for bucket, units in shares.items():
            self._move(uow, sku.sku_id, bucket, -units, units, 0,
                       lambda m, units=units: m.available >= units + keep, f"shard:{sku.sku_id}")
            self._movement(uow, ledger(sku.sku_id, bucket), -units, "order_reserved", at, order_id=order_id)
        return dict(shares)

    def sell(self, uow: UnitOfWork, sku_id: str, shares: Shares) -> None:
        """Payment turns reserved units into sold ones where they were reserved; `available` does
        not move, so no movement."""
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, 0, -units, units, lambda m, units=units: m.reserved >= units,
                       f"sku:{sku_id}")

    def give_back_sold(self, uow: UnitOfWork, sku_id: str, shares: Shares, refund_id: str, at: datetime) -> None:
        """A refund returns sold units to sale, once: the caller's transaction is conditional on
        the refund's state. A shard's own `sold` may dip below zero when partial refunds of one
        line come back to the same shard; the SKU's sum stays exact."""
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, units, 0, -units,
                       (lambda m, units=units: m.sold >= units) if bucket == 0 else (lambda m: m.sold.exists()),
                       f"sku:{sku_id}")
            self._movement(uow, ledger(sku_id, bucket), units, f"refunded {refund_id}", at)

    def release(self, uow: UnitOfWork, sku_id: str, shares: Shares, order_id: str, reason: str,
                at: datetime) -> None:
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, units, -units, 0, lambda m, units=units: m.reserved >= units,
                       f"sku:{sku_id}")
            self._movement(uow, ledger(sku_id, bucket), units, reason, at, order_id=order_id)

    def latch_low_stock(self, uow: UnitOfWork, sku: Sku) -> None:
        """Set once per crossing: only a SKU below its threshold and not yet alerted. A sharded
        SKU's total is the caller's reading of all its buckets (no one item holds it)."""
        condition = SkuRecord.low_stock_alerted.does_not_exist()
        if not sku.sharded:
            condition &= SkuRecord.available < SkuRecord.low_stock_threshold
        uow.update(SkuRecord(sku_id=sku.sku_id), [SkuRecord.low_stock_alerted.set(True)], condition=condition,
                   tag="latch")

    def rearm_low_stock(self, uow: UnitOfWork, sku: Sku) -> None:
        condition = SkuRecord.low_stock_alerted.exists()
        if not sku.sharded:
            condition &= SkuRecord.available >= SkuRecord.low_stock_threshold
        uow.update(SkuRecord(sku_id=sku.sku_id), [SkuRecord.low_stock_alerted.remove()], condition=condition,
                   tag="latch")

    def skus(self, sku_ids: Iterable[str]) -> dict[str, Sku]:
        """SKUs whole (sharded ones with every bucket summed): two batched reads at most."""
        return with_shards(batch_get_many(SkuRecord, sku_ids))

    def inventory_page(self, limit: int, cursor: str | None, below_threshold: bool) -> Page:
        """A page of the stock list, by SKU id. The index holds keys only; the SKUs are read
        whole, and `below_threshold` keeps those under their threshold, reading further pages
        of the index (a bounded number) to fill this one."""
        found: list[Sku] = []
        for _ in range(10):
            rows, cursor = fanned_page(
                lambda key, after, count: SkuRecord.inventory_index.query(
                    key, SkuRecord.sku_id >= after if after else None, limit=count),
                spread_keys("sku", INVENTORY_SHARDS), "sku_id", "inventory", limit - len(found), cursor,
                descending=False)
            skus = self.skus(r.sku_id for r in rows)
            found += [skus[r.sku_id] for r in rows if r.sku_id in skus
                      and (not below_threshold or skus[r.sku_id].below_threshold)]
            if cursor is None or len(found) >= limit:
                break
        return Page(found, cursor)

    def movements_page(self, sku: Sku, limit: int, cursor: str | None) -> Page:
        """The SKU's movements in time order, its shards' ledgers merged in."""
        rows, next_cursor = fanned_page(
            lambda key, after, count: MovementRecord.query(
                key, MovementRecord.movement_id >= after if after else None, limit=count),
            [ledger(sku.sku_id, b) for b in range(sku.stock_shards + 1)], "movement_id", "sku_id", limit, cursor,
            descending=False)
        return Page([_movement_from(r) for r in rows], next_cursor)

    def all_movements(self, sku_id: str) -> list[int]:
        record = SkuRecord.get(sku_id, consistent_read=True)
        return [int(r.delta) for b in range(int(record.stock_shards or 0) + 1)
                for r in MovementRecord.query(ledger(sku_id, b), consistent_read=True)]
