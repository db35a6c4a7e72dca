"""After-sales as `adapters.after_sale_store.AfterSaleStore` keeps them: each move conditional on
the status it was read in (tag "after_sale"), and per order line a counter of the units under
after-sales, held within what was bought by its condition (tag `units:<sku_id>`)."""
from __future__ import annotations

import copy
import dataclasses
from typing import Any

from chalicelib.domain.after_sales import AfterSale, AfterSaleEntry
from chalicelib.domain.timeutil import to_storage
from chalicelib.service_layer.ports import Page
from chalicelib.service_layer.tags import ItemTag, Tag

from . import paging
from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent

AFTER_SALES = "after_sales"
UNITS = "after_sale_units"
_FIELDS = ("return_shipment", "reject_reason", "restocked", "receive_note", "refund_id", "amount",
           "replacement_shares", "shipment")
_REMOVED: dict[str, Any] = {"replacement_shares": {}}


class FakeAfterSales:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add(self, uow: FakeUnitOfWork, a: AfterSale) -> None:
        stored = copy.deepcopy(a)
        uow.add(AFTER_SALES, a.after_sale_id, Tag.AFTER_SALE, absent, lambda _: stored)

    def take_units(self, uow: FakeUnitOfWork, order_id: str, sku_id: str, quantity: int, bought: int) -> None:
        uow.add(UNITS, (order_id, sku_id), ItemTag.UNITS.of(sku_id),
                lambda taken: taken is None or taken <= bought - quantity, lambda taken: (taken or 0) + quantity)

    def give_units(self, uow: FakeUnitOfWork, order_id: str, sku_id: str, quantity: int) -> None:
        uow.add(UNITS, (order_id, sku_id), ItemTag.UNITS.of(sku_id),
                lambda taken: taken is not None and taken >= quantity, lambda taken: taken - quantity)

    def move(self, uow: FakeUnitOfWork, a: AfterSale, entry: AfterSaleEntry, **fields: Any) -> None:
        status = a.status

        def apply(item: AfterSale | None) -> AfterSale:
            assert item is not None
            item.status = entry.status
            item.history.append(dataclasses.replace(entry))
            for name, value in fields.items():
                assert name in _FIELDS, name
                setattr(item, name, copy.deepcopy(value) if value is not None else _REMOVED.get(name))
            return item
        uow.add(AFTER_SALES, a.after_sale_id, Tag.AFTER_SALE,
                lambda item: item is not None and item.status is status, apply)

    def get(self, after_sale_id: str) -> AfterSale | None:
        return self.db.get(AFTER_SALES, after_sale_id)

    def of_order(self, order_id: str) -> list[AfterSale]:
        return [copy.deepcopy(a) for a in sorted((a for a in self.db.table(AFTER_SALES).values()
                                                  if a.order_id == order_id),
                                                 key=lambda a: (a.created_at, a.after_sale_id))]

    def units_taken(self, order_id: str, sku_id: str) -> int:
        return self.db.get(UNITS, (order_id, sku_id)) or 0

    def page(self, status: str, kind: str | None, limit: int, cursor: str | None) -> Page:
        chosen = [a for a in self.db.table(AFTER_SALES).values()
                  if a.status.value == status and (kind is None or a.type.value == kind)]
        return paging.page(chosen, lambda a: f"{to_storage(a.created_at)}#{a.after_sale_id}", limit, cursor,
                           descending=True, convert=copy.deepcopy)
