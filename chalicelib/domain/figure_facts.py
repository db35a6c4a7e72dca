"""What the stores' items say, as the back office's figures read them (adapters.change_stream
reads the stream records into these): an order's sale, a refund, a ticket's admission, a SKU's
low stock, a user coupon's claim and use, an after-sale's request and end, and a change of one of them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Union

MEMBER = "member"                   # the promotions report's one row for every tier's member discount


@dataclass(frozen=True)
class SaleLine:
    product_id: str
    product_name: str
    sku_id: str
    sku_name: str
    category: str
    kind: str
    units: int
    amount: int                     # fen: what the line paid (its list price less its discount)
    session_start: datetime | None = None
    discount: int = 0               # fen: what promotions took off the line


@dataclass(frozen=True)
class AppliedPromotion:
    """One step of an order's discount, as the promotions report counts it."""
    kind: str                       # member | full_reduction | coupon
    id: str                         # the tier, the promotion, or the coupon (template, not the user coupon)
    name: str
    amount: int                     # fen taken off the order

    @property
    def key(self) -> str:
        return MEMBER if self.kind == MEMBER else self.id


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    paid_at: datetime | None        # set once, when WeChat's payment is accepted: a sale
    lines: tuple[SaleLine, ...]
    awaiting_shipment: bool         # paid goods for delivery by post, not shipped, not being refunded
    user_id: str = ""
    promotions: tuple[AppliedPromotion, ...] = ()
    refunded: bool = False          # some of its money is back (refunded_total > 0): once true, true for good

    @property
    def total(self) -> int:
        """What the order paid: its lines' `paid` (the order's `total`)."""
        return sum(line.amount for line in self.lines)


@dataclass(frozen=True)
class RefundFacts:
    refund_id: str
    order_id: str
    amount: int
    succeeded_at: datetime | None   # money back with the customer, for a sale (not an automatic refund)
    stock_lines: tuple[tuple[str, int], ...]
    awaiting_review: bool
    failed: bool                    # FAILED and not taken over by a newer refund
    revokes: bool                   # approved and not taken over: its tickets are no longer issued


@dataclass(frozen=True)
class TicketFacts:
    code: str
    sku_id: str
    product_id: str
    product_name: str
    sku_name: str
    session_start: datetime | None
    admitted_at: datetime | None    # when the gate scanned it (an offline scan's own time)
    gate: str | None
    rescheduled_from: str | None = None   # 改签: the ticket it replaced
    revoked_by: str | None = None         # a refund's id, or reschedule:<its successor>


@dataclass(frozen=True)
class SkuFacts:
    sku_id: str
    below_threshold: bool
    sale_ends: datetime | None      # a ticket's valid_until; goods sell on


@dataclass(frozen=True)
class UserCouponFacts:
    user_coupon_id: str
    coupon_id: str                  # its template
    name: str
    used: bool                      # USED: it paid for an order (AVAILABLE again if that order is refunded)
    claimed_at: datetime
    locked: bool = False            # LOCKED: held by an unpaid order
    valid_until: datetime | None = None


@dataclass(frozen=True)
class AfterSaleFacts:
    """An after-sale (售后) as its item says: not its `units#` counters, which are no request."""
    after_sale_id: str
    type: str                       # return_refund | exchange
    status: str                     # domain.after_sales.AfterSaleStatus's value
    reason: str
    created_at: datetime            # when the customer asked
    status_at: datetime             # when it took its status (its last history entry)
    amount: int = 0                 # fen: what a return refunds (its units' paid)


Facts = Union[OrderFacts, RefundFacts, TicketFacts, SkuFacts, UserCouponFacts, AfterSaleFacts]


@dataclass(frozen=True)
class Change:
    """One item of a store changed: as it was (None when new) and as it is (None when gone)."""
    change_id: str                  # the same on every redelivery of the change
    kind: str                       # order | refund | ticket | sku | user_coupon | after_sale
    old: Facts | None
    new: Facts | None
    position: str = ""              # where it is in its stream, to ask for it again
