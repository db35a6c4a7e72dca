"""The stock ledger in DynamoDB. Every change of a bucket's `available` (the SKU item is bucket 0,
its shards 1..N; see domain.stock_shards) is a conditional update plus a movement in the same
transaction, so a SKU's ledgers always sum to its stock."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from ..domain.model import ORDER_RESERVED, RETURNED, TAKES_A_UNIT, Sku
from ..domain.stock_shards import Shares, adjustment_changes, gathering, pick_shard, spread_evenly
from ..service_layer.ports import Page
from ..service_layer.tags import ItemTag, Tag
from .dynamo import batch_get_many, fanned_page, spread, spread_keys, stamp, stored_time
from .unit_of_work import UnitOfWork, held_back
from .stock_records import (INVENTORY_SHARDS, MovementRecord, SkuRecord, StockShardRecord, bucket_item, ledger,
                            movement_from, with_shards)


class StockLedger:
    def _movement(self, uow: UnitOfWork, ledger_id: str, delta: int, reason: str, at: datetime,
                  actor: str | None = None, order_id: str | None = None, tag: str | None = None) -> None:
        uow.put(MovementRecord(sku_id=ledger_id, movement_id=stamp(at), delta=delta, reason=reason,
                               actor=actor, order_id=order_id, at=stored_time(at)),
                condition=MovementRecord.movement_id.does_not_exist(), tag=tag or ItemTag.MOVEMENT.of(ledger_id))

    def _line_movement(self, uow: UnitOfWork, sku_id: str, shares: Shares, delta: int, reason: str, at: datetime,
                       order_id: str | None = None, tag: str | None = None) -> None:
        """One movement per order line: in its bucket's ledger (a hot SKU's sales spread with its
        shards), or the SKU's own when the line spans buckets (rare: it keeps transactions small).
        A ledger is as hot as its bucket (one partition each, a write per sale): a reservation's
        movement carries its bucket's tag, so that its throttle reads as the bucket's."""
        where = ledger(sku_id, next(iter(shares))) if len(shares) == 1 else sku_id
        self._movement(uow, where, delta, reason, at, order_id=order_id, tag=tag)

    def _move(self, uow: UnitOfWork, sku_id: str, bucket: int, free: int, reserved: int, sold: int,
              condition: Any, tag: str) -> None:
        """One bucket's counts change together, under `condition(model)`."""
        record, model = bucket_item(sku_id, bucket)
        actions = [getattr(model, name).add(by) for name, by in
                   (("available", free), ("reserved", reserved), ("sold", sold)) if by]
        uow.update(record, actions, condition=condition(model), tag=tag)

    def add_sku(self, uow: UnitOfWork, sku: Sku, at: datetime, actor: str, listed: bool = True) -> None:
        """A new SKU, not sharded: a large one is split afterwards (`split`), so that a product
        with many SKUs still fits one transaction. One not `listed` stays out of the back
        office's stock list (a coupon's count of claims left)."""
        uow.put(SkuRecord(
            sku_id=sku.sku_id, product_id=sku.product_id, name=sku.name, price=sku.price,
            available=sku.available, reserved=0, sold=0, low_stock_threshold=sku.low_stock_threshold,
            session_start=stored_time(sku.session.start) if sku.session else None,
            session_end=stored_time(sku.session.end) if sku.session else None,
            valid_from=stored_time(sku.valid_from), valid_until=stored_time(sku.valid_until),
            attributes=sku.attributes, inventory=spread("sku", sku.sku_id, INVENTORY_SHARDS) if listed else None),
            condition=SkuRecord.sku_id.does_not_exist(), tag=ItemTag.SKU.of(sku.sku_id))
        if sku.available:
            self._movement(uow, sku.sku_id, sku.available, "initial_stock", at, actor=actor)

    def split(self, uow: UnitOfWork, sku: Sku, shards: int, leave: int = 0) -> None:
        """Spreads the SKU's free units evenly over `shards` shard items (more than it had). A first
        split moves what was read less `leave` out of the SKU item, conditional on its still
        holding that much (orders taking units meanwhile, up to `leave`, do not refuse it); a
        further split, conditional on every bucket still holding what was read. The total does not
        change, so no movement; units that orders hold stay where they are."""
        assert sku.free_by_bucket is not None or not sku.sharded
        free = sku.free_by_bucket or {0: sku.available}
        moved = sku.available - (0 if sku.sharded else leave)
        target = spread_evenly(moved, list(range(1, shards + 1)))
        tag = ItemTag.SKU.of(sku.sku_id)
        if sku.sharded:
            uow.update(SkuRecord(sku_id=sku.sku_id),
                       [SkuRecord.available.set(0), SkuRecord.stock_shards.set(shards), SkuRecord.transfers.add(1)],
                       condition=(SkuRecord.available == free[0]) & (SkuRecord.stock_shards == sku.stock_shards)
                       & SkuRecord.cancelled.does_not_exist(), tag=tag)
        else:       # a cancelled session is never split: its shards would be unflagged
            uow.update(SkuRecord(sku_id=sku.sku_id),
                       [SkuRecord.available.add(-moved), SkuRecord.stock_shards.set(shards), SkuRecord.transfers.add(1)],
                       condition=(SkuRecord.available >= moved) & SkuRecord.stock_shards.does_not_exist()
                       & SkuRecord.cancelled.does_not_exist(), tag=tag)
        for bucket in range(1, shards + 1):
            if bucket in free:
                uow.update(StockShardRecord(shard_id=ledger(sku.sku_id, bucket)),
                           [StockShardRecord.available.set(target[bucket])],
                           condition=StockShardRecord.available == free[bucket], tag=tag)
            else:
                uow.put(StockShardRecord(shard_id=ledger(sku.sku_id, bucket), sku_id=sku.sku_id,
                                         available=target[bucket], reserved=0, sold=0),
                        condition=StockShardRecord.shard_id.does_not_exist(), tag=tag)

    def adjust(self, uow: UnitOfWork, sku: Sku, delta: int, reason: str, at: datetime, actor: str,
               spread_out: bool = True) -> None:
        """A conditional add, never below zero; one movement. A sharded SKU receives units spread
        over its shards (or in one, `spread_out=False`), and gives them up from the buckets that
        hold them as read."""
        for bucket, change in adjustment_changes(sku, delta, spread_out).items():
            self._move(uow, sku.sku_id, bucket, change, 0, 0,
                       lambda m, change=change: m.available >= -change if change < 0 else m.available.exists(),
                       ItemTag.SKU.of(sku.sku_id))
        self._movement(uow, sku.sku_id, delta, reason, at, actor=actor)

    def count(self, uow: UnitOfWork, sku: Sku, counted: int, reason: str, at: datetime, actor: str) -> None:
        """A stocktake line. An unsharded SKU is set to `counted` only if nothing moved since it
        was read. A sharded one sells too fast to wait for a quiet moment: the difference found
        is applied like an adjustment (what it gains to one shard, so that a stocktake of many
        SKUs stays one transaction), and sales made meanwhile still count."""
        if sku.sharded:
            if counted != sku.available:
                self.adjust(uow, sku, counted - sku.available, reason, at, actor, spread_out=False)
            return
        uow.update(SkuRecord(sku_id=sku.sku_id), [SkuRecord.available.set(counted)],
                   condition=SkuRecord.available == sku.available, tag=ItemTag.SKU.of(sku.sku_id))
        if counted != sku.available:
            self._movement(uow, sku.sku_id, counted - sku.available, reason, at, actor=actor)

    def reserve(self, uow: UnitOfWork, sku: Sku, quantity: int, order_id: str, at: datetime,
                planned: Shares | None = None) -> Shares:
        """Takes `quantity` free units for an order; returns where from (empty: the SKU item).
        A sharded SKU's order tries one shard at random without reading; when that shard is short,
        the caller reads every bucket and passes the `planned` split. Shard refusals are tagged
        `shard:`."""
        if sku.sharded:
            shares, tag = planned or {self._cool_shard(sku): quantity}, ItemTag.SHARD.of(sku.sku_id)
        else:
            shares, tag = {0: quantity}, ItemTag.SKU.of(sku.sku_id)
        for bucket, units in shares.items():
            # A cancelled session refuses every reservation in the write itself, whatever was read.
            self._move(uow, sku.sku_id, bucket, -units, units, 0,
                       lambda m, units=units: (m.available >= units) & m.cancelled.does_not_exist(), tag)
        self._line_movement(uow, sku.sku_id, shares, -quantity, ORDER_RESERVED, at, order_id, tag=tag)
        return dict(shares) if sku.sharded else {}

    @staticmethod
    def _cool_shard(sku: Sku) -> int:
        """A shard at random, among those this process is not holding writes back from (a shard
        throttled moments ago), so that an order does not wait on the one hot shard of many."""
        cool = [b for b in range(1, sku.stock_shards + 1) if not held_back(bucket_item(sku.sku_id, b)[0])]
        return cool[pick_shard(len(cool)) - 1] if cool else pick_shard(sku.stock_shards)

    def gather(self, uow: UnitOfWork, sku: Sku, quantity: int) -> None:
        """Brings `quantity` free units of a sharded SKU together in bucket 0, from the fullest
        shards, conditional on each holding what was read: an order or a stocktake then takes
        them from one item instead of touching dozens in its own transaction. The total does not
        change, so no movement."""
        taken = gathering(sku, quantity)
        for bucket, units in taken.items():
            self._move(uow, sku.sku_id, bucket, -units, 0, 0, lambda m, units=units: m.available >= units,
                       ItemTag.SKU.of(sku.sku_id))
        if taken:
            uow.update(SkuRecord(sku_id=sku.sku_id),
                       [SkuRecord.available.add(sum(taken.values())), SkuRecord.transfers.add(1)],
                       condition=SkuRecord.sku_id.exists(), tag=ItemTag.SKU.of(sku.sku_id))

    def sell(self, uow: UnitOfWork, sku_id: str, shares: Shares) -> None:
        """Payment turns reserved units into sold ones where they were reserved; `available` does
        not move, so no movement."""
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, 0, -units, units, lambda m, units=units: m.reserved >= units,
                       ItemTag.SKU.of(sku_id))

    def give_back_sold(self, uow: UnitOfWork, sku_id: str, shares: Shares, refund_id: str, at: datetime) -> None:
        """A refund returns sold units to sale, once (the caller's transaction is conditional on
        the refund's state), to the buckets its line's units were sold from. A shard is not held
        to `sold >= units`: its own count may be off by what a lagging read of earlier refunds
        missed (see refund_settlement), while the SKU's sum stays exact."""
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, units, 0, -units,
                       (lambda m, units=units: m.sold >= units) if bucket == 0 else (lambda m: m.sold.exists()),
                       ItemTag.SKU.of(sku_id))
        self._line_movement(uow, sku_id, shares, sum(shares.values()), f"refunded {refund_id}", at)

    def return_sold(self, uow: UnitOfWork, sku_id: str, shares: Shares, order_id: str, at: datetime) -> None:
        """Goods a customer sent back go on sale again (an after-sale received with restock):
        available +n, sold -n, movement reason `return` naming the order; held as `give_back_sold`
        is (the SKU item to `sold >= units`, a shard to exist)."""
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, units, 0, -units,
                       (lambda m, units=units: m.sold >= units) if bucket == 0 else (lambda m: m.sold.exists()),
                       ItemTag.SKU.of(sku_id))
        self._line_movement(uow, sku_id, shares, sum(shares.values()), RETURNED, at, order_id)

    def release(self, uow: UnitOfWork, sku_id: str, shares: Shares, order_id: str, reason: str,
                at: datetime) -> None:
        for bucket, units in shares.items():
            self._move(uow, sku_id, bucket, units, -units, 0, lambda m, units=units: m.reserved >= units,
                       ItemTag.SKU.of(sku_id))
        self._line_movement(uow, sku_id, shares, sum(shares.values()), reason, at, order_id)

    def sell_unit(self, uow: UnitOfWork, sku_id: str, bucket: int, order_id: str, reason: str, at: datetime) -> None:
        """One free unit sold outright (a ticket moved here from another session), never below
        zero: taken from `bucket`, counted sold on the SKU item (bucket 0), where a refund of it
        gives it back (see refund_settlement: a SKU not among the order's lines returns there)."""
        tag = ItemTag.SKU.of(sku_id)
        # A cancelled session takes no ticket in, whatever was read (as a reservation).
        self._move(uow, sku_id, bucket, -1, 0, 1 if bucket == 0 else 0,
                   lambda m: (m.available >= 1) & m.cancelled.does_not_exist(), tag)
        if bucket != 0:
            self._move(uow, sku_id, 0, 0, 0, 1, lambda m: m.available.exists(), tag)
        self._line_movement(uow, sku_id, {bucket: 1}, -1, reason, at, order_id)

    def unsell_unit(self, uow: UnitOfWork, sku_id: str, bucket: int, order_id: str, reason: str,
                    at: datetime) -> None:
        """One sold unit back on sale (a ticket moved away to another session), in `bucket`; held
        to `sold >= 1` on the SKU item, a shard only to exist (as `give_back_sold`)."""
        self._move(uow, sku_id, bucket, 1, 0, -1,
                   (lambda m: m.sold >= 1) if bucket == 0 else (lambda m: m.sold.exists()), ItemTag.SKU.of(sku_id))
        self._line_movement(uow, sku_id, {bucket: 1}, 1, reason, at, order_id)

    def cancel_sale(self, uow: UnitOfWork, sku: Sku, reason: str, tag: str) -> None:
        """Sales of a cancelled session stop in this write: the SKU and each of its shards (as
        read: the condition on `stock_shards` refuses it if a split came in between) are flagged,
        which every reservation's condition refuses. At most 96 shards + the SKU: the caller adds
        its own record and audit entry and stays within 100 items."""
        shards = SkuRecord.stock_shards == sku.stock_shards if sku.sharded else SkuRecord.stock_shards.does_not_exist()
        uow.update(SkuRecord(sku_id=sku.sku_id), [SkuRecord.cancelled.set(True), SkuRecord.cancel_reason.set(reason)],
                   condition=SkuRecord.sku_id.exists() & SkuRecord.cancelled.does_not_exist() & shards, tag=tag)
        for bucket in range(1, sku.stock_shards + 1):
            uow.update(StockShardRecord(shard_id=ledger(sku.sku_id, bucket)), [StockShardRecord.cancelled.set(True)],
                       condition=StockShardRecord.shard_id.exists(), tag=tag)

    def reservations_page(self, sku_id: str, bucket: int, after: str | None, limit: int
                          ) -> tuple[list[tuple[str, str]], str | None]:
        """One page of a bucket's ledger (a Query, in time order, strongly consistent): the
        (movement_id, order_id) of each reservation in it, and where the next page starts (None:
        the ledger is read to its end). Every order that ever held a unit of the bucket reserved it
        here: this is how a session's orders are found without a Scan."""
        rows = MovementRecord.query(ledger(sku_id, bucket), MovementRecord.movement_id > after if after else None,
                                    limit=limit, consistent_read=True)
        found: list[tuple[str, str]] = []
        last = None
        for row in rows:
            last = row.movement_id
            if row.order_id and int(row.delta) < 0 and row.reason in TAKES_A_UNIT:
                found.append((row.movement_id, row.order_id))
        return found, (last if rows.last_evaluated_key else None)

    def latch_low_stock(self, uow: UnitOfWork, sku: Sku) -> None:
        """Set once per crossing: only a SKU not yet alerted, and (unsharded) below its threshold.
        No item holds a sharded SKU's total, and its shards move with every sale: the caller's
        reading decides, and the caller reads again afterwards (see alerts.check_low_stock)."""
        condition = SkuRecord.low_stock_alerted.does_not_exist()
        if not sku.sharded:
            condition &= SkuRecord.available < SkuRecord.low_stock_threshold
        uow.update(SkuRecord(sku_id=sku.sku_id), [SkuRecord.low_stock_alerted.set(True)], condition=condition,
                   tag=Tag.LATCH)

    def rearm_low_stock(self, uow: UnitOfWork, sku: Sku) -> None:
        condition = SkuRecord.low_stock_alerted.exists()
        if not sku.sharded:
            condition &= SkuRecord.available >= SkuRecord.low_stock_threshold
        uow.update(SkuRecord(sku_id=sku.sku_id), [SkuRecord.low_stock_alerted.remove()], condition=condition,
                   tag=Tag.LATCH)

    def skus(self, sku_ids: Iterable[str]) -> dict[str, Sku]:
        """SKUs whole, sharded ones with every bucket summed (see `with_shards`)."""
        return with_shards(batch_get_many(SkuRecord, sku_ids))

    def inventory_page(self, limit: int, cursor: str | None, below_threshold: bool) -> Page:
        """A page of the stock list, by SKU id. The index holds keys only; the SKUs are read
        whole, and `below_threshold` keeps those under their threshold, reading further pages
        of the index (a bounded number) to fill this one."""
        found: list[Sku] = []
        for _ in range(10):
            rows, cursor = fanned_page(
                lambda key, after, count: SkuRecord.inventory_index.query(
                    key, SkuRecord.sku_id > after if after else None, limit=count),
                spread_keys("sku", INVENTORY_SHARDS), "sku_id", limit - len(found), cursor,
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
                key, MovementRecord.movement_id > after if after else None, limit=count),
            [ledger(sku.sku_id, b) for b in range(sku.stock_shards + 1)], "movement_id", limit, cursor,
            descending=False)
        return Page([movement_from(r) for r in rows], next_cursor)

    def all_movements(self, sku_id: str) -> list[int]:
        record = SkuRecord.get(sku_id, consistent_read=True)
        return [int(r.delta) for b in range(int(record.stock_shards or 0) + 1)
                for r in MovementRecord.query(ledger(sku_id, b), consistent_read=True)]
