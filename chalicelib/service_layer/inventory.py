"""Stock: the back office's list, adjustments, stocktakes (盘点) and the movement ledger."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from ..domain import identifiers
from ..domain.back_office import Alert
from ..domain.commands import Adjustment, StocktakeCount
from ..domain.error_codes import ErrorCode
from ..domain.errors import Conflict, NotFound
from ..domain.model import Sku
from ..domain.principal import Principal
from ..domain.stock_shards import check_shard_count, plan, shards_for_hot_stock
from .alerts import Alerting, notify
from . import ports
from .context import Actor
from .publishing import Publishing, announce_stock_change
from .retrying import attempts
from .tags import ItemTag
from .writes import attempted


class Stocking(Publishing, Protocol):
    @property
    def stock(self) -> ports.StockStore: ...
    @property
    def audit(self) -> ports.AuditTrail: ...
    def unit_of_work(self) -> ports.Writes: ...


@dataclass(frozen=True)
class Stocktake:
    stocktake_id: str
    note: str
    lines: list[dict[str, Any]]          # [{"sku_id", "expected", "counted", "difference"}]

STOCKTAKE_ATTEMPTS = 4
ADJUST_ATTEMPTS = 4


def _require_sku(ctx: Stocking, sku_id: str, claims_left: bool = False) -> Sku:
    """A product's SKU, or with `claims_left` also a coupon's stock item of claims left: a grab
    is split like a hot session, but staff change a coupon's claims only through its total."""
    known = identifiers.product_id_of(sku_id) or (claims_left and identifiers.COUPON_ID.match(sku_id))
    skus = ctx.stock.skus([sku_id]) if known else {}
    if sku_id not in skus:
        raise NotFound(f"SKU {sku_id} does not exist", code=ErrorCode.SKU_NOT_FOUND, sku_id=sku_id)
    return skus[sku_id]


def adjust_stock(ctx: Stocking, actor: Actor, sku_id: str, adjustment: Adjustment) -> int:
    """A conditional add: stock never goes below zero, whatever else runs at the same time. A
    sharded SKU gives units up from the buckets that hold them as read; if a sale took them
    meanwhile, it is read again."""
    for _ in attempts(ADJUST_ATTEMPTS):
        sku = _require_sku(ctx, sku_id)
        if sku.available + adjustment.delta < 0:
            raise _below_zero(sku, adjustment.delta)
        if _gathered(ctx, sku, -adjustment.delta):
            continue                 # the units it gives up were brought into one item: read again
        now = ctx.clock()
        uow = ctx.unit_of_work()
        ctx.stock.adjust(uow, sku, adjustment.delta, adjustment.reason, now, actor.name)
        ctx.audit.record(actor.name, "stock_adjusted", now, target=sku_id, source_ip=actor.source_ip,
                         details={"delta": adjustment.delta, "reason": adjustment.reason}, uow=uow)
        if not attempted(uow, {ItemTag.SKU: None}):
            continue
        announce_stock_change(ctx, [sku_id])
        return _require_sku(ctx, sku_id).available
    sku = _require_sku(ctx, sku_id)
    if sku.available + adjustment.delta < 0:
        raise _below_zero(sku, adjustment.delta)
    raise Conflict("stock kept moving during the adjustment; try again", code=ErrorCode.STOCK_CHANGED)


def _below_zero(sku: Sku, delta: int) -> Conflict:
    return Conflict(f"only {sku.available} available; stock cannot go below zero",
                    code=ErrorCode.NEGATIVE_STOCK, available=sku.available, delta=delta)


def split_stock(ctx: Stocking, actor: Actor, sku_id: str, shards: int, leave_share: float = 0.0,
                attempts_made: int = ADJUST_ATTEMPTS, also: Callable[[ports.Writes], None] | None = None) -> Sku:
    """Splits a SKU's free units over `shards` shard items before a release (or more shards than
    it has): orders then spread their writes over them. Conditional on the buckets holding what
    was read (a first split: at least what it moves, `leave_share` of the free units staying in
    place for the orders racing it); re-read while sales move them. `also` adds writes of the
    caller's to the split's own transaction."""
    for _ in attempts(attempts_made):
        sku = _require_sku(ctx, sku_id, claims_left=True)
        if sku.cancelled:       # no sale to spread; the split's own condition refuses it too
            raise Conflict("this session was cancelled: it is not on sale", code=ErrorCode.INVALID_STATE)
        check_shard_count(shards, sku.stock_shards)
        if shards == sku.stock_shards:
            return sku
        now = ctx.clock()
        uow = ctx.unit_of_work()
        ctx.stock.split(uow, sku, shards, leave=int(sku.available * leave_share))
        ctx.audit.record(actor.name, "stock_split", now, target=sku_id, source_ip=actor.source_ip,
                         details={"shards": shards, "before": sku.stock_shards}, uow=uow)
        if also is not None:
            also(uow)
        if not attempted(uow, {ItemTag.SKU: None}):
            continue
        return _require_sku(ctx, sku_id, claims_left=True)
    raise Conflict("stock kept moving while it was split; try again", code=ErrorCode.STOCK_CHANGED)


