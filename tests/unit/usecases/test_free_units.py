"""Promotions at their edges, from the adversarial review of issue 22: units promotions paid in
full (a coupon never back while a free ticket it paid for is usable; refunds of 0 fen settled
here, never sent to WeChat), free orders (settled, their tickets finished by the schedule, never
refunded money they did not pay, replayed as first answered). DESIGN.md's invariants 13, 10,
15 and 17."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.commands import parse_refund_request
from chalicelib.domain.coupons import Coupon, UserCouponStatus
from chalicelib.domain.model import OrderStatus
from chalicelib.domain.ordering import UnpaidLimits
from chalicelib.domain.tickets import TicketStatus
from chalicelib.service_layer import coupons, orders, refund_settlement, refunds, schedule
from chalicelib.service_layer.context import Actor, Context
from chalicelib.service_layer.tags import Tag
from tests.fakes import FakeDatabase, db, fake_context

from . import shop
from .shop import customer, order_of, paid_order, place, ticket_product, tickets_of


def new_coupon(ctx: Context, **extra: object) -> Coupon:
    """A free admission's coupon: ¥30 off, valid 30 days."""
    return shop.new_coupon(ctx, **{"name": "免费入场", "amount": 3000, "valid_days": 30, **extra})


def claim(ctx: Context, actor: Actor, coupon: Coupon) -> str:
    return coupons.claim(ctx, actor, coupon.coupon_id)[0].user_coupon_id


def coupon_status(ctx: Context, user_coupon_id: str) -> UserCouponStatus:
    found = ctx.user_coupons.get(user_coupon_id)
    assert found is not None
    return found.status


def refund_tickets(ctx: Context, actor: Actor, order_id: str, ticket_ids: list[str] | None) -> str:
    body: dict[str, object] = {"reason": "plans changed"}
    if ticket_ids is not None:
        body["ticket_ids"] = ticket_ids
    refund = refunds.request_refund(ctx, actor, order_id, parse_refund_request(body))
    ctx.wechat_pay.refund_answers[refund.out_refund_no] = "SUCCESS"         # type: ignore[attr-defined]
    refund_settlement.process_refund(ctx, refund.refund_id, 1)
    return refund.refund_id


# ------------------------------------------------------------------ F1 (high)

def test_a_coupon_is_not_given_back_while_the_free_ticket_it_paid_for_is_still_valid(ctx: Context) -> None:
    """A "free admission to Hall A" coupon (cash 3000, scope Hall A) on an order of Hall A + Hall B:
    Hall A's line is paid 0, Hall B's 6000. Refunding Hall B's ticket alone refunds 6000 == the
    order's total, so settled_status calls the order REFUNDED and _coupon_back returns the coupon,
    while Hall A's free ticket is still VALID (the gate never looks at the order's status). The
    customer uses the coupon again: one coupon has paid for two free admissions, and the order
    reads REFUNDED with a live ticket in it."""
    hall_a, (a,) = ticket_product(ctx, 10, price=3000)
    _, (b,) = ticket_product(ctx, 10, price=6000)
    coupon = new_coupon(ctx, scope={"product_ids": [hall_a.product_id]})
    alice = customer(ctx)
    mine = claim(ctx, alice, coupon)
    order = paid_order(ctx, alice, (a.sku_id, 1), (b.sku_id, 1), coupon_id=mine)
    assert order.total == 6000 and [l.paid for l in order.lines] == [0, 6000]
    b_ticket = next(t for t in tickets_of(ctx, order.order_id) if t.sku_id == b.sku_id)
    refund_tickets(ctx, alice, order.order_id, [b_ticket.ticket_id])
    still_valid = [t for t in tickets_of(ctx, order.order_id) if t.status is TicketStatus.VALID]
    assert [t.sku_id for t in still_valid] == [a.sku_id]
    # The order is not refunded in full while one of its admissions is still usable, and the
    # coupon that paid for that admission must not be free to pay for another.
    found = (order_of(ctx, order.order_id).status is OrderStatus.REFUNDED, coupon_status(ctx, mine))
    assert found == (False, UserCouponStatus.USED), found


