"""What each change adds to the back office's figures (no AWS): a change counts as the item
as it is less the item as it was, so repeating a state adds nothing and moving it moves the count."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from chalicelib.domain.figures import (TODO, OrderFacts, RefundFacts, SaleLine, SkuFacts, TicketFacts, allocate,
                                         admissions_bucket, issued_bucket, order_figures, refund_figures,
                                         sales_bucket, sku_figures, ticket_figures)
from chalicelib.domain.reports import average, dashboard, dashboard_buckets

ZONE = "Asia/Shanghai"
PAID = datetime(2026, 11, 21, 16, 30, tzinfo=timezone.utc)        # 00:30 on the 22nd in Shanghai
SESSION = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
LINES = (SaleLine("P1", "Hall", "P1-SA", "Adult", "museum", "ticket", 3, 18000, SESSION),
         SaleLine("P1", "Hall", "P1-SB", "Child", "museum", "ticket", 1, 3000, SESSION),
         SaleLine("P2", "Tote", "P2-SA", "Blue", "souvenir", "merch", 2, 5000))


def order(paid: datetime | None = PAID, shipping: bool = False) -> OrderFacts:
    return OrderFacts("O1", paid, LINES, shipping)


def test_a_sale_counts_on_the_venue_day_once_per_product_sku_and_category() -> None:
    figures = order_figures(order(), ZONE)
    day = PAID.astimezone(timezone(timedelta(hours=8))).date()
    assert day.isoformat() == "2026-11-22"
    c = figures.counts
    assert (c[(sales_bucket(day, "day"), "orders")], c[(sales_bucket(day, "day"), "gross")]) == (1, 26000)
    assert c[(sales_bucket(day, "hour"), "00|gross")] == 26000
    assert c[(sales_bucket(day, "product"), "P1|orders")] == 1          # two lines, one order
    assert c[(sales_bucket(day, "product"), "P1|units")] == 4
    assert c[(sales_bucket(day, "category"), "souvenir|gross")] == 5000
    assert c[(issued_bucket(SESSION.date()), "P1-SA|issued")] == 3     # tickets out, by session day
    assert (issued_bucket(None), "P2-SA|issued") not in c


def test_a_change_adds_the_difference_so_repeats_add_nothing() -> None:
    unpaid, paid = order(paid=None), order()
    assert order_figures(unpaid, ZONE).minus(order_figures(unpaid, ZONE)).empty
    assert order_figures(paid, ZONE).minus(order_figures(paid, ZONE)).empty      # PAID -> SHIPPED etc.
    sale = order_figures(paid, ZONE).minus(order_figures(unpaid, ZONE))
    assert sale.counts == order_figures(paid, ZONE).counts
    shipped = order_figures(order(shipping=False), ZONE).minus(order_figures(order(shipping=True), ZONE))
    assert dict(shipped.counts) == {(TODO, "to_ship"): -1}


def test_a_refund_counts_when_the_money_is_back_split_over_what_it_took_back() -> None:
    back = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    refund = RefundFacts("R1", "O1", 12000, back, (("P1-SA", 2),), False, False, True)
    processing = RefundFacts("R1", "O1", 12000, None, (("P1-SA", 2),), False, False, True)
    figures = refund_figures(refund, order(), ZONE).minus(refund_figures(processing, order(), ZONE))
    day = back.date()
    assert dict(figures.counts) == {(sales_bucket(day, "day"), "refunded"): 12000,
                                    (sales_bucket(day, "hour"), "10|refunded"): 12000,
                                    (sales_bucket(day, "product"), "P1|refunded"): 12000,
                                    (sales_bucket(day, "sku"), "P1-SA|refunded"): 12000,
                                    (sales_bucket(day, "category"), "museum|refunded"): 12000}
    approved = refund_figures(processing, order(), ZONE).minus(refund_figures(None, order(), ZONE))
    assert dict(approved.counts) == {(issued_bucket(SESSION.date()), "P1-SA|issued"): -2}


def test_a_refund_taking_over_another_moves_the_revoked_tickets_not_doubles_them() -> None:
    failed = RefundFacts("R1", "O1", 6000, None, (("P1-SA", 1),), False, True, True)
    superseded = RefundFacts("R1", "O1", 6000, None, (("P1-SA", 1),), False, False, False)
    taking_over = RefundFacts("R2", "O1", 6000, None, (("P1-SA", 1),), False, False, True)
    total = refund_figures(superseded, order(), ZONE).minus(refund_figures(failed, order(), ZONE))
    total.merge(refund_figures(taking_over, order(), ZONE))
    assert dict(total.counts) == {(TODO, "failed_refunds"): -1}


def test_an_automatic_refund_of_money_nobody_sold_for_is_not_a_sales_refund() -> None:
    assert refund_figures(RefundFacts("R9", "O9", 100, None, (), False, False, False), None, ZONE).empty


def test_allocation_is_exact_to_the_fen() -> None:
    assert allocate(100, [("a", 1), ("b", 1), ("c", 1)]) == {"a": 34, "b": 33, "c": 33}
    assert sum(allocate(9999, [("a", 7), ("b", 13), ("c", 29)]).values()) == 9999
    assert allocate(0, [("a", 1)]) == {"a": 0} and allocate(5, []) == {}


def test_an_admission_moves_when_an_earlier_offline_scan_takes_it_over() -> None:
    online = TicketFacts("C1", "P1-SA", "P1", "Hall", "Adult", SESSION, datetime(2026, 12, 1, 2, 5, tzinfo=timezone.utc),
                         "东门")
    offline = TicketFacts("C1", "P1-SA", "P1", "Hall", "Adult", SESSION,
                          datetime(2026, 12, 1, 1, 55, tzinfo=timezone.utc), "西门")
    moved = ticket_figures(offline, ZONE).minus(ticket_figures(online, ZONE))
    day = SESSION.date()
    assert moved.counts[(admissions_bucket(day, "gate"), "西门|redeemed")] == 1
    assert moved.counts[(admissions_bucket(day, "gate"), "东门|redeemed")] == -1
    assert moved.counts[(admissions_bucket(day, "hour"), "09|redeemed")] == 1
    assert moved.counts[(admissions_bucket(day, "hour"), "10|redeemed")] == -1
    assert (admissions_bucket(day, "day"), "redeemed") not in moved.counts


def test_low_stock_is_work_only_while_the_sku_still_sells() -> None:
    ends = datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)            # 23:00 on Dec 1st in Shanghai
    low = sku_figures(SkuFacts("P1-SA", True, ends), ZONE)
    goods = sku_figures(SkuFacts("P2-SA", True, None), ZONE)
    assert dict(low.counts) == {(TODO, "low_stock|2026-12-01"): 1}
    assert dict(goods.counts) == {(TODO, "low_stock|open"): 1}
    todo = {"low_stock|2026-12-01": 1, "low_stock|open": 1, "low_stock|2026-11-30": 1}
    for day, expected in (("2026-11-30", 3), ("2026-12-01", 2), ("2026-12-02", 1)):
        board = dashboard(date.fromisoformat(day), {TODO: todo}, 0)
        assert board["todo"]["low_stock"] == expected, day
    assert len(dashboard_buckets(date.fromisoformat("2026-12-01"))) == 5


def test_average_order_value_rounds_half_up_in_fen() -> None:
    assert average(1001, 2) == 501 and average(1000, 3) == 333 and average(5, 0) == 0


def test_a_batch_of_many_skus_is_counted_in_updates_dynamodb_accepts() -> None:
    """A hundred orders of a hundred SKUs on one day: every transaction stays within 100 writes
    and no bucket's update names more attributes than fit in a 4 KB expression."""
    from chalicelib.domain.figures import Change, Figures
    from chalicelib.service_layer.figures import MAX_NAMES_PER_UPDATE, MAX_WRITES, _chunks
    pending = []
    for n in range(100):
        figures = Figures()
        for counter in ("orders", "units", "gross"):
            figures.add("sales#2026-11-21#sku", f"S{n:03d}", counter, 1)
        figures.label("sales#2026-11-21#sku", f"S{n:03d}", f"SKU {n}")
        figures.add("sales#2026-11-21#day", "", "orders", 1)
        pending.append((Change(f"E{n}", "order", None, None), figures))
    chunks = _chunks(pending)
    assert sum(len(c) for c in chunks) == 100 and len(chunks) > 1
    for chunk in chunks:
        merged = Figures()
        for _, figures in chunk:
            merged.merge(figures)
        names = {cell[1] for cell in [*merged.counts, *merged.labels] if cell[0] == "sales#2026-11-21#sku"}
        assert len(names) <= MAX_NAMES_PER_UPDATE
        assert len(chunk) + len(merged.buckets()) <= MAX_WRITES
