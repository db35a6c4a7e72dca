"""改单 and payment attempts on the fakes: every rule of PATCH /orders/{id}, and what WeChat's
answers about the old attempt do to it (DESIGN.md invariants 2, 14 and 15)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.commands import RequestedLine
from chalicelib.domain.coupons import UserCouponStatus
from chalicelib.domain.errors import Conflict, InvalidInput, RuleViolation
from chalicelib.domain.model import OrderStatus, Visitor
from chalicelib.domain.order_changes import ChangeOrder, parse_change_order
from chalicelib.domain.refunds import RefundStatus
from chalicelib.service_layer import coupons, order_changes, payments, schedule
from chalicelib.service_layer.context import Context
from chalicelib.service_layer.orders import PlacedOrder

from .shop import customer, merch_product, new_coupon, order_of, pay, place, stock_of, ticket_product


def lines(*items: tuple[str, int]) -> ChangeOrder:
    return ChangeOrder([RequestedLine(s, q) for s, q in items], None, None, False)


def change(ctx: Context, actor, order_id: str, what: ChangeOrder) -> PlacedOrder:  # type: ignore[no-untyped-def]
    return order_changes.change_order(ctx, actor, order_id, what)


def test_a_change_replaces_the_lines_moves_the_stock_and_opens_the_next_attempt(ctx: Context) -> None:
    _, (a, b) = ticket_product(ctx, 10, 10, price=6000)
    alice = customer(ctx)
    placed = place(ctx, alice, (a.sku_id, 2))
    changed = change(ctx, alice, placed.order.order_id, lines((a.sku_id, 1), (b.sku_id, 3)))
    order = order_of(ctx, placed.order.order_id)
    assert [(l.sku_id, l.quantity) for l in order.lines] == [(a.sku_id, 1), (b.sku_id, 3)]
    assert order.total == 4 * 6000 and order.attempt == 2 and order.changes_left == 2
    assert order.expires_at == placed.order.expires_at
    assert stock_of(ctx, a.sku_id) == (9, 1, 0) and stock_of(ctx, b.sku_id) == (7, 3, 0)
    assert ctx.wechat_pay.closed == [placed.order.order_id]                     # type: ignore[attr-defined]
    assert changed.payment is not None and changed.payment["out_trade_no"] == f"{placed.order.order_id}-2"


def test_the_new_attempt_pays_the_changed_order_and_money_on_the_old_one_goes_back(ctx: Context) -> None:
    """The old trade is closed at WeChat, but say its money came anyway (a WeChat that paid it
    in the instant of the close): refunded from that attempt, the order still waiting on its
    open one; then the new attempt pays it."""
    _, (a,) = ticket_product(ctx, 10, price=6000)
    alice = customer(ctx)
    placed = place(ctx, alice, (a.sku_id, 2))
    change(ctx, alice, placed.order.order_id, lines((a.sku_id, 1)))
    gateway = ctx.wechat_pay
    gateway.trades[placed.order.order_id].state = "NOTPAY"                      # type: ignore[attr-defined]
    late = gateway.customer_pays(placed.order.order_id, 12000)                  # type: ignore[attr-defined]
    assert payments.confirm_payment(ctx, late) == "refund_due"
    refund = ctx.refunds.of_order(placed.order.order_id)[0]
    assert (refund.reason, refund.amount, refund.out_trade_no, refund.status) == (
        "other_attempt", 12000, placed.order.order_id, RefundStatus.APPROVED)
    assert order_of(ctx, placed.order.order_id).status is OrderStatus.PENDING_PAYMENT
    assert pay(ctx, order_of(ctx, placed.order.order_id)) == "paid"
    paid = order_of(ctx, placed.order.order_id)
    assert paid.status is OrderStatus.PAID and paid.total == 6000 and stock_of(ctx, a.sku_id) == (9, 0, 1)
    assert pay(ctx, paid) == "refund_due"          # paid again, under another transaction: it goes back


def test_an_order_changes_at_most_three_times_and_only_while_it_may_be_paid(ctx: Context) -> None:
    _, (a,) = ticket_product(ctx, 10)
    alice = customer(ctx)
    order_id = place(ctx, alice, (a.sku_id, 1)).order.order_id
    for quantity in (2, 3, 4):
        change(ctx, alice, order_id, lines((a.sku_id, quantity)))
    with pytest.raises(RuleViolation) as limit:
        change(ctx, alice, order_id, lines((a.sku_id, 1)))
    assert limit.value.code == "CHANGE_LIMIT_REACHED"
    assert order_of(ctx, order_id).trade_no == f"{order_id}-4"
    late_id = place(ctx, alice, (a.sku_id, 1)).order.order_id
    ctx.clock.advance(timedelta(minutes=16))                                    # type: ignore[attr-defined]
    with pytest.raises(Conflict) as late:
        change(ctx, alice, late_id, lines((a.sku_id, 2)))
    assert late.value.code == "INVALID_STATE"


def test_a_paid_order_cannot_be_changed(ctx: Context) -> None:
    _, (a,) = ticket_product(ctx, 10)
    alice = customer(ctx)
    placed = place(ctx, alice, (a.sku_id, 1))
    pay(ctx, placed.order)
    with pytest.raises(Conflict) as paid:
        change(ctx, alice, placed.order.order_id, lines((a.sku_id, 2)))
    assert paid.value.code == "INVALID_STATE"


def test_contact_fulfilment_and_address_are_not_changeable() -> None:
    for body in ({"contact": {"name": "李四", "phone": "13900139000"}}, {"fulfillment": "shipping"},
                 {"address": {"recipient": "x"}, "items": [{"sku_id": "x", "quantity": 1}]}):
        with pytest.raises(RuleViolation) as refused:
            parse_change_order(body)
        assert refused.value.code == "NOT_CHANGEABLE"
    with pytest.raises(InvalidInput):
        parse_change_order({})
    assert parse_change_order({"coupon_id": None}) == ChangeOrder(None, None, None, True)


def test_a_change_that_cannot_be_reserved_changes_nothing_and_the_order_stays_payable(ctx: Context) -> None:
    _, (a, b) = ticket_product(ctx, 10, 1, price=6000)
    alice = customer(ctx)
    placed = place(ctx, alice, (a.sku_id, 2))
    with pytest.raises(Conflict) as sold_out:
        change(ctx, alice, placed.order.order_id, lines((b.sku_id, 2)))
    assert sold_out.value.code == "SOLD_OUT"
    order = order_of(ctx, placed.order.order_id)
    assert [(l.sku_id, l.quantity) for l in order.lines] == [(a.sku_id, 2)] and order.changes == 0
    assert stock_of(ctx, a.sku_id) == (8, 2, 0) and stock_of(ctx, b.sku_id) == (1, 0, 0)
    # Checked before WeChat was asked: the trade is still open, the attempt the same.
    assert ctx.wechat_pay.closed == [] and order.attempt == 1                 # type: ignore[attr-defined]


def test_a_change_refused_after_the_close_leaves_the_order_on_a_fresh_attempt(ctx: Context, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The last unit went to someone else between the check and the transaction: the order is
    as it was, and payable on the next attempt, since its closed trade can never be paid."""
    _, (a, b) = ticket_product(ctx, 10, 1, price=6000)
    alice, bob = customer(ctx), customer(ctx, "bob")
    placed = place(ctx, alice, (a.sku_id, 1))
    close = order_changes.close_open_trade

    def close_and_lose_the_race(ctx_: Context, order) -> None:  # type: ignore[no-untyped-def]
        close(ctx_, order)
        place(ctx, bob, (b.sku_id, 1))
    monkeypatch.setattr(order_changes, "close_open_trade", close_and_lose_the_race)
    with pytest.raises(Conflict) as sold_out:
        change(ctx, alice, placed.order.order_id, lines((b.sku_id, 1)))
    assert sold_out.value.code == "SOLD_OUT"
    order = order_of(ctx, placed.order.order_id)
    assert [(l.sku_id, l.quantity) for l in order.lines] == [(a.sku_id, 1)] and order.changes == 0
    assert order.attempt == 2 and stock_of(ctx, a.sku_id) == (9, 1, 0)
    assert pay(ctx, order) == "paid"