# ------------------------------------------------------------------ F2 (high)

def test_a_unit_promotions_paid_in_full_is_never_sent_to_wechat_as_a_refund_of_0_fen(ctx: Context) -> None:
    """The same order: refunding Hall A's free ticket plans a refund of 0 fen, which the refunds
    worker sends to WeChat (amount.refund must be at least 1 fen: WeChat refuses it). The
    ticket is revoked at approval, the refund fails after its attempts (critical alert), and
    the seat never returns to stock (stock returns only on WeChat's SUCCESS)."""
    hall_a, (a,) = ticket_product(ctx, 10, price=3000)
    _, (b,) = ticket_product(ctx, 10, price=6000)
    coupon = new_coupon(ctx, scope={"product_ids": [hall_a.product_id]})
    alice = customer(ctx)
    order = paid_order(ctx, alice, (a.sku_id, 1), (b.sku_id, 1), coupon_id=claim(ctx, alice, coupon))
    a_ticket = next(t for t in tickets_of(ctx, order.order_id) if t.sku_id == a.sku_id)
    refund_tickets(ctx, alice, order.order_id, [a_ticket.ticket_id])
    sent = ctx.wechat_pay.refund_calls                                      # type: ignore[attr-defined]
    assert all(amount > 0 for _, _, amount in sent), f"refunds of 0 fen sent to WeChat: {sent}"


def test_a_free_orders_refund_is_never_sent_to_wechat_which_has_no_trade_of_it(ctx: Context) -> None:
    """An order promotions paid in full has no WeChat trade (transaction FREE-<order>). Its
    refund (0 fen) is still sent to WeChat as a refund of out_trade_no=<order_id>: WeChat (and
    the local sandbox: 400 "订单不存在或未支付") refuses it, so the refund FAILS with a critical
    alert, its tickets stay revoked, the stock never returns and the coupon is never given back."""
    _, (sku,) = ticket_product(ctx, 10, price=1500)
    alice = customer(ctx)
    mine = claim(ctx, alice, new_coupon(ctx, amount=5000))
    placed = place(ctx, alice, (sku.sku_id, 2), coupon_id=mine)
    assert placed.order.status is OrderStatus.PAID and placed.order.total == 0
    refund_tickets(ctx, alice, placed.order.order_id, None)
    sent = ctx.wechat_pay.refund_calls                                      # type: ignore[attr-defined]
    trades = ctx.wechat_pay.trades                                           # type: ignore[attr-defined]
    assert not [c for c in sent if c[1] not in trades], f"refunds of trades WeChat never had: {sent}"


def test_a_free_orders_refund_is_settled_here_and_gives_everything_back(ctx: Context) -> None:
    """A refund of 0 fen moves no money: it is settled without WeChat (which never saw the
    order), the seats return, the order is REFUNDED and its coupon, still valid, is available."""
    _, (sku,) = ticket_product(ctx, 10, price=1500)
    alice = customer(ctx)
    mine = claim(ctx, alice, new_coupon(ctx, amount=5000))
    placed = place(ctx, alice, (sku.sku_id, 2), coupon_id=mine)
    refund = refunds.request_refund(ctx, alice, placed.order.order_id, parse_refund_request({"reason": "x"}))
    assert refund_settlement.process_refund(ctx, refund.refund_id, 1) == "succeeded"
    assert ctx.refunds.get(refund.refund_id).gateway_status == "NO_MONEY"  # type: ignore[union-attr]
    assert order_of(ctx, placed.order.order_id).status is OrderStatus.REFUNDED
    assert coupon_status(ctx, mine) is UserCouponStatus.AVAILABLE
    assert ctx.wechat_pay.refund_calls == []                                # type: ignore[attr-defined]


# ------------------------------------------------------------------ F3 (medium)

