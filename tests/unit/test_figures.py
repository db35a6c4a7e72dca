"""What each change adds to the back office's figures (no AWS): a change counts as the item
as it is less the item as it was, so repeating a state adds nothing and moving it moves the count."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.figure_facts import (AppliedPromotion, Change, OrderFacts, RefundFacts, SaleLine, SkuFacts,
                                           TicketFacts, UserCouponFacts)
from chalicelib.domain.figures import (TODO, admissions_bucket, allocate, coupons_bucket, issued_bucket,
                                         order_figures, promotions_bucket, refund_figures, sales_bucket, sku_figures,
                                         spend_bucket, ticket_figures)
from chalicelib.domain.coupon_figures import user_coupon_figures
from chalicelib.domain.promotions import spend_within
from chalicelib.domain.reports import (SalesQuery, average, dashboard, dashboard_buckets, promotion_buckets,
                                       promotions_report, sales_report)

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
    from chalicelib.domain.figures import Figures
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


# ------------------------------------------------------------------ promotions (issue 22)

DAY = date(2026, 11, 22)                                            # PAID's venue day
# 3 adult tickets at 60.00 (18000) less 1800, a tote at 50.00 less 500: the order paid 20700.
DISCOUNTED = (SaleLine("P1", "Hall", "P1-SA", "Adult", "museum", "ticket", 3, 16200, SESSION, discount=1800),
              SaleLine("P2", "Tote", "P2-SA", "Blue", "souvenir", "merch", 1, 4500, discount=500))
PROMOTIONS = (AppliedPromotion("member", "1", "银卡", 1150),
              AppliedPromotion("full_reduction", "PR1", "满200减10", 1000),
              AppliedPromotion("coupon", "CPN1", "5元券", 150))


def discounted(paid: datetime | None = PAID, user: str = "U1") -> OrderFacts:
    return OrderFacts("O2", paid, DISCOUNTED, False, user_id=user, promotions=PROMOTIONS)


def test_a_discounted_sale_counts_what_was_paid_as_gross_and_the_discount_apart() -> None:
    c = order_figures(discounted(), ZONE).counts
    assert discounted().total == 20700
    day = sales_bucket(DAY, "day")
    assert (c[(day, "orders")], c[(day, "gross")], c[(day, "discount")]) == (1, 20700, 2300)
    assert (c[(sales_bucket(DAY, "sku"), "P1-SA|gross")], c[(sales_bucket(DAY, "sku"), "P1-SA|discount")]) == \
        (16200, 1800)
    assert c[(sales_bucket(DAY, "category"), "souvenir|discount")] == 500
    report = sales_report(SalesQuery(DAY, DAY, "sku", None),
                          {b: {n: v for (bb, n), v in c.items() if bb == b} for b in SalesQuery(DAY, DAY, "sku", None)
                           .buckets()})
    assert report["totals"] == {"orders": 1, "units": 4, "gross": 20700, "discount": 2300, "refunded": 0,
                                "net": 20700, "aov": 20700}
    assert {r["key"]: (r["gross"], r["discount"]) for r in report["rows"]} == {"P1-SA": (16200, 1800),
                                                                               "P2-SA": (4500, 500)}
    # an order without promotions counts as before: no discount counter at all
    assert not [cell for cell in order_figures(order(), ZONE).counts if cell[1].endswith("discount")]


def test_a_paid_order_adds_what_it_paid_to_its_customers_spend_on_the_venue_day() -> None:
    figures = order_figures(discounted(), ZONE)
    assert figures.counts[(spend_bucket("U1"), "2026-11-22|paid")] == 20700
    assert (spend_bucket("U1"), "2026-11-22|paid") not in order_figures(discounted(paid=None), ZONE).counts
    spend = {name: n for (bucket, name), n in figures.counts.items() if bucket == spend_bucket("U1")}
    assert spend_within(spend, date(2026, 12, 1)) == 20700


def test_a_refund_comes_off_the_spend_of_the_day_the_order_was_paid_never_below_it() -> None:
    back = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)         # ten days after the sale
    refund = RefundFacts("R1", "O2", 5400, back, (("P1-SA", 1),), False, False, True)
    processing = RefundFacts("R1", "O2", 5400, None, (("P1-SA", 1),), False, False, True)
    money_back = refund_figures(refund, discounted(), ZONE).minus(refund_figures(processing, discounted(), ZONE))
    assert money_back.counts[(spend_bucket("U1"), "2026-11-22|paid")] == -5400
    assert not [cell for cell in money_back.counts if cell[0] == spend_bucket("U1") and cell[1] != "2026-11-22|paid"]
    # what a refund takes back is split by what the units paid (5400 of a unit's 5400), not list price
    assert money_back.counts[(sales_bucket(back.date(), "sku"), "P1-SA|refunded")] == 5400
    # and a refund never takes more spend than the order gave
    whole = RefundFacts("R2", "O2", 99999, back, (), False, False, True)
    assert refund_figures(whole, discounted(), ZONE).counts[(spend_bucket("U1"), "2026-11-22|paid")] == -20700
    # a refund leaves the promotions' rows as the sale made them
    assert not [cell for cell in money_back.counts if cell[0].startswith("promotions#")]


def test_an_automatic_refund_takes_nothing_off_a_customers_spend() -> None:
    automatic = RefundFacts("R9", "O2", 20700, None, (), False, False, False)      # succeeded_at None: not a sale's
    assert refund_figures(automatic, discounted(), ZONE).empty


def test_each_promotion_counts_its_orders_discount_and_what_those_orders_paid() -> None:
    figures = order_figures(discounted(), ZONE)
    bucket = promotions_bucket(DAY)
    assert {name: n for (b, name), n in figures.counts.items() if b == bucket} == {
        "member|orders": 1, "member|discount": 1150, "member|gross": 20700,
        "PR1|orders": 1, "PR1|discount": 1000, "PR1|gross": 20700,
        "CPN1|orders": 1, "CPN1|discount": 150, "CPN1|gross": 20700}
    assert (figures.labels[(bucket, "member|label")], figures.labels[(bucket, "member|kind")]) == ("会员价", "member")
    assert figures.labels[(bucket, "CPN1|kind")] == "coupon" and figures.labels[(bucket, "PR1|label")] == "满200减10"


def coupon(status_used: bool, claimed: datetime = PAID) -> UserCouponFacts:
    return UserCouponFacts("UC1", "CPN1", "5元券", status_used, claimed)


def test_a_user_coupon_is_issued_once_and_used_while_it_is_used() -> None:
    bucket = coupons_bucket(DAY)
    claimed = user_coupon_figures(coupon(False), ZONE).minus(user_coupon_figures(None, ZONE))
    assert dict(claimed.counts) == {(bucket, "CPN1|issued"): 1}
    locked = user_coupon_figures(coupon(False), ZONE).minus(user_coupon_figures(coupon(False), ZONE))
    assert locked.empty                                          # AVAILABLE -> LOCKED counts nothing
    used = user_coupon_figures(coupon(True), ZONE).minus(user_coupon_figures(coupon(False), ZONE))
    assert dict(used.counts) == {(bucket, "CPN1|used"): 1}
    given_back = user_coupon_figures(coupon(False), ZONE).minus(user_coupon_figures(coupon(True), ZONE))
    assert dict(given_back.counts) == {(bucket, "CPN1|used"): -1}


def test_the_promotions_report_adds_up_the_days_and_rates_each_coupons_claims() -> None:
    day2 = DAY + timedelta(days=1)
    buckets = {promotions_bucket(DAY): {"member|orders": 2, "member|discount": 300, "member|gross": 9000,
                                        "member|label": "会员价", "member|kind": "member",
                                        "CPN1|orders": 1, "CPN1|discount": 500, "CPN1|gross": 4000,
                                        "CPN1|label": "5元券", "CPN1|kind": "coupon"},
               promotions_bucket(day2): {"member|orders": 1, "member|discount": 100, "member|gross": 3000,
                                         "member|label": "会员价", "member|kind": "member"},
               coupons_bucket(DAY): {"CPN1|issued": 2, "CPN1|used": 1, "CPN1|label": "5元券"},
               coupons_bucket(day2): {"CPN1|issued": 1, "CPN2|issued": 3, "CPN2|used": 0}}
    assert set(promotion_buckets(DAY, day2)) == set(buckets)
    report = promotions_report(DAY, day2, buckets)
    assert report["rows"] == [
        {"key": "CPN1", "label": "5元券", "kind": "coupon", "orders": 1, "discount": 500, "gross": 4000},
        {"key": "member", "label": "会员价", "kind": "member", "orders": 3, "discount": 400, "gross": 12000}]
    assert report["coupons"] == [
        {"coupon_id": "CPN1", "name": "5元券", "issued": 3, "used": 1, "redemption_rate": 0.3333},
        {"coupon_id": "CPN2", "name": "CPN2", "issued": 3, "used": 0, "redemption_rate": 0.0}]
    assert promotions_report(DAY, DAY, {})["coupons"] == []


def test_spend_and_coupons_counted_twice_count_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A redelivered batch (the stream's or SQS's) adds nothing: the markers per change refuse it."""
    from chalicelib.service_layer.figures import count_changes
    from tests.fakes import fake_context
    monkeypatch.setattr("tests.fakes.back_office.random.randrange", lambda n: n - 1)   # the other buckets' shard
    ctx = fake_context()
    batch = [Change("e1", "order", discounted(paid=None), discounted()),
             Change("e2", "user_coupon", None, coupon(False)),
             Change("e3", "user_coupon", coupon(False), coupon(True))]
    wanted = [spend_bucket("U1"), promotions_bucket(DAY), coupons_bucket(DAY)]
    assert count_changes(ctx, batch) == 3
    once = ctx.aggregates.read(wanted)
    assert once[spend_bucket("U1")] == {"2026-11-22|paid": 20700}
    assert (once[coupons_bucket(DAY)]["CPN1|issued"], once[coupons_bucket(DAY)]["CPN1|used"]) == (1, 1)
    assert once[promotions_bucket(DAY)]["member|discount"] == 1150
    assert count_changes(ctx, batch) == 3                          # the same batch again
    assert count_changes(ctx, batch[1:]) == 2                      # and its tail once more
    assert ctx.aggregates.read(wanted) == once
    shards = {shard for (bucket, shard) in ctx.unit_of_work.__self__.table("aggregates")   # type: ignore[attr-defined]
              if bucket == spend_bucket("U1")}
    assert shards == {0}                                           # the order path reads that one item


