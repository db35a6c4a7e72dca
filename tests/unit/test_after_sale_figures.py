"""The after-sales figures and report (no AWS): a request counts on the venue day it was asked, its
end on the day it ended; replaying a state adds nothing; the report's arithmetic is exact."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone

from chalicelib.domain.after_sale_figures import (after_sale_figures, after_sales_bucket, after_sales_buckets,
                                                  after_sales_report, mean_hours, ratio, waits_for_staff)
from chalicelib.domain.figure_facts import AfterSaleFacts, OrderFacts, SaleLine
from chalicelib.domain.figures import TODO, Figures, order_figures, sales_bucket

ZONE = "Asia/Shanghai"
ASKED = datetime(2026, 11, 21, 15, 30, tzinfo=timezone.utc)        # 23:30 on the 21st in Shanghai
DAY, NEXT = date(2026, 11, 21), date(2026, 11, 22)


def after_sale(status: str = "REQUESTED", kind: str = "return_refund", reason: str = "size",
               hours: float = 0, amount: int = 0) -> AfterSaleFacts:
    return AfterSaleFacts("A1", kind, status, reason, ASKED, ASKED + timedelta(hours=hours), amount)


def change(old: AfterSaleFacts | None, new: AfterSaleFacts | None) -> Counter[tuple[str, str]]:
    return after_sale_figures(new, ZONE).minus(after_sale_figures(old, ZONE)).counts


def test_a_request_counts_on_its_venue_day_by_reason_and_type_and_waits_for_staff() -> None:
    counts = change(None, after_sale())
    assert counts == Counter({(after_sales_bucket(DAY), "size|requests"): 1,
                              (after_sales_bucket(DAY), "size|returns"): 1, (TODO, "after_sales"): 1})
    assert change(after_sale(), after_sale()) == Counter()                 # the same state again: nothing


def test_a_return_completed_the_next_day_refunds_there_and_ends_there() -> None:
    received = after_sale("RECEIVED", hours=10)
    done = after_sale("COMPLETED", hours=26, amount=2500)
    assert change(after_sale("RETURNING", hours=5), received) == Counter({(TODO, "after_sales"): -1})
    assert change(received, done) == Counter({(after_sales_bucket(NEXT + timedelta(days=1)), "size|refunded"): 2500,
                                              (after_sales_bucket(NEXT + timedelta(days=1)), "resolved"): 1,
                                              (after_sales_bucket(NEXT + timedelta(days=1)), "resolve_seconds"): 26 * 3600})


def test_who_waits() -> None:
    assert [waits_for_staff(s, "return_refund") for s in ("REQUESTED", "APPROVED", "RETURNING", "RECEIVED",
                                                         "COMPLETED", "REJECTED", "CANCELLED")] == \
        [True, False, True, False, False, False, False]
    assert waits_for_staff("RECEIVED", "exchange") and not waits_for_staff("COMPLETED", "exchange")


def test_an_order_with_money_back_counts_once_on_its_paid_day() -> None:
    line = SaleLine("P2", "Tote", "P2-SA", "Blue", "souvenir", "merch", 2, 5000)
    paid = OrderFacts("O1", ASKED, (line,), False)
    refunded = OrderFacts("O1", ASKED, (line,), False, refunded=True)
    cell = (sales_bucket(DAY, "day"), "refunded_orders")
    assert order_figures(refunded, ZONE).minus(order_figures(paid, ZONE)).counts == Counter({cell: 1})
    assert order_figures(refunded, ZONE).minus(order_figures(refunded, ZONE)).counts == Counter()


def test_the_report_adds_the_days_up() -> None:
    figures = Figures()
    for facts in (after_sale("COMPLETED", hours=2, amount=2500),
                  AfterSaleFacts("A2", "exchange", "COMPLETED", "damaged", ASKED, ASKED + timedelta(hours=3)),
                  after_sale("REJECTED", hours=4), after_sale("REQUESTED", kind="exchange"),
                  after_sale("CANCELLED", reason="other", hours=30)):
        figures.merge(after_sale_figures(facts, ZONE))
    buckets: dict[str, dict[str, int]] = {}
    for (bucket, name), n in figures.counts.items():
        buckets.setdefault(bucket, {})[name] = n
    buckets[sales_bucket(DAY, "day")] = {"orders": 3, "refunded_orders": 1, "gross": 9000}
    buckets[sales_bucket(NEXT, "day")] = {"orders": 4, "refunded_orders": 1}
    report = after_sales_report(DAY, NEXT, buckets)
    assert report == {
        "from": "2026-11-21", "to": "2026-11-22",
        "totals": {"requests": 5, "returns": 3, "exchanges": 2, "refund_rate": round(2 / 7, 4),
                   "hours_to_resolve": 3.0},                          # (2 + 3 + 4) / 3; the cancelled ended later
        "rows": [{"key": "size", "label": "尺码/规格不合适", "requests": 3, "returns": 2, "exchanges": 1, "refunded": 2500},
                 {"key": "damaged", "label": "商品损坏", "requests": 1, "returns": 0, "exchanges": 1, "refunded": 0},
                 {"key": "other", "label": "其他", "requests": 1, "returns": 1, "exchanges": 0, "refunded": 0}]}
    later = after_sales_report(NEXT + timedelta(days=1), NEXT + timedelta(days=1), buckets)
    assert later["rows"] == [] and later["totals"] == {"requests": 0, "returns": 0, "exchanges": 0,
                                                       "refund_rate": None, "hours_to_resolve": 30.0}
    assert after_sales_buckets(DAY, NEXT) == [after_sales_bucket(DAY), after_sales_bucket(NEXT),
                                              sales_bucket(DAY, "day"), sales_bucket(NEXT, "day")]


def test_ratios_and_means_round_and_are_null_without_a_whole() -> None:
    assert (ratio(1, 3), ratio(0, 5), ratio(1, 0)) == (0.3333, 0.0, None)
    assert (mean_hours(5400, 1), mean_hours(3 * 3600 + 179, 1), mean_hours(0, 0)) == (1.5, 3.0, None)
