"""The catalog's requests as commands: a new product with its SKUs, a SKU added, a product's
changes. A SKU or a change is parsed from the request alone; what depends on the product's kind
(a ticket's session, goods' fulfillment) is checked by `for_kind` once the use case has read the
product, so a route never needs the product to build its command."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .commands import MAX_STOCK
from .errors import InvalidInput
from .model import Fulfillment, Kind, ProductStatus, Session
from .ticket_changes import MAX_RESCHEDULE_CUTOFF_MINUTES
from .validation import Fields

MAX_PRICE = 10_000_000           # 100,000 yuan: far above any ticket or goods price
MAX_SKUS_PER_REQUEST = 40        # a product and its SKUs are created in one transaction
TICKET_ONLY = ("session", "valid_from", "valid_until")


@dataclass(frozen=True)
class NewSku:
    name: str
    price: int
    stock: int
    low_stock_threshold: int
    session: Session | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SkuInput:
    """A SKU as requested, before its product's kind is known."""
    sku: NewSku
    where: str
    ticket_fields: tuple[str, ...]       # which of TICKET_ONLY the request named

    def for_kind(self, kind: Kind) -> NewSku:
        if kind is Kind.TICKET:
            if self.sku.session is None:
                raise InvalidInput(f"{_named(self.where, 'session')} is required", field=_named(self.where, "session"))
            return dataclasses.replace(self.sku, attributes={})     # a ticket's SKU is its session
        if self.ticket_fields:
            named = f"{self.where}.{self.ticket_fields[0]}"
            raise InvalidInput(f"{named} is for tickets only", field=named)
        return NewSku(self.sku.name, self.sku.price, self.sku.stock, self.sku.low_stock_threshold,
                      attributes=self.sku.attributes)


def _named(where: str, name: str) -> str:
    return name if where == "body" else f"{where}.{name}"


def parse_sku(data: object, where: str = "sku") -> SkuInput:
    f = Fields(data, where)
    name = f.string("name", max_len=100)
    price = f.integer("price", minimum=0, maximum=MAX_PRICE)
    stock = f.integer("stock", minimum=0, maximum=MAX_STOCK, required=False, default=0)
    threshold = f.integer("low_stock_threshold", minimum=0, maximum=MAX_STOCK, required=False, default=0)
    assert name is not None and price is not None and stock is not None and threshold is not None
    attributes = f.string_map("attributes", max_items=10, max_len=50)
    named = tuple(t for t in TICKET_ONLY if f.has(t))
    session_fields = f.obj("session", required=False)
    if session_fields is None:
        return SkuInput(NewSku(name, price, stock, threshold, attributes=attributes), where, named)
    start, end = session_fields.instant("start"), session_fields.instant("end")
    assert start is not None and end is not None
    if end <= start:
        raise InvalidInput(f"{where}.session.end must be after its start", field=f"{where}.session")
    valid_from = f.instant("valid_from", required=False) or start
    valid_until = f.instant("valid_until", required=False) or end
    if valid_until <= valid_from:
        raise InvalidInput(f"{where}.valid_until must be after valid_from", field=f"{where}.valid_until")
    return SkuInput(NewSku(name, price, stock, threshold, Session(start, end), valid_from, valid_until, attributes),
                    where, named)


@dataclass(frozen=True)
class NewProduct:
    kind: Kind
    name: str
    description: str
    category: str
    tags: list[str]
    status: ProductStatus
    list_at: datetime | None
    delist_at: datetime | None
    purchase_limit: int | None
    real_name: bool
    fulfillment: list[Fulfillment]
    skus: list[NewSku]
    member_discount: bool = True
    reschedule_cutoff_minutes: int | None = None


def _fulfillment(options: list[str], kind: Kind) -> list[Fulfillment]:
    if kind is Kind.TICKET:
        if options:
            raise InvalidInput("fulfillment is for merchandise only", field="fulfillment")
        return []
    if not options:
        return [Fulfillment.PICKUP]
    try:
        return sorted({Fulfillment(o) for o in options}, key=lambda x: x.value)
    except ValueError:
        raise InvalidInput("fulfillment entries must be pickup or shipping", field="fulfillment") from None


