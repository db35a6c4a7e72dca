"""After-sales for goods (售后): a return with refund (退货退款) or an exchange (换货) of goods the
customer already has. What may be asked for, until when, and how a request moves; the use cases
(service_layer/after_sales.py) read, ask here, and write each step in one transaction.

States: REQUESTED -> APPROVED -> RETURNING -> RECEIVED -> COMPLETED; REJECTED; CANCELLED. A return
completes when its refund succeeds, an exchange when the replacement is shipped or handed over."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from .error_codes import ErrorCode
from .errors import Conflict, InvalidInput, NotFound, RuleViolation
from .model import Kind, Order, OrderLine, OrderStatus, Sku
from .tickets import CodeKind, Ticket, TicketStatus
from .validation import Fields

DEFAULT_AFTER_SALES_DAYS = 7
# A request's lines bound every step's transaction: receive writes the after-sale, per line its
# counts, its stock (a SKU item, or at most 2 buckets of a sharded one) and a movement, then the
# refund, the order and the audit record: 1 + 4 x 20 + 3 <= 100 (domain/transactions.MAX_ITEMS).
MAX_AFTER_SALE_LINES = 20
MAX_DESCRIPTION = 500
MAX_NOTE = 500
MAX_REASON = 200
# Orders whose goods may be under after-sales: paid for, not (wholly) refunded.
OPEN_ORDER_STATES = frozenset({OrderStatus.PAID, OrderStatus.COMPLETED, OrderStatus.REFUNDING,
                               OrderStatus.PARTIALLY_REFUNDED})


class AfterSaleType(str, Enum):
    RETURN_REFUND = "return_refund"
    EXCHANGE = "exchange"


class AfterSaleStatus(str, Enum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    RETURNING = "RETURNING"
    RECEIVED = "RECEIVED"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


REASONS = ("damaged", "wrong_item", "not_as_described", "size", "no_longer_needed", "other")
# States in which the units stay taken (counted against what is left to ask for).
HOLDS_UNITS = frozenset({AfterSaleStatus.REQUESTED, AfterSaleStatus.APPROVED, AfterSaleStatus.RETURNING,
                         AfterSaleStatus.RECEIVED, AfterSaleStatus.COMPLETED})
_ALLOWED = {
    AfterSaleStatus.REQUESTED: {AfterSaleStatus.APPROVED, AfterSaleStatus.REJECTED, AfterSaleStatus.CANCELLED},
    AfterSaleStatus.APPROVED: {AfterSaleStatus.RETURNING, AfterSaleStatus.RECEIVED, AfterSaleStatus.REJECTED,
                               AfterSaleStatus.CANCELLED},
    AfterSaleStatus.RETURNING: {AfterSaleStatus.RECEIVED, AfterSaleStatus.REJECTED, AfterSaleStatus.CANCELLED},
    AfterSaleStatus.RECEIVED: {AfterSaleStatus.COMPLETED},
}


@dataclass
class AfterSaleEntry:
    status: AfterSaleStatus
    at: datetime
    by: str


@dataclass
class AfterSale:
    after_sale_id: str
    order_id: str
    user_id: str
    type: AfterSaleType
    status: AfterSaleStatus
    lines: list[tuple[str, int]]                 # (sku_id, quantity)
    reason: str
    created_at: datetime
    description: str | None = None
    exchange_sku_id: str | None = None
    history: list[AfterSaleEntry] = field(default_factory=list)
    return_shipment: dict[str, str] | None = None     # {carrier, tracking_no} or {at_counter: "true"}
    reject_reason: str | None = None
    restocked: bool | None = None
    receive_note: str | None = None
    refund_id: str | None = None
    amount: int | None = None                    # what the return refunds (its units' paid)
    replacement_shares: dict[int, int] = field(default_factory=dict)   # where the replacement is reserved
    shipment: dict[str, str] | None = None       # the replacement's: {carrier, tracking_no} or {pickup_code}

    @property
    def units(self) -> int:
        return sum(q for _, q in self.lines)

    def moved(self, target: AfterSaleStatus, at: datetime, by: str) -> AfterSaleEntry:
        check_transition(self.status, target)
        return AfterSaleEntry(target, at, by)


def check_transition(current: AfterSaleStatus, target: AfterSaleStatus) -> None:
    if target not in _ALLOWED.get(current, set()):
        raise Conflict(f"an after-sale in {current.value} cannot become {target.value}",
                       code=ErrorCode.INVALID_STATE, status=current.value)


def refund_id_for(after_sale_id: str) -> str:
    """A return's refund id follows from its after-sale's: one refund per return, whatever is
    retried, and the settlement finds the after-sale from its refund."""
    return "R" + after_sale_id


def after_sale_of_refund(refund_id: str) -> str:
    return refund_id[1:]


def not_found(after_sale_id: str) -> NotFound:
    return NotFound("no such after-sale", code=ErrorCode.AFTER_SALE_NOT_FOUND, after_sale_id=after_sale_id)


# ---------------------------------------------------------------------------------- commands
@dataclass(frozen=True)
class AfterSaleRequest:
    type: AfterSaleType
    lines: list[tuple[str, int]]
    reason: str
    description: str | None = None
    exchange_sku_id: str | None = None


@dataclass(frozen=True)
class ReturnShipment:
    carrier: str | None = None
    tracking_no: str | None = None
    at_counter: bool = False

    def shown(self) -> dict[str, str]:
        if self.at_counter:
            return {"at_counter": "true"}
        return {"carrier": self.carrier or "", "tracking_no": self.tracking_no or ""}


@dataclass(frozen=True)
class Receipt:
    restock: bool
    note: str | None = None


@dataclass(frozen=True)
class Replacement:
    carrier: str | None = None
    tracking_no: str | None = None
    pickup: bool = False


def parse_request(data: object) -> AfterSaleRequest:
    f = Fields(data)
    f.only({"type", "lines", "reason", "description", "exchange_sku_id"})
    kind = AfterSaleType(f.choice("type", tuple(t.value for t in AfterSaleType)))
    lines: dict[str, int] = {}
    for line in f.objects("lines", max_items=MAX_AFTER_SALE_LINES, min_items=1):
        line.only({"sku_id", "quantity"})
        sku_id = line.string("sku_id", max_len=64) or ""
        if sku_id in lines:
            raise InvalidInput("each SKU once in lines", field="lines")
        lines[sku_id] = line.integer("quantity", minimum=1, maximum=999) or 0
    reason = f.choice("reason", REASONS) or "other"
    description = f.string("description", required=False, max_len=MAX_DESCRIPTION)
    exchange = f.string("exchange_sku_id", required=False, max_len=64)
    if kind is AfterSaleType.EXCHANGE and not exchange:
        raise InvalidInput("an exchange names exchange_sku_id", field="exchange_sku_id")
    if kind is AfterSaleType.RETURN_REFUND and exchange:
        raise InvalidInput("only an exchange names exchange_sku_id", field="exchange_sku_id")
    if kind is AfterSaleType.EXCHANGE and len(lines) != 1:
        raise InvalidInput("an exchange is of one line (one spec for another)", field="lines")
    return AfterSaleRequest(kind, sorted(lines.items()), reason, description, exchange)


def parse_return(data: object) -> ReturnShipment:
    f = Fields(data)
    f.only({"carrier", "tracking_no", "at_counter"})
    if f.has("at_counter"):
        if not f.boolean("at_counter") or f.has("carrier") or f.has("tracking_no"):
            raise InvalidInput("either {carrier, tracking_no} or {at_counter: true}", field="at_counter")
        return ReturnShipment(at_counter=True)
    return ReturnShipment(f.string("carrier", max_len=50), f.string("tracking_no", max_len=50))


def parse_receipt(data: object) -> Receipt:
    f = Fields(data)
    f.only({"restock", "note"})
    if not isinstance(f.data.get("restock"), bool):     # staff say whether the goods go back on sale
        raise InvalidInput("restock is required: true or false", field="restock")
    return Receipt(f.boolean("restock"), f.string("note", required=False, max_len=MAX_NOTE))


def parse_replacement(data: object) -> Replacement:
    f = Fields(data)
    f.only({"carrier", "tracking_no", "pickup"})
    if f.has("pickup"):
        if not f.boolean("pickup") or f.has("carrier") or f.has("tracking_no"):
            raise InvalidInput("either {carrier, tracking_no} or {pickup: true}", field="pickup")
        return Replacement(pickup=True)
    return Replacement(f.string("carrier", max_len=50), f.string("tracking_no", max_len=50))


def parse_reject(data: object) -> str:
    f = Fields(data)
    f.only({"reason"})
    return f.string("reason", max_len=MAX_REASON) or ""


# ---------------------------------------------------------------------------------- the rules
def handed_over_at(order: Order, pickup: Ticket | None) -> datetime | None:
    """When the customer got the goods: the pickup code's redemption, or the receipt (COMPLETED
    after shipping). None while they have not."""
    if pickup is not None and pickup.status is TicketStatus.REDEEMED:
        return pickup.redeemed_at
    if order.shipment is not None:
        return next((h.at for h in order.history if h.status is OrderStatus.COMPLETED), None)
    return None


def check_not_after_sales(order: Order, codes: list[Ticket], ticket_ids: list[str] | None) -> None:
    """A refund of goods the customer already has (pickup code redeemed, or received after
    shipping) is refused: they come back through a return (409 USE_AFTER_SALES). A refund asked
    before the handover keeps its rule; one naming tickets only is no refund of goods."""
    if ticket_ids is not None or order.merch_refund is not None \
            or not any(line.kind is Kind.MERCH for line in order.lines):
        return
    pickup = next((t for t in codes if t.kind is CodeKind.PICKUP and t.code == order.pickup_code), None)
    if handed_over_at(order, pickup) is not None:
        raise Conflict("these goods were handed over; return them through after-sales",
                       code=ErrorCode.USE_AFTER_SALES, order_id=order.order_id)


def check_window(order: Order, pickup: Ticket | None, now: datetime, days: int,
                 since: datetime | None = None) -> None:
    """Only goods the customer has, within `days` of getting them (422 AFTER_SALES_CLOSED after):
    the order's handover, or `since` for replacements an exchange handed over later."""
    if order.status not in OPEN_ORDER_STATES or order.merch_refund is not None:
        raise Conflict(f"goods of an order in {order.status.value} cannot be returned or exchanged"
                       + (" (a refund claims them)" if order.merch_refund else ""),
                       code=ErrorCode.INVALID_STATE, status=order.status.value)
    at = handed_over_at(order, pickup)
    if at is None:
        raise Conflict("the goods have not been handed over or received yet; ask for a refund instead",
                       code=ErrorCode.INVALID_STATE, status=order.status.value)
    at = max(at, since) if since is not None else at
    if now > at + timedelta(days=days):
        raise RuleViolation(f"after-sales close {days} days after the goods were received",
                            code=ErrorCode.AFTER_SALES_CLOSED, received_at=at.isoformat(), days=days)


