"""SKUs (the unit of stock) and their movement ledger in DynamoDB. Every change of a SKU's
`available` is a conditional update plus a movement in the same transaction, so the ledger of a
SKU always sums to its stock."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.model import Session, Sku, StockMovement
from ..service_layer.ports import Page
from .dynamo import UnitOfWork, batch_get_many, page_of, read_time, stamp, stored_time, table_meta


class InventoryIndex(GlobalSecondaryIndex["SkuRecord"]):
    """Every SKU of the venue under one key, for the back office's stock list. A venue has
    thousands of SKUs at most, well inside one partition's throughput."""
    class Meta:
        index_name = "inventory-index"
        projection = AllProjection()
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
    inventory = UnicodeAttribute(default="sku")
    inventory_index = InventoryIndex()


class MovementRecord(Model):
    """The stock ledger: one item per change of `available`, written in the same transaction."""
    Meta = table_meta("movements")
    sku_id = UnicodeAttribute(hash_key=True)
    movement_id = UnicodeAttribute(range_key=True)   # <UTC time>#<random>: sorts by time
    delta = NumberAttribute()
    reason = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    at = UnicodeAttribute()


def sku_from(record: SkuRecord) -> Sku:
    session = None
    if record.session_start and record.session_end:
        session = Session(timeutil.from_storage(record.session_start), timeutil.from_storage(record.session_end))
    return Sku(sku_id=record.sku_id, product_id=record.product_id, name=record.name, price=int(record.price),
               available=int(record.available), reserved=int(record.reserved or 0), sold=int(record.sold or 0),
               low_stock_threshold=int(record.low_stock_threshold or 0), session=session,
               valid_from=read_time(record.valid_from), valid_until=read_time(record.valid_until),
               attributes=dict(record.attributes.as_dict() if record.attributes else {}))


def _movement_from(record: MovementRecord) -> StockMovement:
    return StockMovement(delta=int(record.delta), reason=record.reason, at=timeutil.from_storage(record.at),
                         actor=record.actor, order_id=record.order_id)


class StockLedger:
    def _movement(self, uow: UnitOfWork, sku_id: str, delta: int, reason: str, at: datetime,
                  actor: str | None = None, order_id: str | None = None) -> None:
        uow.put(MovementRecord(sku_id=sku_id, movement_id=stamp(at), delta=delta, reason=reason,
                               actor=actor, order_id=order_id, at=stored_time(at)),
                condition=MovementRecord.movement_id.does_not_exist(), tag=f"movement:{sku_id}")

    def add_sku(self, uow: UnitOfWork, sku: Sku, at: datetime, actor: str) -> None:
        uow.put(SkuRecord(
            sku_id=sku.sku_id, product_id=sku.product_id, name=sku.name, price=sku.price,
            available=sku.available, reserved=0, sold=0, low_stock_threshold=sku.low_stock_threshold,
            session_start=stored_time(sku.session.start) if sku.session else None,
            session_end=stored_time(sku.session.end) if sku.session else None,
            valid_from=stored_time(sku.valid_from), valid_until=stored_time(sku.valid_until),
            attributes=sku.attributes),
            condition=SkuRecord.sku_id.does_not_exist(), tag=f"sku:{sku.sku_id}")
        if sku.available:
            self._movement(uow, sku.sku_id, sku.available, "initial_stock", at, actor=actor)

    def adjust(self, uow: UnitOfWork, sku_id: str, delta: int, reason: str, at: datetime, actor: str) -> None:
        condition = SkuRecord.sku_id.exists()
        if delta < 0:
            condition &= SkuRecord.available >= -delta
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.available.add(delta)], condition=condition,
                   tag=f"sku:{sku_id}")
        self._movement(uow, sku_id, delta, reason, at, actor=actor)

    def count(self, uow: UnitOfWork, sku_id: str, expected: int, counted: int, reason: str, at: datetime,
              actor: str) -> None:
        """A stocktake line: applies only if nothing moved since `expected` was read."""
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.available.set(counted)],
                   condition=SkuRecord.available == expected, tag=f"sku:{sku_id}")
        if counted != expected:
            self._movement(uow, sku_id, counted - expected, reason, at, actor=actor)

    def reserve(self, uow: UnitOfWork, sku_id: str, quantity: int, order_id: str, at: datetime) -> None:
        uow.update(SkuRecord(sku_id=sku_id),
                   [SkuRecord.available.add(-quantity), SkuRecord.reserved.add(quantity)],
                   condition=SkuRecord.sku_id.exists() & (SkuRecord.available >= quantity),
                   tag=f"sku:{sku_id}")
        self._movement(uow, sku_id, -quantity, "order_reserved", at, order_id=order_id)

    def sell(self, uow: UnitOfWork, sku_id: str, quantity: int) -> None:
        """Payment turns reserved units into sold ones; `available` does not move, so no movement."""
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.reserved.add(-quantity), SkuRecord.sold.add(quantity)],
                   condition=SkuRecord.reserved >= quantity, tag=f"sku:{sku_id}")

    def give_back_sold(self, uow: UnitOfWork, sku_id: str, quantity: int, refund_id: str, at: datetime) -> None:
        """A refund returns sold units to sale, once: the caller's transaction is conditional on
        the refund's state."""
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.available.add(quantity), SkuRecord.sold.add(-quantity)],
                   condition=SkuRecord.sold >= quantity, tag=f"sku:{sku_id}")
        self._movement(uow, sku_id, quantity, f"refunded {refund_id}", at)

    def release(self, uow: UnitOfWork, sku_id: str, quantity: int, order_id: str, reason: str,
                at: datetime) -> None:
        uow.update(SkuRecord(sku_id=sku_id),
                   [SkuRecord.available.add(quantity), SkuRecord.reserved.add(-quantity)],
                   condition=SkuRecord.reserved >= quantity, tag=f"sku:{sku_id}")
        self._movement(uow, sku_id, quantity, reason, at, order_id=order_id)

    def latch_low_stock(self, uow: UnitOfWork, sku_id: str) -> None:
        """Set once per crossing: only a SKU below its threshold and not yet alerted."""
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.low_stock_alerted.set(True)],
                   condition=(SkuRecord.available < SkuRecord.low_stock_threshold)
                   & SkuRecord.low_stock_alerted.does_not_exist(), tag="latch")

    def rearm_low_stock(self, uow: UnitOfWork, sku_id: str) -> None:
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.low_stock_alerted.remove()],
                   condition=(SkuRecord.available >= SkuRecord.low_stock_threshold)
                   & SkuRecord.low_stock_alerted.exists(), tag="latch")

    def skus(self, sku_ids: Iterable[str]) -> dict[str, Sku]:
        return {k: sku_from(v) for k, v in batch_get_many(SkuRecord, sku_ids).items()}

    def inventory_page(self, limit: int, cursor: str | None, below_threshold: bool) -> Page:
        condition = SkuRecord.available < SkuRecord.low_stock_threshold if below_threshold else None
        return page_of(lambda start: SkuRecord.inventory_index.query(
            "sku", filter_condition=condition, limit=limit, last_evaluated_key=start),
            cursor, {"sku_id", "inventory"}, sku_from)

    def movements_page(self, sku_id: str, limit: int, cursor: str | None) -> Page:
        return page_of(lambda start: MovementRecord.query(sku_id, limit=limit, last_evaluated_key=start),
                       cursor, {"sku_id", "movement_id"}, _movement_from, pinned={"sku_id": sku_id})

    def all_movements(self, sku_id: str) -> list[int]:
        return [int(r.delta) for r in MovementRecord.query(sku_id, consistent_read=True)]
