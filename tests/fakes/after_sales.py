"""After-sales as `adapters.after_sale_store.AfterSaleStore` keeps them: each move conditional on
the status it was read in (tag "after_sale"), and per order line a counter of the units under
after-sales, held within what was bought by its condition (tag `units:<sku_id>`)."""
from __future__ import annotations

import copy
import dataclasses
from typing import Any

from chalicelib.domain.after_sales import AfterSale, AfterSaleEntry, LineUnits
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
                lambda units: units is None or units.taken <= bought - quantity,
                lambda units: dataclasses.replace(units or LineUnits(), taken=(units or LineUnits()).taken + quantity))

    def give_units(self, uow: FakeUnitOfWork, order_id: str, sku_id: str, quantity: int) -> None:
        uow.add(UNITS, (order_id, sku_id), ItemTag.UNITS.of(sku_id),
                lambda units: units is not None and units.taken >= quantity,
                lambda units: dataclasses.replace(units, taken=units.taken - quantity))

    def count_back(self, uow: FakeUnitOfWork, order_id: str, sku_id: str, read: LineUnits, refunded: int,
                   restocked: int) -> None:
        uow.add(UNITS, (order_id, sku_id), ItemTag.UNITS.of(sku_id),
                lambda units: units is not None and (units.refunded, units.restocked) == (read.refunded, read.restocked),
                lambda units: dataclasses.replace(units, refunded=read.refunded + refunded,
                                                  restocked=read.restocked + restocked))

    def none_taken(self, uow: FakeUnitOfWork, order_id: str, sku_id: str) -> None:
        uow.check(UNITS, (order_id, sku_id), ItemTag.UNITS.of(sku_id), lambda units: units is None or not units.taken)

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

    def line_units(self, order_id: str, sku_id: str) -> LineUnits:
        return self.db.get(UNITS, (order_id, sku_id)) or LineUnits()

    def page(self, status: str, kind: str | None, limit: int, cursor: str | None) -> Page:
        chosen = [a for a in self.db.table(AFTER_SALES).values()
                  if a.status.value == status and (kind is None or a.type.value == kind)]
        return paging.page(chosen, lambda a: f"{to_storage(a.created_at)}#{a.after_sale_id}", limit, cursor,
                           descending=True, convert=copy.deepcopy)