def test_a_free_orders_tickets_cut_short_are_issued_in_the_end() -> None:
    """A large free order (99 tickets, a group's coupon) issues its first batch in the PAID
    transaction and the rest in further ones. A WeChat order whose later batch fails is
    finished by WeChat's redelivery (_finish_issuing); a free order has no notice to be
    redelivered, and expire_order skips it once it is PAID: the missing tickets are never
    issued, whatever the schedule does."""
    ctx = fake_context(unpaid_limits=UnpaidLimits(orders=3, units_per_sku=99))
    database = db(ctx)
    _, (sku,) = ticket_product(ctx, 99, price=100)
    alice = customer(ctx)
    mine = claim(ctx, alice, new_coupon(ctx, amount=9900))
    database.conflict(times=3, when=lambda tags: Tag.PAYMENT not in tags and Tag.ORDER in tags
                      and any(t.startswith("ticket:") for t in tags))      # the second batch, once
    placed = place(ctx, alice, (sku.sku_id, 99), coupon_id=mine)
    cut = order_of(ctx, placed.order.order_id)
    assert cut.status is OrderStatus.PAID and cut.tickets_issued < 99
    ctx.clock.advance(timedelta(hours=1))                                   # type: ignore[attr-defined]
    schedule.run(ctx)
    schedule.expire_order(ctx, cut.order_id)
    assert order_of(ctx, cut.order_id).tickets_issued == 99, "a free order's missing tickets are never issued"


# ------------------------------------------------------------------ F4 (low)

def test_a_free_order_cancelled_while_the_expiry_settles_it_is_not_refunded_money_never_paid(
        ctx: Context, database: FakeDatabase) -> None:
    """A free order whose settlement at placement failed stays PENDING_PAYMENT until the expiry
    job settles it (settle_free_order). If its customer cancels it while the job settles it,
    confirm_payment loses to the cancellation and _refund_due records an automatic refund of 0
    fen for transaction FREE-<order>, queued for WeChat: a trade WeChat never had (the refund
    fails with a critical 'refund_failed' alert; the ledger holds a refund_due payment)."""
    _, (sku,) = ticket_product(ctx, 10, price=1500)
    alice = customer(ctx)
    mine = claim(ctx, alice, new_coupon(ctx, amount=5000))
    database.conflict(times=12, when=lambda tags: Tag.PAYMENT in tags)     # settling at placement fails
    placed = place(ctx, alice, (sku.sku_id, 1), coupon_id=mine)
    order_id = placed.order.order_id
    assert order_of(ctx, order_id).status is OrderStatus.PENDING_PAYMENT
    database.calm()
    ctx.clock.advance(timedelta(seconds=901))                               # type: ignore[attr-defined]
    database.before_commit(lambda: orders.cancel_order(ctx, alice, order_id), when=lambda tags: Tag.PAYMENT in tags)
    schedule.expire_order(ctx, order_id)
    assert order_of(ctx, order_id).status is OrderStatus.CANCELLED
    assert coupon_status(ctx, mine) is UserCouponStatus.AVAILABLE
    assert ctx.refunds.of_order(order_id) == [], "an automatic refund of 0 fen for a trade that never existed"
    assert ctx.messages.refunds == []                                       # type: ignore[attr-defined]


# ------------------------------------------------------------------ F5 (low)

def test_an_idempotent_replay_of_a_free_order_answers_as_the_first_request_was_answered(ctx: Context) -> None:
    """API.md: the same Idempotency-Key and body return the first response. A free order's first
    answer is PAID (settled at once); its replay answers order.as_placed(): PENDING_PAYMENT."""
    _, (sku,) = ticket_product(ctx, 10, price=1500)
    alice = customer(ctx)
    mine = claim(ctx, alice, new_coupon(ctx, amount=5000))
    first = place(ctx, alice, (sku.sku_id, 1), coupon_id=mine, key="k-1")
    again = place(ctx, alice, (sku.sku_id, 1), coupon_id=mine, key="k-1")
    assert first.order.status is OrderStatus.PAID
    assert again.order.status is first.order.status