def test_a_reschedule_moves_a_ticket_out_of_one_sessions_issued_count_into_the_others() -> None:
    """改签 is not in the order's lines: the ticket stream moves the count. The ticket that moved
    away is one less in its session; its successor one more in its own, until a refund takes it
    (the refund's figures know only the order's sessions) or it moves on again."""
    later = SESSION + timedelta(days=1)

    def ticket(sku: str, start: datetime, rescheduled_from: str | None = None,
               revoked_by: str | None = None) -> TicketFacts:
        return TicketFacts("C1", sku, "P1", "Hall", "Adult", start, None, None, rescheduled_from, revoked_by)

    def issued(figures, sku: str, start: datetime) -> int:  # type: ignore[no-untyped-def]
        return figures.counts.get((issued_bucket(start.date()), f"{sku}|issued"), 0)
    old_away = ticket_figures(ticket("P1-SA", SESSION, revoked_by="reschedule:T2"), ZONE).minus(
        ticket_figures(ticket("P1-SA", SESSION), ZONE))
    assert issued(old_away, "P1-SA", SESSION) == -1
    arrived = ticket_figures(ticket("P1-SB", later, rescheduled_from="T1"), ZONE)
    assert issued(arrived, "P1-SB", later) == 1
    refunded = ticket_figures(ticket("P1-SB", later, "T1", revoked_by="RREFUND0000000001"), ZONE)
    assert issued(refunded, "P1-SB", later) == 0
    moved_on = ticket_figures(ticket("P1-SB", later, "T1", revoked_by="reschedule:T3"), ZONE)
    assert issued(moved_on, "P1-SB", later) == 0
    assert ticket_figures(ticket("P1-SA", SESSION, revoked_by="RREFUND0000000001"), ZONE).empty
