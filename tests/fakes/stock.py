"""Stock in buckets, as `adapters.stock_ledger.StockLedger` keeps it: the SKU item is bucket 0, a
hot SKU's shards buckets 1..N; every change of a bucket is conditional and tagged `sku:<id>` (an
order's blind pick of a shard `shard:<id>`), with a movement in the same transaction, so that a
SKU's ledgers always sum to its stock; the low-stock latch is tagged "latch"."""
from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from chalicelib.domain.model import ORDER_RESERVED, RETURNED, TAKES_A_UNIT, Sku, StockMovement
from chalicelib.domain.stock_shards import Shares, adjustment_changes, gathering, pick_shard, spread_evenly
from chalicelib.domain.timeutil import to_storage
from chalicelib.service_layer.ports import Page
from chalicelib.service_layer.tags import ItemTag, Tag

from . import paging
from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent

SKUS, SHARDS, MOVEMENTS = "skus", "stock-shards", "movements"


@dataclass
class Bucket:
    """A shard item's counts (bucket 0's live on the SKU itself)."""
    sku_id: str
    available: int = 0
    reserved: int = 0
    sold: int = 0
    cancelled: bool = False


def ledger(sku_id: str, bucket: int) -> str:
    return sku_id if bucket == 0 else f"{sku_id}#{bucket}"


