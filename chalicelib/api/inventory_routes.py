from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.commands import parse_adjustment, parse_stocktake
from ..service_layer import inventory
from .http import Call, endpoint
from .views import Views

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/admin/inventory")
def list_inventory(call: Call) -> dict[str, Any]:
    page = inventory.inventory_page(context(), call.limit(), call.cursor(), call.flag("below_threshold"))
    return {"items": [{"sku_id": s.sku_id, "product_id": s.product_id, "name": s.name, "available": s.available,
                       "reserved": s.reserved, "sold": s.sold, "low_stock_threshold": s.low_stock_threshold}
                      for s in page.items], "next": page.next}


@endpoint(bp, "POST", "/admin/inventory/{sku_id}/adjustments")
def adjust(call: Call, sku_id: str) -> dict[str, Any]:
    return inventory.adjust_stock(context(), call.actor, sku_id, parse_adjustment(call.body()))


@endpoint(bp, "POST", "/admin/stocktakes")
def stocktake(call: Call) -> dict[str, Any]:
    counts, note = parse_stocktake(call.body())
    return inventory.take_stocktake(context(), call.actor, counts, note)


@endpoint(bp, "GET", "/admin/inventory/{sku_id}/movements")
def movements(call: Call, sku_id: str) -> dict[str, Any]:
    ctx = context()
    page = inventory.movements_page(ctx, sku_id, call.limit(), call.cursor())
    views = Views(ctx.venue_timezone)
    return {"items": [{**m, "at": views.time(m["at"])} for m in page.items], "next": page.next}
