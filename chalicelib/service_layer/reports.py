"""The manager's questions, answered from the counters (a few keyed reads, whatever the number
of orders): sales, promotions, admissions, after-sales, and the dashboard of today against yesterday with the work
waiting."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Protocol

from ..domain import after_sale_figures, reports
from ..domain.reconciliation import DIFFERENCES
from ..domain.figures import venue_day
from . import ports
from .ports import AggregateCounters, Reconciliations

DEFAULT_DAYS = 7


class Reporting(Protocol):
    aggregates: AggregateCounters
    reconciliations: Reconciliations
    clock: ports.Clock
    venue_timezone: str


def today(ctx: Reporting) -> date:
    return venue_day(ctx.clock(), ctx.venue_timezone)


def sales_report(ctx: Reporting, first: date | None, last: date | None, group_by: str,
                 top: int | None) -> dict[str, Any]:
    """Without dates: the last seven days, today included."""
    last = last or (first if first and first > today(ctx) else today(ctx))
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    query = reports.SalesQuery(first, last, group_by, top)
    return reports.sales_report(query, ctx.aggregates.read(query.buckets()))


def promotions_report(ctx: Reporting, first: date | None, last: date | None) -> dict[str, Any]:
    """Without dates: the last seven days, today included (as the sales report)."""
    last = last or (first if first and first > today(ctx) else today(ctx))
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    return reports.promotions_report(first, last, ctx.aggregates.read(reports.promotion_buckets(first, last)))


def after_sales_report(ctx: Reporting, first: date | None, last: date | None) -> dict[str, Any]:
    """Without dates: the last seven days, today included (as the sales report). Reads two buckets
    a day (after-sales, and the sales day for the refund rate), whatever the number of after-sales."""
    last = last or (first if first and first > today(ctx) else today(ctx))
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    buckets = ctx.aggregates.read(after_sale_figures.after_sales_buckets(first, last))
    return after_sale_figures.after_sales_report(first, last, buckets)


def redemption_report(ctx: Reporting, day: date | None, group_by: str) -> dict[str, Any]:
    day = day or today(ctx)
    buckets = ctx.aggregates.read(reports.admission_buckets(day, group_by))
    elsewhere = reports.issued_buckets_elsewhere(day, group_by, buckets)
    if elsewhere:
        buckets.update(ctx.aggregates.read(elsewhere))
    return reports.redemption_report(day, group_by, buckets)


def dashboard(ctx: Reporting) -> dict[str, Any]:
    now = today(ctx)
    buckets = ctx.aggregates.read(reports.dashboard_buckets(now))
    checked = ctx.reconciliations.of_day((now - timedelta(days=1)).isoformat())
    waiting = checked.differences_total if checked.status == DIFFERENCES else 0
    return reports.dashboard(now, buckets, waiting)
