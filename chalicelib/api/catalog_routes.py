from __future__ import annotations

from typing import Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain.catalog_commands import parse_new_product, parse_product_changes, parse_sku
from ..domain.errors import InvalidInput
from ..service_layer import catalog
from .http import Call, endpoint
from .views import views

bp = Blueprint(__name__)


@endpoint(bp, "POST", "/admin/products")
def create_product(call: Call) -> dict[str, Any]:
    product, skus = catalog.create_product(context(), call.actor, parse_new_product(call.body()))
    return views().product(product, skus, staff=True)


@endpoint(bp, "GET", "/admin/products/{product_id}")
def admin_product(call: Call, product_id: str) -> dict[str, Any]:
    return views().product(*catalog.admin_product(context(), product_id), staff=True)


@endpoint(bp, "PATCH", "/admin/products/{product_id}")
def update_product(call: Call, product_id: str) -> dict[str, Any]:
    return views().product(*catalog.update_product(context(), call.actor, product_id, parse_product_changes(call.body())), staff=True)


@endpoint(bp, "POST", "/admin/products/{product_id}/skus")
def add_sku(call: Call, product_id: str) -> dict[str, Any]:
    return views().sku(catalog.add_sku(context(), call.actor, product_id, parse_sku(call.body(), "body")), staff=True)


@endpoint(bp, "POST", "/admin/products/import")
def import_products(call: Call) -> dict[str, Any]:
    result = catalog.import_products(context(), call.actor, call.text())
    return {"created": result.created, "errors": result.errors}


@endpoint(bp, "GET", "/catalog/products")
def list_products(call: Call) -> dict[str, Any]:
    kind = call.query("kind")
    if kind is not None and kind not in ("ticket", "merch"):
        raise InvalidInput("kind must be ticket or merch", field="kind")
    ctx = context()
    entries, cursor = catalog.catalog_page(ctx, call.limit(), call.cursor(), kind, call.query("category"),
                                           call.query("tag"))
    now = ctx.clock()
    return {"items": [views().product(p, skus, now) for p, skus in entries], "next": cursor}


@endpoint(bp, "GET", "/catalog/products/{product_id}")
def get_product(call: Call, product_id: str) -> dict[str, Any]:
    ctx = context()
    return views().product(*catalog.catalog_product(ctx, product_id), now=ctx.clock())
