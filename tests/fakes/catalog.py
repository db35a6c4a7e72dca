"""Products, as `adapters.catalog_repository.CatalogRepository` keeps them: an edit applies only
to the version an editor read (the stored `updated_at`), tag "product"."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Iterable

from chalicelib.domain.model import Product
from chalicelib.domain.timeutil import to_storage
from chalicelib.service_layer.ports import Page
from chalicelib.service_layer.tags import Tag

from . import paging
from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent, present

TABLE = "products"


class FakeCatalog:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add_product(self, uow: FakeUnitOfWork, product: Product, now: datetime) -> None:
        stored = dataclasses.replace(product, created_at=now, version=to_storage(now), tags=list(product.tags),
                                     fulfillment=list(product.fulfillment), sku_ids=list(product.sku_ids))
        uow.add(TABLE, product.product_id, Tag.PRODUCT, absent, lambda _: stored)

    def add_sku_to_product(self, uow: FakeUnitOfWork, product_id: str, sku_id: str, now: datetime) -> None:
        def apply(item: Product | None) -> Product:
            assert item is not None
            item.sku_ids.append(sku_id)
            item.version = to_storage(now)
            return item
        uow.add(TABLE, product_id, Tag.PRODUCT, present, apply)

    def update_product(self, uow: FakeUnitOfWork, before: Product, after: Product, changed: Iterable[str],
                       now: datetime) -> None:
        names = list(changed)

        def apply(item: Product | None) -> Product:
            assert item is not None
            for name in names:
                setattr(item, name, getattr(after, name))
            item.version = to_storage(now)
            return item
        uow.add(TABLE, before.product_id, Tag.PRODUCT,
                lambda item: item is not None and item.version == before.version, apply)

    def product(self, product_id: str) -> Product | None:
        return self.db.get(TABLE, product_id)

    def catalog_page(self, limit: int, cursor: str | None, kind: str | None, category: str | None,
                     tag: str | None) -> Page:
        """The sparse index of listed (or scheduled) products, newest first, filtered."""
        found = [p for p in self.db.table(TABLE).values() if p.may_become_visible
                 and (kind is None or p.kind.value == kind) and (category is None or p.category == category)
                 and (tag is None or tag in p.tags)]
        return paging.page(found, lambda p: (to_storage(p.created_at), p.product_id), limit, cursor,
                           descending=True, convert=lambda p: dataclasses.replace(
                               p, tags=list(p.tags), fulfillment=list(p.fulfillment), sku_ids=list(p.sku_ids)))
