"""Catalog, stock and orders as plain objects, with the rules that decide what may be sold."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from . import identifiers
from .error_codes import ErrorCode
from .errors import Conflict
from .pricing import PricedLines, Promotion, share


class Kind(str, Enum):
    TICKET = "ticket"
    MERCH = "merch"


class ProductStatus(str, Enum):
    LISTED = "listed"
    UNLISTED = "unlisted"


class Fulfillment(str, Enum):
    PICKUP = "pickup"
    SHIPPING = "shipping"


@dataclass(frozen=True)
class Session:
    """A 场次: the time window a ticket SKU admits to."""
    start: datetime
    end: datetime


@dataclass
class Sku:
    sku_id: str
    product_id: str
    name: str
    price: int
    available: int = 0
    reserved: int = 0
    sold: int = 0
    low_stock_threshold: int = 0
    session: Session | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    stock_shards: int = 0                 # >0: the free units sit in that many shard items
    free_by_bucket: dict[int, int] | None = None   # free units per bucket (0 = the SKU), when read
    low_stock_alerted: bool = False       # alerted for the present crossing below the threshold
    # The venue cancelled the session (typhoon, closure): never on sale again; see
    # domain/session_cancellation.py. The reason is shown to customers.
    cancelled: bool = False
    cancel_reason: str | None = None

    @property
    def sharded(self) -> bool:
        return self.stock_shards > 0

    @property
    def stock_known(self) -> bool:
        """False for a sharded SKU read without its shards (the order path does not read them)."""
        return not self.sharded or self.free_by_bucket is not None

    def sale_has_ended(self, now: datetime) -> bool:
        """Tickets are sold until the end of their validity; goods have no end."""
        return self.valid_until is not None and now >= self.valid_until

    @property
    def below_threshold(self) -> bool:
        return self.available < self.low_stock_threshold


@dataclass
class Product:
    product_id: str
    kind: Kind
    name: str
    description: str = ""
    category: str = "general"
    tags: list[str] = field(default_factory=list)
    status: ProductStatus = ProductStatus.UNLISTED
    list_at: datetime | None = None
    delist_at: datetime | None = None
    purchase_limit: int | None = None
    real_name: bool = False
    member_discount: bool = True        # False: no member tier's discount on it
    reschedule_cutoff_minutes: int | None = None   # 改签 closes this long before a session (None: the default)
    fulfillment: list[Fulfillment] = field(default_factory=list)
    sku_ids: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    version: str = ""              # as read; an edit applies only if it is still current

    def is_visible(self, now: datetime) -> bool:
        """Listed now: by status, or because a scheduled `list_at` has come, and not past
        `delist_at`. A `list_at` still ahead holds a listed status back until it comes."""
        if self.delist_at is not None and now >= self.delist_at:
            return False
        if self.list_at is not None:
            return now >= self.list_at
        return self.status is ProductStatus.LISTED

    @property
    def may_become_visible(self) -> bool:
        """Whether the product belongs in the catalog index at all (a sparse GSI)."""
        return self.status is ProductStatus.LISTED or self.list_at is not None


MAX_ORDER_CHANGES = 3     # 改单: an unpaid order's lines, visitors or coupon changed at most this often

# Why an unpaid order was ended by the system rather than its customer.
CANCELLED_PAYMENT_MISMATCH = "payment_amount_mismatch"   # paid a wrong amount: refunded, cannot be paid


class OrderStatus(str, Enum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REFUNDING = "REFUNDING"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.REFUNDING}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.COMPLETED, OrderStatus.REFUNDING}),
    # A refund in flight settles the order (REFUNDED, PARTIALLY_REFUNDED, or back to what it was
    # when no money moved); nobody moves it meanwhile.
    OrderStatus.REFUNDING: frozenset({OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED}),
    # Goods not refunded with the tickets of a partial refund can still be shipped.
    OrderStatus.PARTIALLY_REFUNDED: frozenset({OrderStatus.REFUNDING, OrderStatus.COMPLETED, OrderStatus.SHIPPED}),
    OrderStatus.COMPLETED: frozenset({OrderStatus.REFUNDING}),
}


def can_become(current: OrderStatus, target: OrderStatus) -> bool:
    return target in _TRANSITIONS.get(current, frozenset())


def awaiting_shipment(status: OrderStatus, fulfillment: str | None, shipped: bool, goods_claimed: bool) -> bool:
    """Paid goods for delivery by post that staff may ship now: not shipped, not claimed by a refund."""
    return fulfillment == "shipping" and not shipped and not goods_claimed and can_become(status, OrderStatus.SHIPPED)


def check_transition(current: OrderStatus, target: OrderStatus) -> None:
    if not can_become(current, target):
        raise Conflict(f"an order in {current.value} cannot become {target.value}",
                       code=ErrorCode.INVALID_STATE, status=current.value)


@dataclass(frozen=True)
class OrderLine:
    sku_id: str
    product_id: str
    product_name: str
    sku_name: str
    kind: Kind
    unit_price: int
    quantity: int
    session: Session | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    category: str = ""
    # Where the units were reserved: bucket -> units (bucket 0 is the SKU item; see
    # domain.stock_shards). Empty for a line whose SKU was not sharded: all from bucket 0.
    stock_shares: dict[int, int] = field(default_factory=dict)
    discount: int = 0             # what promotions took off this line (fen; see domain.pricing)

    @property
    def shares(self) -> dict[int, int]:
        return self.stock_shares or {0: self.quantity}

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity

    @property
    def paid(self) -> int:
        return self.subtotal - self.discount

    def unit_paid(self) -> list[int]:
        """What each unit paid, and so refunds: `paid` over the units by largest remainder (the
        first units a fen more), so that the units of a line sum to its `paid` exactly."""
        return share(self.paid, [1] * self.quantity)


@dataclass(frozen=True)
class Visitor:
    """The person a real-name ticket admits; the ID number is encrypted at rest."""
    name: str
    id_type: str
    id_number: str
    sku_id: str = ""


@dataclass(frozen=True)
class Address:
    recipient: str
    phone: str
    region: str
    detail: str


@dataclass(frozen=True)
class HistoryEntry:
    status: OrderStatus
    at: datetime
    by: str


@dataclass
class Order(PricedLines):
    order_id: str
    user_id: str
    status: OrderStatus
    lines: list[OrderLine]
    created_at: datetime
    expires_at: datetime
    contact_name: str
    contact_phone: str
    visitors: list[Visitor] = field(default_factory=list)
    fulfillment: Fulfillment | None = None
    address: Address | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    shipment: dict[str, str] | None = None
    transaction_id: str | None = None
    paid_at: datetime | None = None
    tickets_total: int = 0
    tickets_issued: int = 0
    pickup_code: str | None = None
    refunded_total: int = 0
    refunds_in_flight: int = 0
    merch_refund: str | None = None
    before_refund: OrderStatus | None = None     # what a REFUNDING order goes back to if no money moves
    shipped_at: datetime | None = None
    cancel_reason: str | None = None             # why it ended unpaid, when its customer did not end it
    holds_unpaid: bool = False                   # counted in its customer's unpaid holds while pending
    promotions: list[Promotion] = field(default_factory=list)   # what took the discount off, in order
    coupon_id: str | None = None                 # the user coupon it holds (LOCKED, then USED)
    attempt: int = 1                             # its payment attempt: the open one, or the paid one
    changes: int = 0                             # changes made to it unpaid (改单)

    @property
    def trade_no(self) -> str:
        """The out_trade_no of its open (or paid) payment attempt at WeChat."""
        return identifiers.trade_no(self.order_id, self.attempt)

    @property
    def changes_left(self) -> int:
        return max(0, MAX_ORDER_CHANGES - self.changes)

    def as_placed(self) -> "Order":
        """The order as it was when placed: what an Idempotency-Key replay answers."""
        return dataclasses.replace(self, status=OrderStatus.PENDING_PAYMENT, history=self.history[:1],
                                   shipment=None, paid_at=None, transaction_id=None, shipped_at=None)

    def quantities_by_product(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
        return totals


# Movements by which an order comes to hold a unit of a SKU, with its order_id: placing (or
# changing) the order, and a ticket rescheduled into the session (改签). A session's orders are
# found by them (session cancellation).
ORDER_RESERVED = "order_reserved"
RESCHEDULED_IN, RESCHEDULED_OUT = "reschedule_in", "reschedule_out"
RETURNED = "return"              # goods sent back under after-sales, on sale again (restocked)
TAKES_A_UNIT = frozenset({ORDER_RESERVED, RESCHEDULED_IN})


@dataclass(frozen=True)
class StockMovement:
    """One line of a SKU's stock ledger: every change of `available`, with who or what made it."""
    delta: int
    reason: str
    at: datetime
    actor: str | None = None
    order_id: str | None = None