def test_a_trade_wechat_reports_paid_is_confirmed_and_the_change_refused(ctx: Context) -> None:
    _, (a,) = ticket_product(ctx, 10, price=6000)
    alice = customer(ctx)
    placed = place(ctx, alice, (a.sku_id, 2))
    ctx.wechat_pay.customer_pays(placed.order.order_id, 12000)                  # type: ignore[attr-defined]
    with pytest.raises(Conflict) as paid:
        change(ctx, alice, placed.order.order_id, lines((a.sku_id, 1)))
    assert paid.value.code == "INVALID_STATE"
    order = order_of(ctx, placed.order.order_id)
    assert order.status is OrderStatus.PAID and order.total == 12000 and stock_of(ctx, a.sku_id) == (8, 0, 2)


def test_wechat_unreachable_refuses_the_change_and_changes_nothing(ctx: Context) -> None:
    _, (a,) = ticket_product(ctx, 10)
    alice = customer(ctx)
    placed = place(ctx, alice, (a.sku_id, 2))
    ctx.wechat_pay.down("close")                                                # type: ignore[attr-defined]
    with pytest.raises(Conflict) as down:
        change(ctx, alice, placed.order.order_id, lines((a.sku_id, 1)))
    assert down.value.code == "PAYMENT_UNAVAILABLE"
    order = order_of(ctx, placed.order.order_id)
    assert order.attempt == 1 and order.total == placed.order.total and stock_of(ctx, a.sku_id) == (8, 2, 0)