def parse_new_product(data: object) -> NewProduct:
    f = Fields(data)
    kind = Kind(f.choice("kind", ("ticket", "merch")))
    skus = [parse_sku(s, f"skus[{i}]").for_kind(kind)
            for i, s in enumerate(f.items("skus", min_items=1, max_items=MAX_SKUS_PER_REQUEST))]
    list_at, delist_at = f.instant("list_at", required=False), f.instant("delist_at", required=False)
    if list_at and delist_at and delist_at <= list_at:
        raise InvalidInput("delist_at must be after list_at", field="delist_at")
    real_name = f.boolean("real_name")
    if real_name and kind is not Kind.TICKET:
        raise InvalidInput("real_name is for tickets only", field="real_name")
    return NewProduct(
        kind=kind,
        name=f.string("name", max_len=100) or "",
        description=f.string("description", required=False, min_len=0, max_len=5000, default="") or "",
        category=f.string("category", required=False, max_len=50, default="general") or "general",
        tags=sorted(set(f.strings("tags", max_items=20, max_len=30))),
        status=ProductStatus(f.choice("status", ("listed", "unlisted"), required=False, default="unlisted")),
        list_at=list_at,
        delist_at=delist_at,
        purchase_limit=f.integer("purchase_limit", minimum=1, maximum=999, required=False),
        real_name=real_name,
        fulfillment=_fulfillment(f.strings("fulfillment", max_items=2, max_len=20), kind),
        skus=skus,
        member_discount=f.boolean("member_discount", default=True),
        reschedule_cutoff_minutes=_cutoff(f, kind),
    )


def _cutoff(f: Fields, kind: Kind) -> int | None:
    """改签's cutoff before a session, in minutes: tickets only (absent or null: the default)."""
    minutes = f.integer("reschedule_cutoff_minutes", minimum=0, maximum=MAX_RESCHEDULE_CUTOFF_MINUTES,
                        required=False)
    if minutes is not None and kind is not Kind.TICKET:
        raise InvalidInput("reschedule_cutoff_minutes is for tickets only", field="reschedule_cutoff_minutes")
    return minutes


EDITABLE_PRODUCT_FIELDS = {"name", "description", "category", "tags", "status", "list_at", "delist_at",
                           "purchase_limit", "real_name", "fulfillment", "member_discount",
                           "reschedule_cutoff_minutes"}


@dataclass(frozen=True)
class ProductChanges:
    """Only the fields present change; `null` clears the optional ones (list_at, delist_at,
    purchase_limit). `fulfillment` holds the options as requested until `for_kind`."""
    fields: dict[str, Any]

    def for_kind(self, kind: Kind) -> dict[str, Any]:
        changes = dict(self.fields)
        if changes.get("real_name") and kind is not Kind.TICKET:
            raise InvalidInput("real_name is for tickets only", field="real_name")
        if "fulfillment" in changes:
            changes["fulfillment"] = _fulfillment(changes["fulfillment"], kind)
        if changes.get("reschedule_cutoff_minutes") is not None and kind is not Kind.TICKET:
            raise InvalidInput("reschedule_cutoff_minutes is for tickets only", field="reschedule_cutoff_minutes")
        return changes


def parse_product_changes(data: object) -> ProductChanges:
    f = Fields(data)
    f.only(EDITABLE_PRODUCT_FIELDS)
    if not f.data:
        raise InvalidInput("nothing to change")
    changes: dict[str, Any] = {}
    if f.has("name"):
        changes["name"] = f.string("name", max_len=100)
    if f.has("description"):
        changes["description"] = f.string("description", min_len=0, max_len=5000, required=False, default="")
    if f.has("category"):
        changes["category"] = f.string("category", max_len=50)
    if f.has("tags"):
        changes["tags"] = sorted(set(f.strings("tags", max_items=20, max_len=30)))
    if f.has("status"):
        changes["status"] = ProductStatus(f.choice("status", ("listed", "unlisted")))
    for name in ("list_at", "delist_at"):
        if f.has(name):
            changes[name] = f.instant(name, required=False)
    if f.has("purchase_limit"):
        changes["purchase_limit"] = f.integer("purchase_limit", minimum=1, maximum=999, required=False)
    if f.has("real_name"):
        changes["real_name"] = f.boolean("real_name")
    if f.has("member_discount"):
        changes["member_discount"] = f.boolean("member_discount")
    if f.has("fulfillment"):
        changes["fulfillment"] = f.strings("fulfillment", max_items=2, max_len=20)
    if f.has("reschedule_cutoff_minutes"):
        changes["reschedule_cutoff_minutes"] = f.integer("reschedule_cutoff_minutes", minimum=0,
                                                         maximum=MAX_RESCHEDULE_CUTOFF_MINUTES, required=False)
    return ProductChanges(changes)
