from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.commands import parse_adjustment, parse_stocktake
from ..domain.stock_shards import parse_split
from ..service_layer import inventory
from .http import Call, endpoint
from .views import views

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/admin/inventory")
def list_inventory(call: Call) -> dict[str, Any]:
    page = inventory.inventory_page(context(), call.limit(), call.cursor(), call.flag("below_threshold"))
    shown = views()
    return {"items": [shown.inventory_item(s) for s in page.items], "next": page.next}


@endpoint(bp, "POST", "/admin/inventory/{sku_id}/adjustments")
def adjust(call: Call, sku_id: str) -> dict[str, Any]:
    return {"sku_id": sku_id,
            "available": inventory.adjust_stock(context(), call.actor, sku_id, parse_adjustment(call.body()))}


@endpoint(bp, "POST", "/admin/stocktakes")
def stocktake(call: Call) -> dict[str, Any]:
    counts, note = parse_stocktake(call.body())
    taken = inventory.take_stocktake(context(), call.actor, counts, note)
    return {"stocktake_id": taken.stocktake_id, "note": taken.note, "lines": taken.lines}


@endpoint(bp, "POST", "/admin/inventory/{sku_id}/shards")
def split(call: Call, sku_id: str) -> dict[str, Any]:
    return views().inventory_item(inventory.split_stock(context(), call.actor, sku_id, parse_split(call.body())))


@endpoint(bp, "GET", "/admin/inventory/{sku_id}/movements")
def movements(call: Call, sku_id: str) -> dict[str, Any]:
    page = inventory.movements_page(context(), sku_id, call.limit(), call.cursor())
    shown = views()
    return {"items": [shown.movement(m) for m in page.items], "next": page.next}
