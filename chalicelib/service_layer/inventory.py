"""Stock: the back office's list, adjustments, stocktakes (盘点) and the movement ledger."""
from __future__ import annotations

from typing import Any

from ..adapters.dynamo import TransactionCancelled
from ..adapters.repository import Page
from ..domain import identifiers
from ..domain.commands import Adjustment, StocktakeCount
from ..domain.errors import Conflict, NotFound
from ..domain.model import Sku
from .context import Actor, Context
from .publishing import announce_stock_change

STOCKTAKE_ATTEMPTS = 3


def _require_sku(ctx: Context, sku_id: str) -> Sku:
    skus = ctx.catalog.skus([sku_id]) if identifiers.product_id_of(sku_id) else {}
    if sku_id not in skus:
        raise NotFound(f"SKU {sku_id} does not exist", code="SKU_NOT_FOUND", sku_id=sku_id)
    return skus[sku_id]


def adjust_stock(ctx: Context, actor: Actor, sku_id: str, adjustment: Adjustment) -> dict[str, Any]:
    """A conditional add: stock never goes below zero, whatever else runs at the same time."""
    if not identifiers.product_id_of(sku_id):
        raise NotFound(f"SKU {sku_id} does not exist", code="SKU_NOT_FOUND", sku_id=sku_id)
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.ledger.adjust(uow, sku_id, adjustment.delta, adjustment.reason, now, actor.name)
    ctx.audit.record(actor.name, "stock_adjusted", now, target=sku_id, source_ip=actor.source_ip,
                     details={"delta": adjustment.delta, "reason": adjustment.reason}, uow=uow)
    try:
        uow.commit()
    except TransactionCancelled as cancelled:
        if f"sku:{sku_id}" in cancelled.failed:
            sku = _require_sku(ctx, sku_id)
            raise Conflict(f"only {sku.available} available; stock cannot go below zero",
                           code="NEGATIVE_STOCK", available=sku.available, delta=adjustment.delta) from None
        raise
    announce_stock_change(ctx, [sku_id])
    return {"sku_id": sku_id, "available": _require_sku(ctx, sku_id).available}


def take_stocktake(ctx: Context, actor: Actor, counts: list[StocktakeCount], note: str) -> dict[str, Any]:
    """Records expected (as read) against counted and applies the differences in one transaction,
    conditional on each SKU still holding what was read; if a sale moved one in between, the
    stocktake is re-read and retried."""
    for count in counts:
        if not identifiers.product_id_of(count.sku_id):
            raise NotFound(f"SKU {count.sku_id} does not exist", code="SKU_NOT_FOUND", sku_id=count.sku_id)
    stocktake_id = identifiers.new_reference("ST")
    for _ in range(STOCKTAKE_ATTEMPTS):
        skus = ctx.catalog.skus(c.sku_id for c in counts)
        for count in counts:
            if count.sku_id not in skus:
                raise NotFound(f"SKU {count.sku_id} does not exist", code="SKU_NOT_FOUND", sku_id=count.sku_id)
        lines = [{"sku_id": c.sku_id, "expected": skus[c.sku_id].available, "counted": c.counted,
                  "difference": c.counted - skus[c.sku_id].available} for c in counts]
        now = ctx.clock()
        uow = ctx.unit_of_work()
        for line in lines:
            ctx.ledger.count(uow, line["sku_id"], line["expected"], line["counted"],
                             f"stocktake {stocktake_id}", now, actor.name)
        ctx.audit.record(actor.name, "stocktake", now, target=stocktake_id, source_ip=actor.source_ip,
                         details={"note": note, "lines": lines}, uow=uow)
        try:
            uow.commit()
        except TransactionCancelled:
            continue
        announce_stock_change(ctx, [c.sku_id for c in counts])
        return {"stocktake_id": stocktake_id, "note": note, "lines": lines}
    raise Conflict("stock kept moving during the stocktake; try again", code="STOCK_CHANGED")


def inventory_page(ctx: Context, limit: int, cursor: str | None, below_threshold: bool) -> Page:
    return ctx.ledger.inventory_page(limit, cursor, below_threshold)


def movements_page(ctx: Context, sku_id: str, limit: int, cursor: str | None) -> Page:
    _require_sku(ctx, sku_id)
    return ctx.ledger.movements_page(sku_id, limit, cursor)
