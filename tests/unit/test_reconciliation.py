"""Reconciliation's rules (no AWS): every kind of difference, and attempts a retry superseded."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.domain.reconciliation import (DIFFERENCES, MATCHED, OurPayment, OurRefund, reconcile,
                                              refund_id_of)
from chalicelib.domain.wechat_bill import Bill, BillRefund, BillTrade

AT = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)


def bill(trades: list[tuple[str, int]], refunds: list[tuple[str, str, int, str]]) -> Bill:
    return Bill(tuple(BillTrade(no, f"42{no}", amount, "2026-11-21 10:00:00") for no, amount in trades),
                tuple(BillRefund(no, trade, amount, status) for no, trade, amount, status in refunds))


def kinds(result) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    return [(d.kind, d.out_refund_no or d.out_trade_no) for d in result.differences]


def test_a_day_that_agrees_is_matched() -> None:
    refund = OurRefund("R1", "R1", "O1", 500, "SUCCEEDED")
    result = reconcile("2026-11-21", bill([("O1", 1000)], [("R1", "O1", 500, "SUCCESS")]),
                       [OurPayment("O1", "42O1", 1000)], [refund], {"R1": refund}, AT)
    assert result.status == MATCHED and result.differences == [] and result.bill == {
        "trades": 1, "amount": 1000, "refunds": 1, "refunded": 500, "voucher": 0, "settlement": 1000}


def test_a_payment_a_wechat_voucher_paid_part_of_matches_its_orders_total() -> None:
    """The customer paid 8.50, a 免充值 voucher 1.50: the bill's 订单金额 is the order's 10.00, and
    WeChat settles 8.50. No difference; the day's figures show the voucher and what is settled."""
    vouchered = Bill((BillTrade("O1", "42O1", 1000, "2026-11-21 10:00:00", voucher=150, settlement=850),
                      BillTrade("O2", "42O2", 2000, "2026-11-21 11:00:00")), ())
    result = reconcile("2026-11-21", vouchered, [OurPayment("O1", "42O1", 1000), OurPayment("O2", "42O2", 2000)],
                       [], {}, AT)
    assert result.status == MATCHED and result.differences == []
    assert result.bill == {"trades": 2, "amount": 3000, "refunds": 0, "refunded": 0, "voucher": 150,
                           "settlement": 2850}


def test_a_voucher_is_no_excuse_for_another_total_and_is_shown_where_it_differs() -> None:
    """Held to the totals: what the customer paid (or what WeChat settles) matching ours is still a
    difference, and the voucher is named on the bill's side of it."""
    vouchered = Bill((BillTrade("O1", "42O1", 1000, "2026-11-21 10:00:00", voucher=150, settlement=850),
                      BillTrade("O9", "42O9", 500, "2026-11-21 12:00:00", voucher=100, settlement=400)), ())
    result = reconcile("2026-11-21", vouchered, [OurPayment("O1", "42O1", 850)], [], {}, AT)
    assert kinds(result) == [("amount_mismatch", "O1"), ("missing_in_micromall", "O9")]
    mismatch, missing = result.differences
    assert (mismatch.ours, mismatch.theirs) == ({"amount": 850}, {"amount": 1000, "voucher": 150})
    assert missing.theirs == {"amount": 500, "transaction_id": "42O9", "voucher": 100}


def test_every_kind_of_payment_difference() -> None:
    result = reconcile("2026-11-21", bill([("O1", 1000), ("O2", 2000)], []),
                       [OurPayment("O2", "42O2", 1999), OurPayment("O3", "42O3", 300)], [], {}, AT)
    assert result.status == DIFFERENCES
    assert kinds(result) == [("missing_in_micromall", "O1"), ("amount_mismatch", "O2"), ("missing_in_bill", "O3")]
    mismatch = result.differences[1]
    assert (mismatch.ours, mismatch.theirs) == ({"amount": 1999}, {"amount": 2000})


def test_every_kind_of_refund_difference() -> None:
    ours = {"R2": OurRefund("R2", "R2", "O1", 400, "SUCCEEDED"),       # WeChat has 500
            "R3": OurRefund("R3", "R3", "O1", 100, "PROCESSING"),      # WeChat never got it
            "R4": OurRefund("R4", "R4", "O1", 100, "FAILED"),          # WeChat paid it out
            "R5": OurRefund("R5", "R5", "O1", 100, "SUCCEEDED")}       # WeChat says it failed
    sent = list(ours.values())
    result = reconcile("2026-11-21", bill([], [("R1", "O1", 100, "SUCCESS"), ("R2", "O1", 500, "SUCCESS"),
                                               ("R4", "O1", 100, "SUCCESS"), ("R5", "O1", 100, "CHANGE")]),
                       [], sent, ours, AT)
    assert kinds(result) == [("refund_missing_in_micromall", "R1"), ("refund_amount_mismatch", "R2"),
                             ("refund_missing_in_micromall", "R4"), ("refund_missing_in_bill", "R5"),
                             ("refund_missing_in_bill", "R3")]


def test_an_attempt_a_retry_replaced_must_show_that_no_money_moved() -> None:
    retried = OurRefund("R7", "R7-2", "O1", 100, "SUCCEEDED")
    fine = reconcile("2026-11-21", bill([], [("R7", "O1", 100, "CHANGE"), ("R7-2", "O1", 100, "SUCCESS")]),
                     [], [retried], {"R7": retried}, AT)
    assert fine.status == MATCHED
    twice = reconcile("2026-11-21", bill([], [("R7", "O1", 100, "SUCCESS"), ("R7-2", "O1", 100, "SUCCESS")]),
                      [], [retried], {"R7": retried}, AT)
    assert kinds(twice) == [("refund_missing_in_micromall", "R7")]   # the customer got the money twice
    assert refund_id_of("R7-2") == "R7" and refund_id_of("R7") == "R7" and refund_id_of("R7-12") == "R7"


def test_a_refund_is_looked_for_under_the_attempt_accepted_that_day() -> None:
    """R8-2 was accepted on the 21st and has failed since; R8-3 waits for WeChat. The 21st's bill
    shows R8-2, still processing when the bill was cut: no difference on either side."""
    accepted_that_day = OurRefund("R8", "R8-2", "O1", 100, "PROCESSING")
    latest = OurRefund("R8", "R8-3", "O1", 100, "PROCESSING")
    result = reconcile("2026-11-21", bill([], [("R8-2", "O1", 100, "PROCESSING")]), [], [accepted_that_day],
                       {"R8": latest}, AT)
    assert result.status == MATCHED, kinds(result)
    assert refund_id_of("R8-100") == "R8"