def test_the_order_own_units_and_purchase_count_are_its_own_to_keep(ctx: Context) -> None:
    """Two tickets of a session with none left stay the order's; the purchase limit counts the
    order once, not its old and new lines together."""
    _, (a, b) = ticket_product(ctx, 2, 10, purchase_limit=4)
    alice = customer(ctx)
    order_id = place(ctx, alice, (a.sku_id, 2)).order.order_id
    assert stock_of(ctx, a.sku_id) == (0, 2, 0)
    change(ctx, alice, order_id, lines((a.sku_id, 2), (b.sku_id, 2)))
    with pytest.raises(RuleViolation) as limit:
        change(ctx, alice, order_id, lines((a.sku_id, 2), (b.sku_id, 3)))
    assert limit.value.code == "PURCHASE_LIMIT_EXCEEDED"
    change(ctx, alice, order_id, lines((b.sku_id, 4)))
    assert stock_of(ctx, a.sku_id) == (2, 0, 0) and stock_of(ctx, b.sku_id) == (6, 4, 0)


def test_a_coupon_is_added_kept_and_taken_off_by_changes(ctx: Context) -> None:
    _, (a,) = ticket_product(ctx, 10, price=6000)
    alice = customer(ctx)
    mine = coupons.claim(ctx, alice, new_coupon(ctx).coupon_id)[0].user_coupon_id
    order_id = place(ctx, alice, (a.sku_id, 1)).order.order_id
    change(ctx, alice, order_id, ChangeOrder(None, None, mine, True))
    assert order_of(ctx, order_id).total == 5000 and ctx.user_coupons.get(mine).status is UserCouponStatus.LOCKED  # type: ignore[union-attr]
    change(ctx, alice, order_id, lines((a.sku_id, 2)))
    assert order_of(ctx, order_id).total == 11000 and order_of(ctx, order_id).coupon_id == mine
    change(ctx, alice, order_id, ChangeOrder(None, None, None, True))
    order = order_of(ctx, order_id)
    assert order.total == 12000 and order.coupon_id is None
    assert ctx.user_coupons.get(mine).status is UserCouponStatus.AVAILABLE  # type: ignore[union-attr]


def test_visitors_change_with_the_lines(ctx: Context) -> None:
    _, (a,) = ticket_product(ctx, 10, real_name=True)
    alice = customer(ctx)
    one = Visitor("张三", "id_card", "11010519491231002X")
    two = Visitor("李四", "id_card", "110101199003077777")
    order_id = place(ctx, alice, (a.sku_id, 1), visitors=[one]).order.order_id
    with pytest.raises(RuleViolation) as missing:
        change(ctx, alice, order_id, lines((a.sku_id, 2)))
    assert missing.value.code == "VISITORS_REQUIRED"
    change(ctx, alice, order_id, ChangeOrder([RequestedLine(a.sku_id, 2)], [one, two], None, False))
    assert [v.name for v in order_of(ctx, order_id).visitors] == ["张三", "李四"]


def test_goods_keep_their_fulfilment(ctx: Context) -> None:
    _, (a,) = ticket_product(ctx, 10)
    _, (shipped_only,) = merch_product(ctx, 10, fulfillment=())
    alice = customer(ctx)
    order_id = place(ctx, alice, (a.sku_id, 1)).order.order_id
    with pytest.raises((RuleViolation, InvalidInput)):
        change(ctx, alice, order_id, lines((a.sku_id, 1), (shipped_only.sku_id, 1)))
    assert order_of(ctx, order_id).changes == 0


def test_expiry_and_refunds_speak_to_the_attempt_of_the_order(ctx: Context) -> None:
    _, (a,) = ticket_product(ctx, 10, price=6000)
    alice = customer(ctx)
    expiring = place(ctx, alice, (a.sku_id, 1)).order.order_id
    change(ctx, alice, expiring, lines((a.sku_id, 2)))
    paid_id = place(ctx, alice, (a.sku_id, 1)).order.order_id
    change(ctx, alice, paid_id, lines((a.sku_id, 2)))
    pay(ctx, order_of(ctx, paid_id))
    ctx.clock.advance(timedelta(minutes=16))                                    # type: ignore[attr-defined]
    assert schedule.expire_order(ctx, expiring)
    assert f"{expiring}-2" in ctx.wechat_pay.closed                            # type: ignore[attr-defined]
    from chalicelib.domain.commands import parse_refund_request
    from chalicelib.service_layer import refund_settlement, refunds
    refund = refunds.request_refund(ctx, alice, paid_id, parse_refund_request({"reason": "plans changed"}))
    refund_settlement.process_refund(ctx, refund.refund_id, 1)
    assert ctx.wechat_pay.refund_calls[-1][1:] == (f"{paid_id}-2", 12000)     # type: ignore[attr-defined]
