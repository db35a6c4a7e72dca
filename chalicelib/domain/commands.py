"""Requests as validated commands. Parsing lives in the domain because the limits are
business limits (how many lines an order may have, what a ticket SKU needs)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .identifiers import USER_COUPON_ID
from .errors import InvalidInput
from .model import Address, Fulfillment, Visitor
from .personal_data import normalize_id_number, normalize_phone
from .validation import Fields

MAX_STOCK = 1_000_000
MAX_ORDER_LINES = 20             # keeps an order's transaction well inside DynamoDB's 100 items
MAX_LINE_QUANTITY = 99
MAX_STOCKTAKE_LINES = 45
ROLES = ("admin", "merchandiser", "finance", "support", "scanner", "auditor")
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{2,63}$"
_USERNAME = re.compile(USERNAME_PATTERN)


def valid_username(username: str) -> bool:
    """A name an account can have (what creating one accepts)."""
    return bool(_USERNAME.match(username))


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
    coupon_id: str | None = None          # a user coupon of the customer's


def parse_coupon_id(f: Fields) -> str | None:
    coupon_id = f.string("coupon_id", required=False, max_len=40)
    if coupon_id is not None and not USER_COUPON_ID.match(coupon_id):
        raise InvalidInput("coupon_id must be a user coupon's id (user_coupon_id)", field="coupon_id")
    return coupon_id


def parse_place_order(data: object) -> PlaceOrder:
    f = Fields(data)
    lines = parse_lines(f)
    contact = f.obj("contact")
    assert contact is not None
    contact_name = contact.string("name", max_len=50) or ""
    contact_phone = normalize_phone(contact.data.get("phone"), "contact.phone")
    visitors = parse_visitors(f)
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
                      Fulfillment(fulfillment) if fulfillment else None, address, parse_coupon_id(f))


def parse_lines(f: Fields) -> list[RequestedLine]:
    """An order's `items`. A SKU on several lines (added to the cart twice) is one line of their
    sum; but real-name visitors are named in the order of the lines, so with visitors each SKU is
    one line."""
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
    return [RequestedLine(sku_id, quantity) for sku_id, quantity in quantities.items()]


def parse_visitors(f: Fields) -> list[Visitor]:
    """An order's real-name `visitors`, in the order of its lines."""
    visitors = []
    for v in f.objects("visitors", max_items=MAX_ORDER_LINES * MAX_LINE_QUANTITY, required=False):
        id_type = v.choice("id_type", ("id_card", "passport"), required=False, default="id_card") or "id_card"
        visitors.append(Visitor(name=v.string("name", max_len=50) or "", id_type=id_type,
                                id_number=normalize_id_number(v.data.get("id_number"), id_type,
                                                              f"{v.where}.id_number")))
    return visitors


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


@dataclass(frozen=True)
class RefundRequest:
    """A customer's refund: the reason, and the tickets (None: every ticket that can be)."""
    reason: str
    ticket_ids: list[str] | None


def parse_refund_request(data: object) -> RefundRequest:
    f = Fields(data)
    reason = f.string("reason", max_len=200) or ""
    return RefundRequest(reason, f.strings("ticket_ids", max_items=200, max_len=40) if f.has("ticket_ids") else None)


def parse_rejection_reason(data: object) -> str:
    """Why staff refused a refund (shown to the customer)."""
    return Fields(data).string("reason", max_len=200) or ""


@dataclass(frozen=True)
class ScanRequest:
    code: str
    gate: str
    device_id: str
    nonce: str | None
    scanned_at: datetime | None


def parse_scan(data: object, where: str = "body") -> ScanRequest:
    f = Fields(data, where)
    return ScanRequest(code=f.string("code", max_len=600) or "", gate=f.string("gate", max_len=50) or "",
                       device_id=f.string("device_id", max_len=100) or "",
                       nonce=f.string("nonce", required=False, max_len=100),
                       scanned_at=f.instant("scanned_at", required=False))


MAX_OFFLINE_BATCH = 500


@dataclass(frozen=True)
class OfflineScan:
    """One scan of an offline upload, as the scanner sent it: `request` None when it is malformed
    (answered `invalid` in its place, with its nonce where it had one; the others still count)."""
    request: ScanRequest | None
    nonce: str | None


def parse_offline_scans(data: object) -> list[OfflineScan]:
    scans: list[OfflineScan] = []
    for index, raw in enumerate(Fields(data).items("scans", min_items=1, max_items=MAX_OFFLINE_BATCH)):
        try:
            request = parse_scan(raw, f"scans[{index}]")
            scans.append(OfflineScan(request, request.nonce))
        except InvalidInput:
            nonce = raw.get("nonce") if isinstance(raw, dict) and isinstance(raw.get("nonce"), str) else None
            scans.append(OfflineScan(None, nonce))
    return scans