class FakeStock:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.unlisted: set[str] = set()      # stock items kept out of staff's stock list

    # ------------------------------------------------------------------ plumbing
    def _movement(self, uow: FakeUnitOfWork, ledger_id: str, delta: int, reason: str, at: datetime,
                  actor: str | None = None, order_id: str | None = None, tag: str | None = None) -> None:
        movement = StockMovement(delta=delta, reason=reason, at=at, actor=actor, order_id=order_id)
        uow.add(MOVEMENTS, (ledger_id, f"{to_storage(at)}#{secrets.token_hex(4)}"),
                tag or ItemTag.MOVEMENT.of(ledger_id), absent, lambda _: movement)

    def _line_movement(self, uow: FakeUnitOfWork, sku_id: str, shares: Shares, delta: int, reason: str,
                       at: datetime, order_id: str | None = None, tag: str | None = None) -> None:
        where = ledger(sku_id, next(iter(shares))) if len(shares) == 1 else sku_id
        self._movement(uow, where, delta, reason, at, order_id=order_id, tag=tag)

    def _move(self, uow: FakeUnitOfWork, sku_id: str, bucket: int, free: int, reserved: int, sold: int,
              condition: Callable[[Any], bool], tag: str) -> None:
        """One bucket's counts change together under `condition(item)`. Every such condition
        names an attribute of the bucket, so a bucket that is not there refuses it."""
        table, key = (SKUS, sku_id) if bucket == 0 else (SHARDS, ledger(sku_id, bucket))

        def apply(item: Any) -> Any:
            item.available += free
            item.reserved += reserved
            item.sold += sold
            return item
        uow.add(table, key, tag, lambda item: item is not None and condition(item), apply)

    # ------------------------------------------------------------------ writes
    def add_sku(self, uow: FakeUnitOfWork, sku: Sku, at: datetime, actor: str, listed: bool = True) -> None:
        stored = dataclasses.replace(sku, reserved=0, sold=0, stock_shards=0, free_by_bucket=None,
                                     low_stock_alerted=False, attributes=dict(sku.attributes))
        def apply(_: Any) -> Sku:
            if not listed:
                self.unlisted.add(sku.sku_id)
            return stored
        uow.add(SKUS, sku.sku_id, ItemTag.SKU.of(sku.sku_id), absent, apply)
        if sku.available:
            self._movement(uow, sku.sku_id, sku.available, "initial_stock", at, actor=actor)

    def split(self, uow: FakeUnitOfWork, sku: Sku, shards: int, leave: int = 0) -> None:
        assert sku.free_by_bucket is not None or not sku.sharded
        free = sku.free_by_bucket or {0: sku.available}
        moved = sku.available - (0 if sku.sharded else leave)
        target = spread_evenly(moved, list(range(1, shards + 1)))
        tag = ItemTag.SKU.of(sku.sku_id)

        def unchanged(item: Sku | None) -> bool:
            if item is not None and item.cancelled:
                return False
            if sku.sharded:
                return item is not None and item.available == free[0] and item.stock_shards == sku.stock_shards
            return item is not None and item.available >= moved and not item.stock_shards

        def apply_sku(item: Sku | None) -> Sku:
            assert item is not None
            item.available = 0 if sku.sharded else item.available - moved
            item.stock_shards = shards
            return item
        uow.add(SKUS, sku.sku_id, tag, unchanged, apply_sku)
        for bucket in range(1, shards + 1):
            key = ledger(sku.sku_id, bucket)
            if bucket in free:
                def apply_shard(item: Bucket | None, units: int = target[bucket]) -> Bucket:
                    assert item is not None
                    item.available = units
                    return item
                uow.add(SHARDS, key, tag, lambda item, was=free[bucket]: item is not None and item.available == was,
                        apply_shard)
            else:
                uow.add(SHARDS, key, tag, absent, lambda _, units=target[bucket]: Bucket(sku.sku_id, units))

    def adjust(self, uow: FakeUnitOfWork, sku: Sku, delta: int, reason: str, at: datetime, actor: str,
               spread_out: bool = True) -> None:
        for bucket, change in adjustment_changes(sku, delta, spread_out).items():
            self._move(uow, sku.sku_id, bucket, change, 0, 0,
                       (lambda item, change=change: item.available >= -change) if change < 0 else (lambda item: True),
                       ItemTag.SKU.of(sku.sku_id))
        self._movement(uow, sku.sku_id, delta, reason, at, actor=actor)

    def count(self, uow: FakeUnitOfWork, sku: Sku, counted: int, reason: str, at: datetime, actor: str) -> None:
        if sku.sharded:
            if counted != sku.available:
                self.adjust(uow, sku, counted - sku.available, reason, at, actor, spread_out=False)
            return

        def apply(item: Sku | None) -> Sku:
            assert item is not None
            item.available = counted
            return item
        uow.add(SKUS, sku.sku_id, ItemTag.SKU.of(sku.sku_id),
                lambda item: item is not None and item.available == sku.available, apply)
        if counted != sku.available:
            self._movement(uow, sku.sku_id, counted - sku.available, reason, at, actor=actor)

    def reserve(self, uow: FakeUnitOfWork, sku: Sku, quantity: int, order_id: str, at: datetime,
                planned: Shares | None = None) -> Shares:
        if sku.sharded:
            shares, tag = planned or {pick_shard(sku.stock_shards): quantity}, ItemTag.SHARD.of(sku.sku_id)
        else:
            shares, tag = {0: quantity}, ItemTag.SKU.of(sku.sku_id)
        for bucket, units in shares.items():
            self._move(uow, sku.sku_id, bucket, -units, units, 0,
                       lambda item, units=units: item.available >= units and not item.cancelled, tag)
        self._line_movement(uow, sku.sku_id, shares, -quantity, ORDER_RESERVED, at, order_id, tag=tag)
        return dict(shares) if sku.sharded else {}

    def gather(self, uow: FakeUnitOfWork, sku: Sku, quantity: int) -> None:
        taken = gathering(sku, quantity)
        for bucket, units in taken.items():
            self._move(uow, sku.sku_id, bucket, -units, 0, 0, lambda item, units=units: item.available >= units,
                       ItemTag.SKU.of(sku.sku_id))
        if taken:
            self._move(uow, sku.sku_id, 0, sum(taken.values()), 0, 0, lambda item: True, ItemTag.SKU.of(sku.sku_id))

    def sell(self, uow: FakeUnitOfWork, sku_id: str, shares: Shares) -> None:
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, 0, -units, units, lambda item, units=units: item.reserved >= units,
                       ItemTag.SKU.of(sku_id))

    def give_back_sold(self, uow: FakeUnitOfWork, sku_id: str, shares: Shares, refund_id: str, at: datetime) -> None:
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, units, 0, -units,
                       (lambda item, units=units: item.sold >= units) if bucket == 0 else (lambda item: True),
                       ItemTag.SKU.of(sku_id))
        self._line_movement(uow, sku_id, shares, sum(shares.values()), f"refunded {refund_id}", at)

    def return_sold(self, uow: FakeUnitOfWork, sku_id: str, shares: Shares, order_id: str, at: datetime) -> None:
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, units, 0, -units,
                       (lambda item, units=units: item.sold >= units) if bucket == 0 else (lambda item: True),
                       ItemTag.SKU.of(sku_id))
        self._line_movement(uow, sku_id, shares, sum(shares.values()), RETURNED, at, order_id)

    def release(self, uow: FakeUnitOfWork, sku_id: str, shares: Shares, order_id: str, reason: str,
                at: datetime) -> None:
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, units, -units, 0, lambda item, units=units: item.reserved >= units,
                       ItemTag.SKU.of(sku_id))
        self._line_movement(uow, sku_id, shares, sum(shares.values()), reason, at, order_id)

    def sell_unit(self, uow: FakeUnitOfWork, sku_id: str, bucket: int, order_id: str, reason: str,
                  at: datetime) -> None:
        tag = ItemTag.SKU.of(sku_id)
        self._move(uow, sku_id, bucket, -1, 0, 1 if bucket == 0 else 0,
                   lambda item: item.available >= 1 and not item.cancelled, tag)
        if bucket != 0:
            self._move(uow, sku_id, 0, 0, 0, 1, lambda item: True, tag)
        self._line_movement(uow, sku_id, {bucket: 1}, -1, reason, at, order_id)

    def unsell_unit(self, uow: FakeUnitOfWork, sku_id: str, bucket: int, order_id: str, reason: str,
                    at: datetime) -> None:
        self._move(uow, sku_id, bucket, 1, 0, -1,
                   (lambda item: item.sold >= 1) if bucket == 0 else (lambda item: True), ItemTag.SKU.of(sku_id))
        self._line_movement(uow, sku_id, {bucket: 1}, 1, reason, at, order_id)

    def cancel_sale(self, uow: FakeUnitOfWork, sku: Sku, reason: str, tag: str) -> None:
        def apply_sku(item: Sku | None) -> Sku:
            assert item is not None
            item.cancelled, item.cancel_reason = True, reason
            return item

        def apply_shard(item: Bucket | None) -> Bucket:
            assert item is not None
            item.cancelled = True
            return item
        uow.add(SKUS, sku.sku_id, tag, lambda item: item is not None and not item.cancelled
                and item.stock_shards == sku.stock_shards, apply_sku)
        for bucket in range(1, sku.stock_shards + 1):
            uow.add(SHARDS, ledger(sku.sku_id, bucket), tag, lambda item: item is not None, apply_shard)

    def reservations_page(self, sku_id: str, bucket: int, after: str | None, limit: int
                          ) -> tuple[list[tuple[str, str]], str | None]:
        where = ledger(sku_id, bucket)
        rows = sorted((movement_id, m) for (at, movement_id), m in self.db.table(MOVEMENTS).items()
                      if at == where and (after is None or movement_id > after))[:limit]
        found = [(movement_id, m.order_id) for movement_id, m in rows
                 if m.order_id and m.delta < 0 and m.reason in TAKES_A_UNIT]
        return found, (rows[-1][0] if len(rows) == limit else None)

    def _latch(self, uow: FakeUnitOfWork, sku: Sku, condition: Callable[[Sku], bool], alerted: bool) -> None:
        def apply(item: Sku | None) -> Sku:
            assert item is not None
            item.low_stock_alerted = alerted
            return item
        uow.add(SKUS, sku.sku_id, Tag.LATCH, lambda item: item is not None and condition(item), apply)

    def latch_low_stock(self, uow: FakeUnitOfWork, sku: Sku) -> None:
        """Once per crossing; an unsharded SKU only while its stored stock is below its threshold."""
        self._latch(uow, sku, lambda item: not item.low_stock_alerted and (
            sku.sharded or item.available < item.low_stock_threshold), True)

    def rearm_low_stock(self, uow: FakeUnitOfWork, sku: Sku) -> None:
        self._latch(uow, sku, lambda item: item.low_stock_alerted and (
            sku.sharded or item.available >= item.low_stock_threshold), False)

    # ------------------------------------------------------------------ reads
    def _whole(self, item: Sku) -> Sku:
        """A SKU with every bucket summed (what `stock_records.with_shards` reads)."""
        sku = dataclasses.replace(item, attributes=dict(item.attributes))
        if not item.stock_shards:
            return sku
        free = {0: item.available}
        for bucket in range(1, item.stock_shards + 1):
            shard = self.db.table(SHARDS).get(ledger(item.sku_id, bucket))
            if shard is not None:
                free[bucket] = shard.available
                sku.reserved += shard.reserved
                sku.sold += shard.sold
        sku.available, sku.free_by_bucket = sum(free.values()), free
        return sku

    def partial(self, sku_id: str) -> Sku | None:
        """The SKU item alone, as the order path reads it (a sharded SKU's stock is not known)."""
        item = self.db.table(SKUS).get(sku_id)
        return dataclasses.replace(item, attributes=dict(item.attributes)) if item is not None else None

    def skus(self, sku_ids: Iterable[str]) -> dict[str, Sku]:
        table = self.db.table(SKUS)
        return {s: self._whole(table[s]) for s in dict.fromkeys(sku_ids) if s in table}

    def inventory_page(self, limit: int, cursor: str | None, below_threshold: bool) -> Page:
        skus = [self._whole(s) for s in self.db.table(SKUS).values() if s.sku_id not in self.unlisted]
        return paging.page([s for s in skus if not below_threshold or s.below_threshold], lambda s: s.sku_id,
                           limit, cursor, descending=False)

    def _ledgers(self, sku: Sku) -> list[tuple[str, StockMovement]]:
        ledgers = {ledger(sku.sku_id, b) for b in range(sku.stock_shards + 1)}
        return [(movement_id, m) for (where, movement_id), m in self.db.table(MOVEMENTS).items() if where in ledgers]

    def movements_page(self, sku: Sku, limit: int, cursor: str | None) -> Page:
        return paging.page(self._ledgers(sku), lambda row: row[0], limit, cursor, descending=False,
                           convert=lambda row: dataclasses.replace(row[1]))

    def all_movements(self, sku_id: str) -> list[int]:
        item = self.db.table(SKUS)[sku_id]
        return [m.delta for _, m in self._ledgers(item)]
