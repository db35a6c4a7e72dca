"""The back office's figures as counters in buckets, and what each change of an order, refund,
ticket, SKU or user coupon adds to them.

A change is seen twice, as it was and as it is; its contribution is figures(new) - figures(old).
So a paid order adds its sale once (paid_at appears once), a later status change of the same
order adds nothing, and a ticket whose admission an earlier offline scan took over moves from
one gate or hour to the other. Buckets are per venue day (sales, admissions, promotions), per
session day (tickets issued), per claim day (coupons), per customer (spend) or one for the work
waiting, so that a report reads a few items whatever the number of orders."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .ticket_changes import moved_away
from .figure_facts import MEMBER, OrderFacts, RefundFacts, SkuFacts, TicketFacts

SALES_DIMENSIONS = ("day", "hour", "product", "sku", "category")
ADMISSION_DIMENSIONS = ("hour", "gate", "sku", "session")
SALES_COUNTERS = ("orders", "units", "gross", "discount", "refunded")
PROMOTION_COUNTERS = ("orders", "discount", "gross")
COUPON_COUNTERS = ("issued", "used")
MEMBER_LABEL = "会员价"
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


def single_shard(bucket: str) -> bool:
    """Buckets kept in shard 0 only: read as one item by a keyed read (the order path's)."""
    return bucket.startswith(SPEND)


def promotions_bucket(day: date) -> str:
    """What each promotion took off the orders paid that venue day: `<key>|orders`, `|discount`,
    `|gross`, labelled with its name and kind; the key is the coupon's (template's) id, the
    full reduction's id, or `member` for the member discount of every tier."""
    return f"promotions#{day.isoformat()}"


def coupons_bucket(claim_day: date) -> str:
    """User coupons by the venue day they were claimed (a cohort): `<coupon_id>|issued` (claims
    made that day) and `<coupon_id>|used` (how many of those are USED now). A report of a range
    reads the claims made in it, and how many of them were used, whenever that was."""
    return f"coupons#{claim_day.isoformat()}"


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
    total = order.total
    units = sum(line.units for line in order.lines)
    discount = sum(line.discount for line in order.lines)
    # An order with money back, counted on the day it was paid (so that of a range's paid orders, the
    # after-sales report's refund rate reads how many had a refund), once: refunded stays true.
    figures.add(sales_bucket(day, "day"), "", "refunded_orders", 1 if order.refunded else 0)
    for dimension, key in (("day", ""), ("hour", hour)):
        bucket = sales_bucket(day, dimension)
        figures.add(bucket, key, "orders", 1)
        figures.add(bucket, key, "units", units)
        figures.add(bucket, key, "gross", total)
        figures.add(bucket, key, "discount", discount)
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
            figures.add(bucket, key, "discount", line.discount)
            figures.label(bucket, key, label_of(line))
    for line in order.lines:
        if line.kind == "ticket":
            _issued(figures, line.units, line.sku_id, line.product_id, line.product_name, line.sku_name,
                    line.session_start, zone)
    if order.user_id:
        figures.add(spend_bucket(order.user_id), day.isoformat(), "paid", total)
    _promotion_figures(figures, order, day)
    return figures


def _promotion_figures(figures: Figures, order: OrderFacts, day: date) -> None:
    """Each promotion the order took, on the day it was paid: one order, what it took off, and
    what the order paid. A refund does not give a promotion's discount back (the units kept keep
    their shares; a coupon returned to its customer is counted in `coupons`): these rows stay as
    the sale made them."""
    bucket = promotions_bucket(day)
    seen: set[str] = set()
    for promotion in order.promotions:
        key = promotion.key
        if key not in seen:
            figures.add(bucket, key, "orders", 1)
            figures.add(bucket, key, "gross", order.total)
            seen.add(key)
        figures.add(bucket, key, "discount", promotion.amount)
        figures.label(bucket, key, MEMBER_LABEL if key == MEMBER else promotion.name)
        figures.labels[(bucket, f"{key}|kind")] = promotion.kind


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
    back (by what its units paid), or over the whole order when it names nothing; it comes off
    its customer's spend on the day the order was paid. Tickets it took back are no longer issued
    from its approval on (a refund that takes over another's tickets takes over their count too).
    An automatic refund (money for an order that was no longer pending) is none of these: it
    never was a sale."""
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
    if sale.user_id and sale.paid_at is not None:
        # A member's spend is net of refunds, on the day the order was paid (so a refund of an
        # old order takes no more than that order gave): never more than the order paid.
        figures.add(spend_bucket(sale.user_id), venue_day(sale.paid_at, zone).isoformat(), "paid",
                    -min(refund.amount, sale.total))
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


def _issued(figures: Figures, units: int, sku_id: str, product_id: str, product_name: str, sku_name: str,
            session_start: datetime | None, zone: str) -> None:
    """Tickets of a session out (issued, not taken back), kept by the day of their session."""
    bucket = issued_bucket(venue_day(session_start, zone) if session_start else None)
    figures.add(bucket, sku_id, "issued", units)
    figures.label(bucket, sku_id, f"{product_name} · {sku_name}")
    if session_start:
        figures.labels[(bucket, f"{sku_id}|session")] = session_key(product_id, session_start, zone)
        figures.labels[(bucket, f"{sku_id}|session_label")] = session_label(product_name, session_start, zone)


def ticket_figures(ticket: TicketFacts | None, zone: str) -> Figures:
    """An admission (a ticket redeemed at a gate). Issuing and revoking count with the sale and
    the refund instead: once per order, not once per ticket; except a 改签, which the order does
    not see: the ticket that moved away counts one less issued in its session, the one issued in
    its place one more in its own, until a refund takes it (whose figures know only the order's
    sessions)."""
    figures = Figures()
    if ticket is None:
        return figures
    moved = (1 if ticket.rescheduled_from and not (ticket.revoked_by and not moved_away(ticket.revoked_by)) else 0) \
        - (1 if moved_away(ticket.revoked_by) else 0)
    if moved:
        _issued(figures, moved, ticket.sku_id, ticket.product_id, ticket.product_name, ticket.sku_name,
                ticket.session_start, zone)
    if ticket.admitted_at is None:
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
