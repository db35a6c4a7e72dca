"""Requests as validated commands. Parsing lives in the domain because the limits are
business limits (how many lines an order may have, what a ticket SKU needs)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import InvalidInput
from .model import Address, Fulfillment, Kind, ProductStatus, Session, Visitor
from .personal_data import normalize_id_number, normalize_phone
from .validation import Fields

MAX_PRICE = 10_000_000           # 100,000 yuan: far above any ticket or goods price
MAX_STOCK = 1_000_000
MAX_ORDER_LINES = 20             # keeps an order's transaction well inside DynamoDB's 100 items
MAX_LINE_QUANTITY = 99
MAX_SKUS_PER_REQUEST = 40        # a product and its SKUs are created in one transaction
MAX_STOCKTAKE_LINES = 45
ROLES = ("admin", "merchandiser", "finance", "support", "scanner", "auditor")
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{2,63}$"
_USERNAME = re.compile(USERNAME_PATTERN)


def valid_username(username: str) -> bool:
    """A name an account can have (what creating one accepts)."""
    return bool(_USERNAME.match(username))


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


def parse_sku(data: object, kind: Kind, where: str = "sku") -> NewSku:
    f = Fields(data, where)
    name = f.string("name", max_len=100)
    price = f.integer("price", minimum=0, maximum=MAX_PRICE)
    stock = f.integer("stock", minimum=0, maximum=MAX_STOCK, required=False, default=0)
    threshold = f.integer("low_stock_threshold", minimum=0, maximum=MAX_STOCK, required=False, default=0)
    assert name is not None and price is not None and stock is not None and threshold is not None
    if kind is Kind.TICKET:
        session_fields = f.obj("session")
        assert session_fields is not None
        start, end = session_fields.instant("start"), session_fields.instant("end")
        assert start is not None and end is not None
        if end <= start:
            raise InvalidInput(f"{where}.session.end must be after its start", field=f"{where}.session")
        valid_from = f.instant("valid_from", required=False) or start
        valid_until = f.instant("valid_until", required=False) or end
        if valid_until <= valid_from:
            raise InvalidInput(f"{where}.valid_until must be after valid_from", field=f"{where}.valid_until")
        return NewSku(name, price, stock, threshold, Session(start, end), valid_from, valid_until)
    for ticket_only in ("session", "valid_from", "valid_until"):
        if f.has(ticket_only):
            raise InvalidInput(f"{where}.{ticket_only} is for tickets only", field=f"{where}.{ticket_only}")
    return NewSku(name, price, stock, threshold,
                  attributes=f.string_map("attributes", max_items=10, max_len=50))


def _fulfillment(f: Fields, kind: Kind) -> list[Fulfillment]:
    options = f.strings("fulfillment", max_items=2, max_len=20)
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
    skus = [parse_sku(s, kind, f"skus[{i}]")
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
        fulfillment=_fulfillment(f, kind),
        skus=skus,
    )


EDITABLE_PRODUCT_FIELDS = {"name", "description", "category", "tags", "status", "list_at", "delist_at",
                           "purchase_limit", "real_name", "fulfillment"}


def parse_product_changes(data: object, kind: Kind) -> dict[str, Any]:
    """Only the fields present change; `null` clears the optional ones (list_at, delist_at,
    purchase_limit)."""
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
        if f.boolean("real_name") and kind is not Kind.TICKET:
            raise InvalidInput("real_name is for tickets only", field="real_name")
        changes["real_name"] = f.boolean("real_name")
    if f.has("fulfillment"):
        changes["fulfillment"] = _fulfillment(f, kind)
    return changes


@dataclass(frozen=True)
class RequestedLine:
    sku_id: str
    quantity: int


@dataclass(frozen=True)
class PlaceOrder:
    lines: list[RequestedLine]
    contact_name: str
    contact_phone: str
    visitors: list[Visitor]
    fulfillment: Fulfillment | None
    address: Address | None


def parse_place_order(data: object) -> PlaceOrder:
    f = Fields(data)
    # A SKU on several lines (added to the cart twice) is one line of their sum; but real-name
    # visitors are named in the order of the lines, so with visitors each SKU is one line.
    quantities: dict[str, int] = {}
    naming_visitors = bool(f.data.get("visitors"))
    for item in f.objects("items", min_items=1, max_items=MAX_ORDER_LINES):
        sku_id = item.string("sku_id", max_len=64) or ""
        quantity = item.integer("quantity", minimum=1, maximum=MAX_LINE_QUANTITY) or 0
        if sku_id in quantities and naming_visitors:
            raise InvalidInput(f"{item.where}: SKU {sku_id} is listed twice; with visitors give one line per SKU",
                               field=item.where)
        quantities[sku_id] = quantities.get(sku_id, 0) + quantity
        if quantities[sku_id] > MAX_LINE_QUANTITY:
            raise InvalidInput(f"{item.where}: at most {MAX_LINE_QUANTITY} of SKU {sku_id} in one order",
                               field=item.where)
    lines = [RequestedLine(sku_id, quantity) for sku_id, quantity in quantities.items()]
    contact = f.obj("contact")
    assert contact is not None
    contact_name = contact.string("name", max_len=50) or ""
    contact_phone = normalize_phone(contact.data.get("phone"), "contact.phone")
    visitors = []
    for v in f.objects("visitors", max_items=MAX_ORDER_LINES * MAX_LINE_QUANTITY, required=False):
        id_type = v.choice("id_type", ("id_card", "passport"), required=False, default="id_card") or "id_card"
        visitors.append(Visitor(name=v.string("name", max_len=50) or "", id_type=id_type,
                                id_number=normalize_id_number(v.data.get("id_number"), id_type,
                                                              f"{v.where}.id_number")))
    fulfillment = f.choice("fulfillment", ("pickup", "shipping"), required=False)
    address = None
    address_fields = f.obj("address", required=False)
    if address_fields is not None:
        address = Address(
            recipient=address_fields.string("recipient", max_len=50) or "",
            phone=normalize_phone(address_fields.data.get("phone"), "address.phone"),
            region=address_fields.string("region", max_len=100) or "",
            detail=address_fields.string("detail", max_len=200) or "",
        )
    return PlaceOrder(lines, contact_name, contact_phone, visitors,
                      Fulfillment(fulfillment) if fulfillment else None, address)


@dataclass(frozen=True)
class Adjustment:
    delta: int
    reason: str


def parse_adjustment(data: object) -> Adjustment:
    f = Fields(data)
    delta = f.integer("delta", minimum=-MAX_STOCK, maximum=MAX_STOCK)
    if delta == 0:
        raise InvalidInput("delta must not be zero", field="delta")
    return Adjustment(delta=delta or 0, reason=f.string("reason", max_len=200) or "")


@dataclass(frozen=True)
class StocktakeCount:
    sku_id: str
    counted: int


def parse_stocktake(data: object) -> tuple[list[StocktakeCount], str]:
    f = Fields(data)
    # A SKU counted on several lines (on the shelf and in the storeroom) has their sum.
    counted: dict[str, int] = {}
    for c in f.objects("counts", min_items=1, max_items=MAX_STOCKTAKE_LINES):
        sku_id = c.string("sku_id", max_len=64) or ""
        counted[sku_id] = counted.get(sku_id, 0) + (c.integer("counted", minimum=0, maximum=MAX_STOCK) or 0)
    if any(n > MAX_STOCK for n in counted.values()):
        raise InvalidInput(f"a SKU's counts add up to more than {MAX_STOCK}", field="counts")
    counts = [StocktakeCount(sku_id, n) for sku_id, n in counted.items()]
    return counts, f.string("note", required=False, min_len=0, max_len=500, default="") or ""


@dataclass(frozen=True)
class NewStaff:
    username: str
    password: str
    roles: list[str]


def parse_new_staff(data: object) -> NewStaff:
    f = Fields(data)
    username = (f.string("username", max_len=64, strip=False) or "").lower()
    if not _USERNAME.match(username):
        raise InvalidInput("username: 3 to 64 of a-z, 0-9, '.', '_' and '-'", field="username")
    password = f.string("password", min_len=10, max_len=200, strip=False) or ""
    roles = f.strings("roles", max_items=len(ROLES), max_len=20, required=True)
    if not roles or any(r not in ROLES for r in roles):
        raise InvalidInput(f"roles must be a non-empty list of {', '.join(ROLES)}", field="roles")
    return NewStaff(username, password, sorted(set(roles)))