HOT_SPLIT_LEAVES = 0.1
HOT_SPLIT_ATTEMPTS = 9


class HotStockSplitting(Stocking, Alerting, Protocol):
    pass


# Splits nobody asked for are the system's, in the audit log as in the alert.
SYSTEM = Actor(Principal("system", "staff", frozenset({"admin"})))


def split_hot_stock(ctx: HotStockSplitting, sku_id: str) -> Sku | None:
    """A session selling faster than its one stock item takes writes (orders were throttled)
    splits itself: its free units go over shards, and staff are told once. Nothing happens to
    a SKU already split (a redelivered or late message) or with too few units to split."""
    sku = ctx.stock.skus([sku_id]).get(sku_id)
    if sku is None or sku.cancelled:
        return None
    shards = shards_for_hot_stock(sku.sharded, sku.available, sku.available + sku.reserved + sku.sold)
    if not shards:
        return None
    # Orders are hammering the very item the split writes: a tenth of the units stays in it, so
    # that orders taking some meanwhile do not refuse it, and it is tried for up to about ten
    # seconds (attempts' doubling pauses) before the message comes back. The alert is written in
    # the split's own transaction: a split is never left untold by a failure in between.
    alert = Alert(alert_id=f"hot-stock-{sku_id}", kind="stock_auto_split", severity="warning",
                  message=f"{sku.name}：下单过于集中，库存已自动拆分为 {shards} 份以承接更多订单",
                  details={"sku_id": sku_id, "shards": shards, "available": sku.available}, created_at=ctx.clock())
    split = split_stock(ctx, SYSTEM, sku_id, shards, leave_share=HOT_SPLIT_LEAVES, attempts_made=HOT_SPLIT_ATTEMPTS,
                        also=lambda uow: ctx.alerts.add(uow, alert))
    notify(ctx, alert)
    return split


def take_stocktake(ctx: Stocking, actor: Actor, counts: list[StocktakeCount], note: str) -> Stocktake:
    """Records expected (as read) against counted and applies the differences in one transaction,
    conditional on each SKU still holding what was read; if a sale moved one in between, the
    stocktake is re-read and retried."""
    for count in counts:
        if not identifiers.product_id_of(count.sku_id):
            raise NotFound(f"SKU {count.sku_id} does not exist", code=ErrorCode.SKU_NOT_FOUND, sku_id=count.sku_id)
    stocktake_id = identifiers.new_reference("ST")
    for _ in attempts(STOCKTAKE_ATTEMPTS):
        skus = ctx.stock.skus(c.sku_id for c in counts)
        for count in counts:
            if count.sku_id not in skus:
                raise NotFound(f"SKU {count.sku_id} does not exist", code=ErrorCode.SKU_NOT_FOUND, sku_id=count.sku_id)
        if _gathered_for_counting(ctx, skus, counts):
            continue                 # a split SKU's missing units were brought into one item: read again
        lines = [{"sku_id": c.sku_id, "expected": skus[c.sku_id].available, "counted": c.counted,
                  "difference": c.counted - skus[c.sku_id].available} for c in counts]
        now = ctx.clock()
        uow = ctx.unit_of_work()
        for line in lines:
            ctx.stock.count(uow, skus[line["sku_id"]], line["counted"], f"stocktake {stocktake_id}", now,
                            actor.name)
        ctx.audit.record(actor.name, "stocktake", now, target=stocktake_id, source_ip=actor.source_ip,
                         details={"note": note, "lines": lines}, uow=uow)
        if not attempted(uow, {ItemTag.SKU: None}):
            continue                 # a sale moved a SKU since it was read: read again
        announce_stock_change(ctx, [c.sku_id for c in counts])
        return Stocktake(stocktake_id, note, lines)
    raise Conflict("stock kept moving during the stocktake; try again", code=ErrorCode.STOCK_CHANGED)


def _gathered_for_counting(ctx: Stocking, skus: dict[str, Sku], counts: list[StocktakeCount]) -> bool:
    """A split SKU counted short gives up units from one bucket at most, so that a stocktake of
    many SKUs stays one transaction."""
    moved = [_gathered(ctx, skus[c.sku_id], skus[c.sku_id].available - c.counted) for c in counts]
    return any(moved)


def _gathered(ctx: Stocking, sku: Sku, units: int) -> bool:
    """Units a split SKU gives up, scattered over its shards (which sales keep moving), are first
    brought into one bucket; True when something was (or was tried to be) moved."""
    if not sku.sharded or units <= 0 or len(plan(units, sku.free_by_bucket or {}) or {}) <= 1:
        return False
    uow = ctx.unit_of_work()
    ctx.stock.gather(uow, sku, units)
    attempted(uow, {ItemTag.SKU: None})
    return True


def inventory_page(ctx: Stocking, limit: int, cursor: str | None, below_threshold: bool) -> ports.Page:
    return ctx.stock.inventory_page(limit, cursor, below_threshold)


def movements_page(ctx: Stocking, sku_id: str, limit: int, cursor: str | None) -> ports.Page:
    return ctx.stock.movements_page(_require_sku(ctx, sku_id), limit, cursor)
