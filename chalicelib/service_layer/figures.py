"""Keeping the back office's figures: each change of an order, refund, ticket, SKU, user coupon or after-sale
(a stream record) is counted once into the buckets it touches. A batch is counted in as few transactions
as fit (each holds a marker per change and one summed increment per bucket), so a redelivered
batch, or a batch cut short and sent again, counts nothing twice."""
from __future__ import annotations

import logging
from typing import Protocol

from ..domain.after_sale_figures import after_sale_figures
from ..domain.figure_facts import Change, OrderFacts, RefundFacts
from ..domain.coupon_figures import user_coupon_figures
from ..domain.figures import Figures, order_figures, refund_figures, sku_figures, ticket_figures
from . import ports
from .ports import AggregateCounters, SaleLookup
from .retrying import attempts
from .tags import ItemTag

log = logging.getLogger("micromall.figures")
MAX_WRITES = 100                    # DynamoDB's limit for one transaction
MAX_NAMES_PER_UPDATE = 150          # "#c12 :c12, " each: about 2 KB of a 4 KB update expression
COUNT_ATTEMPTS = 5


class Counting(Protocol):
    aggregates: AggregateCounters
    sales: SaleLookup
    venue_timezone: str
    clock: ports.Clock

    def unit_of_work(self) -> ports.Writes: ...


class NotCounted(Exception):
    """Counting stopped at `change` (it and those after it were not counted): the stream sends
    them again."""

    def __init__(self, change: Change) -> None:
        super().__init__(f"not counted from {change.change_id}")
        self.change = change


def contribution(change: Change, sales: dict[str, OrderFacts], zone: str) -> Figures:
    """What the change adds: the figures of the item as it is, less those of it as it was."""
    if change.kind == "order":
        return order_figures(change.new, zone).minus(order_figures(change.old, zone))  # type: ignore[arg-type]
    if change.kind == "refund":
        item = change.new or change.old
        sale = sales.get(item.order_id) if isinstance(item, RefundFacts) else None
        return refund_figures(change.new, sale, zone).minus(refund_figures(change.old, sale, zone))  # type: ignore[arg-type]
    if change.kind == "ticket":
        return ticket_figures(change.new, zone).minus(ticket_figures(change.old, zone))  # type: ignore[arg-type]
    if change.kind == "after_sale":
        return after_sale_figures(change.new, zone).minus(after_sale_figures(change.old, zone))  # type: ignore[arg-type]
    if change.kind == "user_coupon":
        return user_coupon_figures(change.new, zone).minus(user_coupon_figures(change.old, zone))  # type: ignore[arg-type]
    return sku_figures(change.new, zone).minus(sku_figures(change.old, zone))  # type: ignore[arg-type]


def _needs_sale(change: Change) -> str | None:
    """The order a refund change must be read with: only when its money or tickets count."""
    if change.kind != "refund":
        return None
    items = [i for i in (change.old, change.new) if isinstance(i, RefundFacts)]
    if any(i.succeeded_at is not None or i.revokes for i in items):
        return items[0].order_id
    return None


def count_changes(ctx: Counting, changes: list[Change]) -> int:
    """Counts what the changes add; returns how many changed a figure. Raises NotCounted with
    the first change not counted when a transaction cannot be written."""
    wanted = sorted({o for o in map(_needs_sale, changes) if o})
    sales = ctx.sales.sales(wanted) if wanted else {}
    pending: list[tuple[Change, Figures]] = []
    for change in changes:
        figures = contribution(change, sales, ctx.venue_timezone)
        if not figures.empty:
            pending.append((change, figures))
    for chunk in _chunks(pending):
        try:
            _count_chunk(ctx, chunk)
        except NotCounted:
            raise
        except Exception as error:           # the store failed for good: this chunk comes again
            log.exception("counting failed")
            raise NotCounted(chunk[0][0]) from error
    return len(pending)


def _names(figures: Figures) -> dict[str, set[str]]:
    """The attributes each bucket's update names (counters and labels)."""
    names: dict[str, set[str]] = {}
    for bucket, name in [*figures.counts, *figures.labels]:
        names.setdefault(bucket, set()).add(name)
    return names


def _chunks(pending: list[tuple[Change, Figures]]) -> list[list[tuple[Change, Figures]]]:
    """Consecutive changes whose markers and buckets fit in one transaction, and whose updates
    stay well inside DynamoDB's 4 KB expression limit (at most MAX_NAMES_PER_UPDATE attributes
    per bucket: a day of many SKUs grows one bucket's update with every order)."""
    chunks: list[list[tuple[Change, Figures]]] = []
    current: list[tuple[Change, Figures]] = []
    names: dict[str, set[str]] = {}
    for change, figures in pending:
        grown = {b: names.get(b, set()) | n for b, n in _names(figures).items()}
        grown = {**names, **grown}
        too_big = len(current) + 1 + len(grown) > MAX_WRITES or \
            any(len(n) > MAX_NAMES_PER_UPDATE for n in grown.values())
        if current and too_big:
            chunks.append(current)
            current, grown = [], _names(figures)
        current.append((change, figures))
        names = grown
    if current:
        chunks.append(current)
    return chunks


def _count_chunk(ctx: Counting, chunk: list[tuple[Change, Figures]]) -> None:
    remaining = list(chunk)
    for _ in attempts(COUNT_ATTEMPTS):
        if not remaining:
            return
        total = Figures()
        for _, figures in remaining:
            total.merge(figures)
        uow = ctx.unit_of_work()
        ctx.aggregates.count(uow, [c.change_id for c, _ in remaining], total, ctx.clock())
        try:
            uow.commit()
            return
        except ports.WriteRefused as refused:
            counted = set(ItemTag.COUNTED.ids_in(refused.failed))
            if counted:                      # redelivered: those were counted before
                log.info("already counted", extra={"changes": sorted(counted)})
                remaining = [(c, f) for c, f in remaining if c.change_id not in counted]
            elif not refused.conflicted:
                raise
    raise NotCounted(remaining[0][0])
