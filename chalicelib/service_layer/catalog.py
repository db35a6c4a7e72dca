"""Products and SKUs: creating, editing, listing and the public catalog."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..domain import identifiers
from ..domain.catalog_commands import NewProduct, NewSku, ProductChanges, SkuInput
from ..domain.csv_import import parse_catalog_csv
from ..domain.error_codes import ErrorCode
from ..domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ..domain.model import Product, Sku
from ..domain.stock_shards import shards_for_stock
from . import inventory, ports
from .context import Actor
from .tags import Tag
from .writes import commit


class Cataloguing(inventory.Stocking, Protocol):
    @property
    def catalog(self) -> ports.CatalogStore: ...
    @property
    def stock(self) -> ports.StockStore: ...
    @property
    def audit(self) -> ports.AuditTrail: ...
    @property
    def clock(self) -> ports.Clock: ...
    def unit_of_work(self) -> ports.Writes: ...


@dataclass(frozen=True)
class ImportResult:
    created: int
    errors: list[dict[str, Any]] = field(default_factory=list)     # [{"line", "message"}]


def _sku_from(new: NewSku, product_id: str) -> Sku:
    return Sku(sku_id=identifiers.new_sku_id(product_id), product_id=product_id, name=new.name,
               price=new.price, available=new.stock, low_stock_threshold=new.low_stock_threshold,
               session=new.session, valid_from=new.valid_from, valid_until=new.valid_until,
               attributes=new.attributes)


def create_product(ctx: Cataloguing, actor: Actor, command: NewProduct, action: str = "product_created"
                   ) -> tuple[Product, list[Sku]]:
    """The product, its SKUs, their initial stock movements and the audit record: one transaction."""
    now = ctx.clock()
    product_id = identifiers.new_product_id()
    skus = [_sku_from(s, product_id) for s in command.skus]
    product = Product(product_id=product_id, kind=command.kind, name=command.name,
                      description=command.description, category=command.category, tags=command.tags,
                      status=command.status, list_at=command.list_at, delist_at=command.delist_at,
                      purchase_limit=command.purchase_limit, real_name=command.real_name, member_discount=command.member_discount,
                      fulfillment=command.fulfillment, sku_ids=[s.sku_id for s in skus], created_at=now,
                      reschedule_cutoff_minutes=command.reschedule_cutoff_minutes)
    uow = ctx.unit_of_work()
    ctx.catalog.add_product(uow, product, now)
    for sku in skus:
        ctx.stock.add_sku(uow, sku, now, actor.name)
    ctx.audit.record(actor.name, action, now, target=product_id, source_ip=actor.source_ip,
                     details={"name": product.name, "skus": len(skus)}, uow=uow)
    commit(uow)
    return product, [_split_by_size(ctx, actor, sku) for sku in skus]


def _split_by_size(ctx: Cataloguing, actor: Actor, sku: Sku) -> Sku:
    """A SKU created with a release's worth of stock is split at once, in its own transaction
    (a product's SKUs and their shards would not fit one)."""
    shards = shards_for_stock(sku.available)
    return inventory.split_stock(ctx, actor, sku.sku_id, shards) if shards else sku


def _existing(ctx: Cataloguing, product_id: str) -> Product:
    product = ctx.catalog.product(product_id) if identifiers.PRODUCT_ID.match(product_id) else None
    if product is None:
        raise NotFound("no such product", code=ErrorCode.PRODUCT_NOT_FOUND, product_id=product_id)
    return product


def update_product(ctx: Cataloguing, actor: Actor, product_id: str, change: ProductChanges
                   ) -> tuple[Product, list[Sku]]:
    before = _existing(ctx, product_id)
    changes = change.for_kind(before.kind)
    after = dataclasses.replace(before, **changes)
    if after.list_at and after.delist_at and after.delist_at <= after.list_at:
        raise InvalidInput("delist_at must be after list_at", field="delist_at")
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.catalog.update_product(uow, before, after, changes.keys(), now)
    ctx.audit.record(actor.name, "product_updated", now, target=product_id, source_ip=actor.source_ip,
                     details={k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()
                              if k not in ("description",)}, uow=uow)
    def edited_meanwhile(_: str = "") -> Conflict:
        return Conflict("the product was changed by someone else; reload and try again", code=ErrorCode.EDIT_CONFLICT)
    commit(uow, {Tag.PRODUCT: edited_meanwhile}, busy=edited_meanwhile)
    return admin_product(ctx, product_id)


def add_sku(ctx: Cataloguing, actor: Actor, product_id: str, requested: SkuInput) -> Sku:
    product = _existing(ctx, product_id)
    if len(product.sku_ids) >= 1000:
        raise Conflict("a product has at most 1000 SKUs", code=ErrorCode.TOO_MANY_SKUS)
    sku = _sku_from(requested.for_kind(product.kind), product_id)
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.catalog.add_sku_to_product(uow, product_id, sku.sku_id, now)
    ctx.stock.add_sku(uow, sku, now, actor.name)
    ctx.audit.record(actor.name, "sku_added", now, target=sku.sku_id, source_ip=actor.source_ip,
                     details={"product_id": product_id, "stock": sku.available}, uow=uow)
    commit(uow)
    return _split_by_size(ctx, actor, sku)


def import_products(ctx: Cataloguing, actor: Actor, text: str) -> ImportResult:
    """Each product of the file is created on its own: a bad product is reported by line and
    the good ones are still created."""
    parsed, errors = parse_catalog_csv(text)
    created = 0
    for first_line, command in parsed:
        try:
            create_product(ctx, actor, command, action="product_imported")
            created += 1
        except DomainError as error:
            errors.append({"line": first_line, "message": error.message})
    errors.sort(key=lambda e: e["line"])
    return ImportResult(created, errors)


def admin_product(ctx: Cataloguing, product_id: str) -> tuple[Product, list[Sku]]:
    product = _existing(ctx, product_id)
    skus = ctx.stock.skus(product.sku_ids)
    return product, [skus[s] for s in product.sku_ids if s in skus]


def _on_sale(skus: dict[str, Sku], product: Product, now: datetime) -> list[Sku]:
    return [skus[s] for s in product.sku_ids if s in skus and not skus[s].sale_has_ended(now)]


def catalog_product(ctx: Cataloguing, product_id: str) -> tuple[Product, list[Sku]]:
    product = ctx.catalog.product(product_id) if identifiers.PRODUCT_ID.match(product_id) else None
    now = ctx.clock()
    if product is None or not product.is_visible(now):
        raise NotFound("no such product", code=ErrorCode.PRODUCT_NOT_FOUND, product_id=product_id)
    return product, _on_sale(ctx.stock.skus(product.sku_ids), product, now)


def catalog_page(ctx: Cataloguing, limit: int, cursor: str | None, kind: str | None, category: str | None,
                 tag: str | None) -> tuple[list[tuple[Product, list[Sku]]], str | None]:
    """A page of the public catalog with live `available`: one Query and one batched read per
    hundred SKUs."""
    page = ctx.catalog.catalog_page(limit, cursor, kind, category, tag)
    now = ctx.clock()
    products = [p for p in page.items if p.is_visible(now)]
    skus = ctx.stock.skus([s for p in products for s in p.sku_ids])
    return [(p, _on_sale(skus, p, now)) for p in products], page.next
