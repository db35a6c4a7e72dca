"""The back office's figures as counters in buckets, and what each change of an order, refund,
ticket or SKU adds to them.

A change is seen twice, as it was and as it is; its contribution is figures(new) - figures(old).
So a paid order adds its sale once (paid_at appears once), a later status change of the same
order adds nothing, and a ticket whose admission an earlier offline scan took over moves from
one gate or hour to the other. Buckets are per venue day (sales, admissions), per session day
(tickets issued) or one for the work waiting, so that a report reads a few items whatever the
number of orders."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Union
from zoneinfo import ZoneInfo

SALES_DIMENSIONS = ("day", "hour", "product", "sku", "category")
ADMISSION_DIMENSIONS = ("hour", "gate", "sku", "session")
SALES_COUNTERS = ("orders", "units", "gross", "refunded")
OPEN = "open"                       # tickets without a session: valid over a period
TODO = "todo"

Cell = tuple[str, str]              # (bucket, counter or label name)


def sales_bucket(day: date, dimension: str) -> str:
    """`day` holds the day's totals; the others one counter set per hour, product, SKU or category."""
    return f"sales#{day.isoformat()}#{dimension}"


def admissions_bucket(day: date, dimension: str) -> str:
    return f"admissions#{day.isoformat()}#{dimension}"


SPEND = "spend#"


def spend_bucket(user_id: str) -> str:
    """A customer's paid spend, net of refunds, by venue day (`<YYYY-MM-DD>|paid`): what the
    member tier follows. One customer's writes are few, so it is one item (shard 0), which the
    order path reads in its one batched read."""
    return f"{SPEND}{user_id}"


def issued_bucket(session_day: date | None) -> str:
    return f"issued#{session_day.isoformat() if session_day else OPEN}"


@dataclass
class Figures:
    """Counter increments and the labels that name their keys (a product's name, ...)."""
    counts: Counter[Cell] = field(default_factory=Counter)
    labels: dict[Cell, str] = field(default_factory=dict)

    def add(self, bucket: str, key: str, counter: str, amount: int) -> None:
        if amount:
            self.counts[(bucket, f"{key}|{counter}" if key else counter)] += amount

    def label(self, bucket: str, key: str, text: str) -> None:
        self.labels[(bucket, f"{key}|label")] = text

    def minus(self, other: Figures) -> Figures:
        counts: Counter[Cell] = Counter(self.counts)
        counts.subtract(other.counts)
        return Figures(Counter({cell: n for cell, n in counts.items() if n}), {**other.labels, **self.labels})

    def merge(self, other: Figures) -> None:
        self.counts.update(other.counts)
        self.counts = Counter({cell: n for cell, n in self.counts.items() if n})
        self.labels.update(other.labels)

    @property
    def empty(self) -> bool:
        return not self.counts

    def buckets(self) -> set[str]:
        return {bucket for bucket, _ in self.counts}


# ------------------------------------------------------------------ what the stores' items say

@dataclass(frozen=True)
class SaleLine:
    product_id: str
    product_name: str
    sku_id: str
    sku_name: str
    category: str
    kind: str
    units: int
    amount: int                     # fen
    session_start: datetime | None = None


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    paid_at: datetime | None        # set once, when WeChat's payment is accepted: a sale
    lines: tuple[SaleLine, ...]
    awaiting_shipment: bool         # paid goods for delivery by post, not shipped, not being refunded


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


@dataclass(frozen=True)
class SkuFacts:
    sku_id: str
    below_threshold: bool
    sale_ends: datetime | None      # a ticket's valid_until; goods sell on


Facts = Union[OrderFacts, RefundFacts, TicketFacts, SkuFacts]


@dataclass(frozen=True)
class Change:
    """One item of a store changed: as it was (None when new) and as it is (None when gone)."""
    change_id: str                  # the same on every redelivery of the change
    kind: str                       # order | refund | ticket | sku
    old: Facts | None
    new: Facts | None
    position: str = ""              # where it is in its stream, to ask for it again


# ------------------------------------------------------------------ figures of one item

