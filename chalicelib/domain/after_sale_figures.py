"""The after-sales (售后) figures: what an after-sale adds to the counters, and the report read
from them. Like every other figure, an after-sale's contribution is figures(as it is) -
figures(as it was) (service_layer/figures.contribution), so a request counts once on the venue day
it was asked, and its end once on the day it ended, however often the stream sends its changes.

Buckets: `after_sales#<venue day>` holds, per reason, the requests asked that day (`<reason>|requests`,
`|returns`, `|exchanges`) and the fen refunded by returns that COMPLETED that day (`<reason>|refunded`),
and for the after-sales that ended that day how many (`resolved`) and their seconds from asking to the end
(`resolve_seconds`). The refund rate reads the sales buckets (`orders` paid that day and, of those,
`refunded_orders`: figures.order_figures)."""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from .after_sales import REASONS, AfterSaleStatus, AfterSaleType
from .figure_facts import AfterSaleFacts
from .figures import TODO, Figures, sales_bucket, venue_day
from .reports import days_between

REASON_LABELS = {"damaged": "商品损坏", "wrong_item": "发错商品", "not_as_described": "与描述不符",
                 "size": "尺码/规格不合适", "no_longer_needed": "不想要了", "other": "其他"}
ROW_COUNTERS = ("requests", "returns", "exchanges", "refunded")
ENDED = frozenset({AfterSaleStatus.COMPLETED.value, AfterSaleStatus.REJECTED.value, AfterSaleStatus.CANCELLED.value})
RESOLVED, RESOLVE_SECONDS = "resolved", "resolve_seconds"
REFUNDED_ORDERS = "refunded_orders"     # in sales#<day>#day: orders paid that day with money back since


def after_sales_bucket(day: date) -> str:
    return f"after_sales#{day.isoformat()}"


def waits_for_staff(status: str, kind: str) -> bool:
    """Staff's move next: a request to review, goods on their way back to receive, or a received
    exchange whose replacement is to be shipped. A received return waits for WeChat's refund, an
    approved one for the customer to send the goods."""
    return status in (AfterSaleStatus.REQUESTED.value, AfterSaleStatus.RETURNING.value) or (
        status == AfterSaleStatus.RECEIVED.value and kind == AfterSaleType.EXCHANGE.value)


def after_sale_figures(after_sale: AfterSaleFacts | None, zone: str) -> Figures:
    figures = Figures()
    if after_sale is None:
        return figures
    if waits_for_staff(after_sale.status, after_sale.type):
        figures.add(TODO, "", "after_sales", 1)
    reason = after_sale.reason
    asked = after_sales_bucket(venue_day(after_sale.created_at, zone))
    figures.add(asked, reason, "requests", 1)
    figures.add(asked, reason, "returns" if after_sale.type == AfterSaleType.RETURN_REFUND.value else "exchanges", 1)
    if after_sale.status in ENDED:
        ended = after_sales_bucket(venue_day(after_sale.status_at, zone))
        figures.add(ended, "", RESOLVED, 1)
        # Whole seconds: the counters are integers, and a mean in hours to one decimal needs no more.
        figures.add(ended, "", RESOLVE_SECONDS, int((after_sale.status_at - after_sale.created_at).total_seconds()))
        if after_sale.status == AfterSaleStatus.COMPLETED.value and \
                after_sale.type == AfterSaleType.RETURN_REFUND.value:
            figures.add(ended, reason, "refunded", after_sale.amount)
    return figures


# ------------------------------------------------------------------ the report

def after_sales_buckets(first: date, last: date) -> list[str]:
    days = days_between(first, last)
    return [after_sales_bucket(d) for d in days] + [sales_bucket(d, "day") for d in days]


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def mean_hours(seconds: int, count: int) -> float | None:
    return round(seconds / count / 3600, 1) if count else None


def after_sales_report(first: date, last: date, buckets: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Requests asked between the two venue days by reason (most first), the money returns gave
    back on completing in them, how long the after-sales that ended in them took, and the share
    of the orders paid in them that have had money back (whenever that was)."""
    rows: dict[str, dict[str, int]] = {}
    resolved = seconds = paid = refunded_orders = 0
    for day in days_between(first, last):
        for name, value in buckets.get(after_sales_bucket(day), {}).items():
            reason, _, counter = name.rpartition("|")
            if not isinstance(value, int):
                continue
            if reason and counter in ROW_COUNTERS:
                rows.setdefault(reason, dict.fromkeys(ROW_COUNTERS, 0))[counter] += value
            elif name == RESOLVED:
                resolved += value
            elif name == RESOLVE_SECONDS:
                seconds += value
        sales = buckets.get(sales_bucket(day, "day"), {})
        paid += int(sales.get("orders", 0))
        refunded_orders += int(sales.get(REFUNDED_ORDERS, 0))
    asked = {reason: row for reason, row in rows.items() if row["requests"]}
    order = {reason: i for i, reason in enumerate(REASONS)}
    listed = sorted(asked, key=lambda reason: (-asked[reason]["requests"], order.get(reason, len(order)), reason))
    totals = {counter: sum(row[counter] for row in asked.values()) for counter in ("requests", "returns", "exchanges")}
    return {"from": first.isoformat(), "to": last.isoformat(),
            "totals": {**totals, "refund_rate": ratio(refunded_orders, paid),
                       "hours_to_resolve": mean_hours(seconds, resolved)},
            "rows": [{"key": reason, "label": REASON_LABELS.get(reason, reason), **asked[reason]}
                     for reason in listed]}
