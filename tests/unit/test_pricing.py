"""An order's price (domain/pricing.py): API.md's order of steps, thresholds after the steps
before, and shares that are exact fen for any prices and quantities (hypothesis)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.pricing import (CouponTerms, FullReduction, LineToPrice, MemberTier, Scope, price, share)

SILVER = MemberTier(1, "银卡", 5)


def line(sku: str, unit_price: int, quantity: int = 1, kind: str = "ticket", category: str = "museum",
         member_discount: bool = True) -> LineToPrice:
    return LineToPrice(sku, "P-" + sku, kind, category, unit_price, quantity, member_discount)


def test_nothing_running_is_the_list_price() -> None:
    priced = price([line("a", 6000, 2)])
    assert (priced.subtotal, priced.discount, priced.total, priced.promotions) == (12000, 0, 12000, [])


def test_the_steps_apply_in_order_each_threshold_seeing_what_the_steps_before_left() -> None:
    """10,000 + 10,000 at 5 % off is 19,000: the 满减 of 2,000 at 20,000 no longer applies, its
    1,000 at 15,000 does; the coupon's threshold of 18,000 then sees 18,000."""
    reduction = FullReduction("FR1", "满减", ((15000, 1000), (20000, 2000)))
    coupon = CouponTerms("UC1", "满180减30", "cash", threshold=18000, amount=3000)
    priced = price([line("a", 10000), line("b", 10000)], SILVER, [reduction], coupon)
    assert [(p.kind, p.amount) for p in priced.promotions] == [("member", 1000), ("full_reduction", 1000),
                                                               ("coupon", 3000)]
    assert (priced.subtotal, priced.discount, priced.total) == (20000, 5000, 15000)
    assert [ln.paid for ln in priced.lines] == [7500, 7500]


def test_a_coupon_below_its_threshold_after_the_promotions_does_not_apply() -> None:
    coupon = CouponTerms("UC1", "满100减10", "cash", threshold=10000, amount=1000)
    with pytest.raises(RuleViolation) as refused:
        price([line("a", 10000)], SILVER, coupon=coupon)
    assert refused.value.code == "COUPON_NOT_APPLICABLE" and refused.value.details["in_scope"] == 9500


def test_scopes_all_hold_together_and_a_coupon_with_nothing_in_scope_does_not_apply() -> None:
    goods_of_shop = Scope(kinds=frozenset({"merch"}), categories=frozenset({"shop"}))
    coupon = CouponTerms("UC1", "文创 9 折", "percent", percent_off=10, scope=goods_of_shop)
    priced = price([line("t", 5000), line("m", 3333, 3, kind="merch", category="shop"),
                    line("x", 2000, kind="merch", category="cafe")], coupon=coupon)
    assert [ln.discount for ln in priced.lines] == [0, 999, 0]       # 10 % of 9,999, rounded down
    with pytest.raises(RuleViolation):
        price([line("t", 5000)], coupon=coupon)


def test_a_percent_coupon_is_capped_and_a_product_may_take_no_member_discount() -> None:
    coupon = CouponTerms("UC1", "8 折最多 20 元", "percent", percent_off=20, max_discount=2000)
    priced = price([line("a", 10000), line("b", 10000, member_discount=False)], SILVER, coupon=coupon)
    assert [(p.kind, p.amount) for p in priced.promotions] == [("member", 500), ("coupon", 2000)]
    assert [ln.discount for ln in priced.lines] == [500 + 974, 1026]     # 2,000 over 9,500 : 10,000


def test_a_cash_coupon_larger_than_the_order_makes_it_free_never_negative() -> None:
    priced = price([line("a", 800)], coupon=CouponTerms("UC1", "无门槛 10 元", "cash", amount=1000))
    assert (priced.total, priced.promotions[0].amount, priced.lines[0].unit_paid()) == (0, 800, [0])


def test_a_lines_units_share_its_paid_to_the_fen() -> None:
    priced = price([line("a", 1000, 3)], coupon=CouponTerms("UC1", "减 1 元", "cash", amount=100))
    assert priced.lines[0].paid == 2900 and priced.lines[0].unit_paid() == [967, 967, 966]


def test_shares_go_by_largest_remainder_ties_to_the_earlier() -> None:
    assert share(10, [1, 1, 1]) == [4, 3, 3] and share(0, [5, 5]) == [0, 0] and share(7, [0, 0]) == [0, 0]


prices = st.integers(min_value=0, max_value=10_000_000)
quantities = st.integers(min_value=1, max_value=99)
line_lists = st.lists(st.tuples(prices, quantities, st.sampled_from(["ticket", "merch"]), st.booleans()),
                      min_size=1, max_size=20)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.lists(st.integers(min_value=0, max_value=10**7), min_size=1,
                                                            max_size=30))
def test_shares_are_whole_never_negative_never_above_their_weight_and_sum_to_the_amount(
        amount: int, weights: list[int]) -> None:
    parts = share(min(amount, sum(weights)), weights)
    assert sum(parts) == min(amount, sum(weights)) or sum(weights) == 0
    assert all(0 <= part <= weight for part, weight in zip(parts, weights))


@settings(max_examples=300, deadline=None)
@given(line_lists, st.integers(min_value=0, max_value=99), st.lists(
    st.tuples(st.integers(min_value=0, max_value=10**8), st.integers(min_value=0, max_value=10**8)), max_size=3),
    st.one_of(st.none(), st.tuples(st.sampled_from(["cash", "percent"]), st.integers(min_value=0, max_value=10**7),
                                   st.integers(min_value=1, max_value=99), st.one_of(st.none(),
                                                                                      st.integers(0, 10**7)))))
def test_for_any_order_every_line_and_unit_is_exact_fen_and_nothing_goes_negative(
        raw: list[tuple[int, int, str, bool]], percent_off: int, tiers: list[tuple[int, int]],
        coupon: tuple[str, int, int, int | None] | None) -> None:
    lines = [line(f"s{i}", p, q, kind=k, member_discount=m) for i, (p, q, k, m) in enumerate(raw)]
    terms = None if coupon is None else CouponTerms("UC", "券", coupon[0], amount=coupon[1], percent_off=coupon[2],
                                                    max_discount=coupon[3], scope=Scope(kinds=frozenset({"merch"})))
    reductions = [FullReduction("FR", "满减", tuple(tiers))] if tiers else []
    try:
        priced = price(lines, MemberTier(1, "会员", percent_off), reductions, terms)
    except RuleViolation:
        assert terms is not None                                # only a coupon is ever refused
        return
    assert priced.total == priced.subtotal - priced.discount == sum(p.paid for p in priced.lines)
    assert priced.discount == sum(p.amount for p in priced.promotions)
    for priced_line, asked in zip(priced.lines, lines):
        assert 0 <= priced_line.paid <= asked.unit_price * asked.quantity
        units = priced_line.unit_paid()
        assert len(units) == asked.quantity and sum(units) == priced_line.paid
        assert max(units) - min(units) <= 1 and min(units) >= 0