def venue_day(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


def session_key(product_id: str, start: datetime, zone: str) -> str:
    return f"{product_id}@{start.astimezone(ZoneInfo(zone)).strftime('%Y-%m-%dT%H:%M')}"


def session_label(product_name: str, start: datetime, zone: str) -> str:
    return f"{product_name} {start.astimezone(ZoneInfo(zone)).strftime('%m-%d %H:%M')}"


def order_figures(order: OrderFacts | None, zone: str) -> Figures:
    figures = Figures()
    if order is None:
        return figures
    if order.awaiting_shipment:
        figures.add(TODO, "", "to_ship", 1)
    if order.paid_at is None:
        return figures
    day, hour = venue_day(order.paid_at, zone), order.paid_at.astimezone(ZoneInfo(zone)).strftime("%H")
    total = sum(line.amount for line in order.lines)
    units = sum(line.units for line in order.lines)
    for dimension, key in (("day", ""), ("hour", hour)):
        bucket = sales_bucket(day, dimension)
        figures.add(bucket, key, "orders", 1)
        figures.add(bucket, key, "units", units)
        figures.add(bucket, key, "gross", total)
    for dimension, key_of, label_of in (
            ("product", lambda li: li.product_id, lambda li: li.product_name),
            ("sku", lambda li: li.sku_id, lambda li: f"{li.product_name} · {li.sku_name}"),
            ("category", lambda li: li.category or "-", lambda li: li.category or "未分类")):
        bucket = sales_bucket(day, dimension)
        seen: set[str] = set()
        for line in order.lines:
            key = key_of(line)
            if key not in seen:                       # an order counts once per product, SKU, category
                figures.add(bucket, key, "orders", 1)
                seen.add(key)
            figures.add(bucket, key, "units", line.units)
            figures.add(bucket, key, "gross", line.amount)
            figures.label(bucket, key, label_of(line))
    for line in order.lines:
        if line.kind == "ticket":
            session_day = venue_day(line.session_start, zone) if line.session_start else None
            bucket = issued_bucket(session_day)
            figures.add(bucket, line.sku_id, "issued", line.units)
            figures.label(bucket, line.sku_id, f"{line.product_name} · {line.sku_name}")
            if line.session_start:
                figures.labels[(bucket, f"{line.sku_id}|session")] = session_key(line.product_id, line.session_start, zone)
                figures.labels[(bucket, f"{line.sku_id}|session_label")] = session_label(
                    line.product_name, line.session_start, zone)
    return figures


def allocate(amount: int, weights: list[tuple[str, int]]) -> dict[str, int]:
    """`amount` split in proportion to the weights, in whole fen that add up exactly (largest
    remainder; ties go to the first)."""
    total = sum(w for _, w in weights)
    if not weights or total <= 0:
        return {}
    shares = {key: amount * w // total for key, w in weights}
    left = amount - sum(shares.values())
    by_remainder = sorted(range(len(weights)), key=lambda i: -((amount * weights[i][1]) % total))
    for i in by_remainder[:left]:
        shares[weights[i][0]] += 1
    return shares


def refund_figures(refund: RefundFacts | None, sale: OrderFacts | None, zone: str) -> Figures:
    """A refund that succeeded counts on the day the money went back, split over what it took
    back (by price), or over the whole order when it names nothing. Tickets it took back are no
    longer issued from its approval on (a refund that takes over another's tickets takes over
    their count too)."""
    figures = Figures()
    if refund is None:
        return figures
    if refund.awaiting_review:
        figures.add(TODO, "", "refund_requests", 1)
    if refund.failed:
        figures.add(TODO, "", "failed_refunds", 1)
    if sale is None:
        return figures
    lines = {line.sku_id: line for line in sale.lines}
    if refund.revokes:
        for sku_id, quantity in refund.stock_lines:
            line = lines.get(sku_id)
            if line is not None and line.kind == "ticket":
                session_day = venue_day(line.session_start, zone) if line.session_start else None
                figures.add(issued_bucket(session_day), sku_id, "issued", -quantity)
    if refund.succeeded_at is None:
        return figures
    returned = [(sku, qty * (lines[sku].amount // max(lines[sku].units, 1))) for sku, qty in refund.stock_lines
                if sku in lines]
    shares = allocate(refund.amount, returned or [(line.sku_id, line.amount) for line in sale.lines])
    day, hour = venue_day(refund.succeeded_at, zone), refund.succeeded_at.astimezone(ZoneInfo(zone)).strftime("%H")
    figures.add(sales_bucket(day, "day"), "", "refunded", refund.amount)
    figures.add(sales_bucket(day, "hour"), hour, "refunded", refund.amount)
    for sku_id, share in shares.items():
        line = lines[sku_id]
        for dimension, key, label in (("product", line.product_id, line.product_name),
                                      ("sku", sku_id, f"{line.product_name} · {line.sku_name}"),
                                      ("category", line.category or "-", line.category or "未分类")):
            figures.add(sales_bucket(day, dimension), key, "refunded", share)
            figures.label(sales_bucket(day, dimension), key, label)
    return figures


def ticket_figures(ticket: TicketFacts | None, zone: str) -> Figures:
    """An admission (a ticket redeemed at a gate). Issuing and revoking count with the sale and
    the refund instead: once per order, not once per ticket."""
    figures = Figures()
    if ticket is None or ticket.admitted_at is None:
        return figures
    local = ticket.admitted_at.astimezone(ZoneInfo(zone))
    day = local.date()
    figures.add(admissions_bucket(day, "day"), "", "redeemed", 1)
    keys = {"hour": (local.strftime("%H"), f"{local.strftime('%H')}:00"),
            "gate": (ticket.gate or "-", ticket.gate or "-"),
            "sku": (ticket.sku_id, f"{ticket.product_name} · {ticket.sku_name}")}
    if ticket.session_start:
        keys["session"] = (session_key(ticket.product_id, ticket.session_start, zone),
                           session_label(ticket.product_name, ticket.session_start, zone))
    session_day = venue_day(ticket.session_start, zone).isoformat() if ticket.session_start else OPEN
    for dimension, (key, label) in keys.items():
        figures.add(admissions_bucket(day, dimension), key, "redeemed", 1)
        figures.label(admissions_bucket(day, dimension), key, label)
        if dimension in ("sku", "session"):      # where its tickets' issued count is kept
            figures.labels[(admissions_bucket(day, dimension), f"{key}|session_day")] = session_day
    return figures


def sku_figures(sku: SkuFacts | None, zone: str) -> Figures:
    """Low stock is work only while the SKU still sells: it is counted by the day its sale
    ends, and the dashboard adds up the days not yet past."""
    figures = Figures()
    if sku is not None and sku.below_threshold:
        until = venue_day(sku.sale_ends, zone).isoformat() if sku.sale_ends else OPEN
        figures.add(TODO, "low_stock", until, 1)
    return figures