def check_exchange(line: OrderLine, target: Sku | None, product_id: str) -> None:
    """Another spec (SKU) of the same product at the same price."""
    if target is None:
        raise NotFound("no such SKU", code=ErrorCode.SKU_NOT_FOUND)
    if target.product_id != product_id or target.sku_id == line.sku_id or target.price != line.unit_price:
        raise Conflict("an exchange is for another spec of the same product at the same price",
                       code=ErrorCode.INVALID_STATE, sku_id=target.sku_id)


def refund_amount(line: OrderLine, quantity: int, already_back: int) -> int:
    """What `quantity` units of a line refund: their shares of its `paid` (OrderLine.unit_paid),
    the units already returned or refunded counted first, so that every unit of the line refunds
    its own share once and they sum to what was paid."""
    shares = line.unit_paid()
    return sum(shares[already_back:already_back + quantity])


def all_goods_returned(order: Order, refunded: dict[str, int]) -> bool:
    """Every unit of the order's goods came back through returns: each goods line's units
    `refunded` by returns (its units item's count, read consistently) cover what was bought.
    The order holds no goods any more (what a fully refunded order is judged by)."""
    goods = [line for line in order.lines if line.kind is Kind.MERCH]
    return bool(goods) and all(refunded.get(line.sku_id, 0) >= line.quantity for line in goods)


@dataclass(frozen=True)
class LineUnits:
    """An order line's units under after-sales: `taken` by requests (never beyond what was
    bought), and of those, how many a return has `refunded` and how many went back to stock
    (`restocked`). The last two are the offsets a receipt starts from: a line's units refund
    its shares of `paid` in turn, and go back to the buckets it took them from in turn."""
    taken: int = 0
    refunded: int = 0
    restocked: int = 0
