"""Products in DynamoDB: the catalog's table, its sparse listing index, and edits that apply
only to the version an editor read."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..domain.model import Fulfillment, Kind, Product, ProductStatus
from ..service_layer.ports import Page
from ..service_layer.tags import Tag
from .dynamo import get_or_none, page_of, read_time, stored_time, table_meta
from .unit_of_work import UnitOfWork


class CatalogIndex(GlobalSecondaryIndex["ProductRecord"]):
    """Sparse: only products that are listed or scheduled to be, newest first."""
    class Meta:
        index_name = "catalog-index"
        projection = AllProjection()
    catalog = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ProductRecord(Model):
    Meta = table_meta("products")
    product_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    category = UnicodeAttribute()
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute()
    list_at = UnicodeAttribute(null=True)
    delist_at = UnicodeAttribute(null=True)
    purchase_limit = NumberAttribute(null=True)
    real_name = BooleanAttribute(default=False)
    member_discount = BooleanAttribute(null=True)    # absent: takes the member discount
    reschedule_cutoff_minutes = NumberAttribute(null=True)   # absent: the default (domain.ticket_changes)
    fulfillment = ListAttribute(of=UnicodeAttribute, default=list)
    sku_ids = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    catalog = UnicodeAttribute(null=True)
    catalog_index = CatalogIndex()


def product_from(record: ProductRecord) -> Product:
    return Product(
        product_id=record.product_id, kind=Kind(record.kind), name=record.name,
        description=record.description or "", category=record.category, tags=list(record.tags or []),
        status=ProductStatus(record.status), list_at=read_time(record.list_at), delist_at=read_time(record.delist_at),
        purchase_limit=int(record.purchase_limit) if record.purchase_limit is not None else None,
        real_name=bool(record.real_name), member_discount=record.member_discount is not False,
        reschedule_cutoff_minutes=(int(record.reschedule_cutoff_minutes)
                                   if record.reschedule_cutoff_minutes is not None else None),
        fulfillment=[Fulfillment(f) for f in record.fulfillment or []],
        sku_ids=list(record.sku_ids or []), created_at=read_time(record.created_at), version=record.updated_at)


class CatalogRepository:
    def add_product(self, uow: UnitOfWork, product: Product, now: datetime) -> None:
        record = ProductRecord(
            product_id=product.product_id, kind=product.kind.value, name=product.name,
            description=product.description, category=product.category, tags=product.tags,
            status=product.status.value, list_at=stored_time(product.list_at), delist_at=stored_time(product.delist_at),
            purchase_limit=product.purchase_limit, real_name=product.real_name,
            member_discount=None if product.member_discount else False,
            reschedule_cutoff_minutes=product.reschedule_cutoff_minutes,
            fulfillment=[f.value for f in product.fulfillment], sku_ids=product.sku_ids,
            created_at=stored_time(now), updated_at=stored_time(now),
            catalog="listed" if product.may_become_visible else None)
        uow.put(record, condition=ProductRecord.product_id.does_not_exist(), tag=Tag.PRODUCT)

    def add_sku_to_product(self, uow: UnitOfWork, product_id: str, sku_id: str, now: datetime) -> None:
        uow.update(ProductRecord(product_id=product_id),
                   [ProductRecord.sku_ids.set(ProductRecord.sku_ids.append([sku_id])),
                    ProductRecord.updated_at.set(stored_time(now))],
                   condition=ProductRecord.product_id.exists(), tag=Tag.PRODUCT)

    def update_product(self, uow: UnitOfWork, before: Product, after: Product, changed: Iterable[str],
                       now: datetime) -> None:
        """Writes the changed fields, conditional on the product still being as it was read, so
        two editors cannot silently overwrite each other."""
        actions = [ProductRecord.updated_at.set(stored_time(now))]
        for name in changed:
            value = getattr(after, name)
            attribute = getattr(ProductRecord, name)
            if name in ("list_at", "delist_at"):
                value = stored_time(value)
            elif name == "status":
                value = value.value
            elif name == "fulfillment":
                value = [f.value for f in value]
            actions.append(attribute.remove() if value is None else attribute.set(value))
        actions.append(ProductRecord.catalog.set("listed") if after.may_become_visible
                       else ProductRecord.catalog.remove())
        uow.update(ProductRecord(product_id=before.product_id), actions,
                   condition=ProductRecord.updated_at == before.version, tag=Tag.PRODUCT)

    def product(self, product_id: str) -> Product | None:
        record = get_or_none(ProductRecord, product_id)
        return product_from(record) if record else None

    def catalog_page(self, limit: int, cursor: str | None, kind: str | None, category: str | None,
                     tag: str | None) -> Page:
        condition: Condition | None = None
        for part in (ProductRecord.kind == kind if kind else None,
                     ProductRecord.category == category if category else None,
                     ProductRecord.tags.contains(tag) if tag else None):
            if part is not None:
                condition = part if condition is None else condition & part
        return page_of(lambda start: ProductRecord.catalog_index.query(
            "listed", filter_condition=condition, scan_index_forward=False, limit=limit, last_evaluated_key=start),
            cursor, {"product_id", "catalog", "created_at"}, product_from)
