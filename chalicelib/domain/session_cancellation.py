"""The venue cancels a session (场次取消: typhoon, closure). Its rules, apart from storage:

- which SKUs may be cancelled (a ticket session not yet over; never goods), and the reason given;
- the progress of the work that follows, as one record: where it is in the session's stock
  ledgers (every order that ever held a unit of the session reserved it there, so paging through
  them finds every order without a Scan), what it has done so far, and whether it is DONE;
- how a paid order's unused tickets of the session are cut into refunds, each within one
  transaction.

The work runs in bounded steps driven by a queue message; each step commits its own transactions
and then moves the cursor (conditional on the record's `version`), so a worker that dies half way
repeats at most its own step, whose every effect is conditional and so never happens twice."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from .error_codes import ErrorCode
from .errors import Conflict, InvalidInput, NotFound
from .model import Kind, Product, Sku
from .refunds import MAX_TICKETS_PER_REFUND
from .tickets import CodeKind, Ticket, TicketStatus

MAX_REASON = 200
# One step reads one page of a ledger: at most this many movements, so at most this many orders,
# each costing a handful of requests (its read, its tickets and refunds, a close at WeChat, one or
# two transactions): a step stays far inside a Lambda's time, whatever the session's size.
MOVEMENTS_PER_STEP = 25
# Orders waiting for something else (a refund under review, a concurrent change) are asked about
# again after this long, until they can be settled.
DEFERRED_DELAY_SECONDS = 60
ORDER_CANCEL_REASON = "session_cancelled"      # an unpaid order's cancel_reason


class CancellationStatus(str, Enum):
    RUNNING = "RUNNING"
    DONE = "DONE"


class Affected(str, Enum):
    """What the cancellation did to an order, recorded once with its notice."""
    CANCELLED = "cancelled"        # unpaid: cancelled, its trade closed
    REFUNDED = "refunded"          # paid: its unused tickets of the session refunded


@dataclass
class SessionCancellation:
    """The progress record of one session's cancellation (one item, keyed by the SKU).

    `buckets` is how many ledgers the session's stock had when sales stopped (the SKU's own and
    one per shard: no split can follow a cancellation); `bucket` and `after` are the cursor: the
    ledger being read and the last movement read in it. The counters are kept exact under
    redelivery by the transactions that make each effect (see the store)."""
    sku_id: str
    product_id: str
    reason: str
    cancelled_at: datetime
    cancelled_by: str
    buckets: int
    tickets: int                         # units orders held when sales stopped (reserved + sold)
    status: CancellationStatus = CancellationStatus.RUNNING
    bucket: int = 0
    after: str | None = None
    version: int = 0                     # steps saved: a step's save is conditional on it
    orders_cancelled: int = 0
    orders_refunded: int = 0
    tickets_refunded: int = 0
    refunds_requested: int = 0
    finished_at: datetime | None = None

    @property
    def ledgers_read(self) -> bool:
        return self.bucket >= self.buckets

    @property
    def orders(self) -> int:
        """Orders the cancellation acted on so far (cancelled or refunded)."""
        return self.orders_cancelled + self.orders_refunded


@dataclass(frozen=True)
class RefundOutcomes:
    """The cancellation's refunds as they are now (read from the refunds themselves)."""
    requested: int = 0
    succeeded: int = 0
    failed: int = 0
    in_flight: int = 0
    refunded_amount: int = 0


@dataclass
class StepReport:
    """What one step did, for logs, metrics and tests."""
    orders_seen: int = 0
    cancelled: int = 0
    refunds: int = 0
    deferred: list[str] = field(default_factory=list)
    saved: bool = False
    done: bool = False


def not_on_sale(sku_id: str) -> Conflict:
    return Conflict("this session was cancelled by the venue and is not on sale", code=ErrorCode.NOT_ON_SALE,
                    sku_id=sku_id)


def not_cancelled(sku_id: str) -> NotFound:
    return NotFound("this session was never cancelled", code=ErrorCode.SESSION_NOT_CANCELLED, sku_id=sku_id)


def parse_reason(body: Any) -> str:
    """`{"reason"}`: what customers will read (shown with the session and on their refunds)."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason is required: the customers read it", field="reason")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason is at most {MAX_REASON} characters", field="reason")
    return reason


def check_cancellable(product: Product | None, sku: Sku, now: datetime) -> None:
    """Only a ticket session can be cancelled (goods are not a session: unlist them instead), and
    only before it is over: after `valid_until` its tickets are used or expired and owe nothing."""
    if product is None or product.kind is not Kind.TICKET or sku.session is None:
        raise Conflict("only a ticket session can be cancelled; goods are unlisted instead",
                       code=ErrorCode.INVALID_STATE, sku_id=sku.sku_id)
    if sku.valid_until is not None and now >= sku.valid_until:
        raise Conflict("this session is over: there is nothing left to cancel", code=ErrorCode.INVALID_STATE,
                       sku_id=sku.sku_id)


def tickets_to_refund(tickets: list[Ticket], sku_id: str, under_review: set[str]) -> tuple[list[list[Ticket]], int]:
    """A paid order's unused tickets of the session, in refunds of at most MAX_TICKETS_PER_REFUND
    (a refund revokes its codes in its own transaction), and how many wait for a refund the
    customer asked for and staff have not decided yet (never refunded twice: asked about later)."""
    unused = [t for t in tickets if t.kind is CodeKind.TICKET and t.sku_id == sku_id
              and t.status is TicketStatus.VALID and t.admitted_offline_at is None]
    waiting = sum(1 for t in unused if t.code in under_review)
    todo = sorted((t for t in unused if t.code not in under_review), key=lambda t: t.ticket_id)
    return [todo[i:i + MAX_TICKETS_PER_REFUND] for i in range(0, len(todo), MAX_TICKETS_PER_REFUND)], waiting
