"""Review of after-sales for goods (issue 24, 1-3): defects found by an adversarial reading, each a
failing test on the fakes. Contract: API.md "After-sales for goods" and the USE_AFTER_SALES rule;
DESIGN.md invariants 1, 3, 6, 10, 11, 13, 15, 17."""
from __future__ import annotations


from chalicelib.domain.after_sales import AfterSaleStatus, parse_receipt, parse_request
from chalicelib.domain.commands import parse_refund_request
from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.model import Fulfillment, OrderStatus
from chalicelib.domain.refunds import RefundStatus
from chalicelib.domain.coupons import UserCouponStatus
from chalicelib.service_layer import after_sales, coupons, inventory, orders, refunds
from chalicelib.service_layer.context import Context
from tests.fakes import FakeDatabase

from .after_sale_steps import SUPPORT, approved_return, ask, handed_over, ledger_agrees, receive, settle

import pytest

from .shop import ADDRESS, ADMIN, customer, merch_product, new_coupon, order_of, paid_order, refund_of, stock_of


# ------------------------------------------------------------------------------ money
def test_two_returns_of_one_line_received_together_refund_exactly_the_lines_paid(
        ctx: Context, database: FakeDatabase) -> None:
    """Invariant 13 / API: a return refunds exactly its units' `paid`. `_already_back` is a read:
    two receipts of the same line that both read it before either commits give their units the
    same (larger) share. The order-level cap does not stop it while another line leaves room, so
    the line refunds a fen more than it paid (and the order's last return is then refused by the
    cap: stranded with its goods back)."""
    _, (x, y) = merch_product(ctx, 10, 10, price=1000)
    alice = customer(ctx)
    coupon = new_coupon(ctx, amount=1003)
    user_coupon = coupons.claim(ctx, alice, coupon.coupon_id)[0].user_coupon_id
    order = paid_order(ctx, alice, (x.sku_id, 2), (y.sku_id, 3), fulfillment=Fulfillment.PICKUP,
                       coupon_id=user_coupon)
    line_x = next(line for line in order.lines if line.sku_id == x.sku_id)
    shares = line_x.unit_paid()
    assert shares[0] != shares[1], shares                       # the first unit pays a fen more
    handed_over(ctx, order)
    b = ask(ctx, alice, order, x.sku_id)
    c = ask(ctx, alice, order, x.sku_id)
    d = ask(ctx, alice, order, y.sku_id)
    for made in (b, c, d):
        after_sales.approve(ctx, SUPPORT, made)
    receive(ctx, d)                                             # a refund in flight: the order REFUNDING
    database.before_commit(lambda: receive(ctx, c))             # a second parcel received meanwhile
    receive(ctx, b)
    amounts = [ctx.after_sales.get(a).amount for a in (b, c)]  # type: ignore[union-attr]
    assert sum(amounts) == line_x.paid, (amounts, line_x.paid, shares)   # type: ignore[arg-type]


def test_goods_all_returned_leave_the_order_refunded_and_give_its_coupon_back(ctx: Context) -> None:
    """Every unit returned and refunded: the money is all back and so is everything it paid for.
    settled_status/everything_back only count revoked codes and a refund's goods claim, so a
    collected pickup code (REDEEMED) keeps the order PARTIALLY_REFUNDED for ever with its whole
    total refunded, and its coupon is never given back (a plain refund of the same goods would)."""
    _, (x,) = merch_product(ctx, 10, price=2500)
    alice, order, made = approved_return(ctx, x.sku_id, coupon=new_coupon(ctx, amount=1000))
    user_coupon = order.coupon_id
    assert settle(ctx, receive(ctx, made)) == "succeeded"
    settled = order_of(ctx, order.order_id)
    assert settled.refunded_total == settled.total
    assert settled.status is OrderStatus.REFUNDED, settled.status
    found = ctx.user_coupons.get(user_coupon)
    assert found is not None and found.status is not UserCouponStatus.USED


# ------------------------------------------------------------------------------ input
def test_a_receipt_with_restock_null_is_refused_not_taken_as_false() -> None:
    """API: `{"restock": bool}` is required. A null passes `has("restock")` and becomes
    Receipt(restock=None): the goods silently never go back to stock."""
    with pytest.raises(InvalidInput):
        parse_receipt({"restock": None})


# ------------------------------------------------------------------------------ stock
def test_an_exchange_for_a_sharded_spec_is_not_sold_out_while_it_has_the_units(ctx: Context) -> None:
    """API: approving an exchange reserves the replacement, 409 SOLD_OUT when there is none.
    `approve` checks `sku.available` (all buckets) and then reserves from ONE random shard with no
    plan (`ctx.stock.reserve(..., planned=None)`), unlike placing an order, which gathers: a
    sharded spec with enough units spread thinly answers SOLD_OUT."""
    _, (x, y) = merch_product(ctx, 10, 4)
    inventory.split_stock(ctx, ADMIN, y.sku_id, 4)                   # one unit in each shard
    alice = customer(ctx)
    order = paid_order(ctx, alice, (x.sku_id, 2), fulfillment=Fulfillment.PICKUP)
    handed_over(ctx, order)
    made = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(
        {"type": "exchange", "lines": [{"sku_id": x.sku_id, "quantity": 2}], "reason": "size",
         "exchange_sku_id": y.sku_id}))
    assert stock_of(ctx, y.sku_id)[0] == 4
    approved = after_sales.approve(ctx, SUPPORT, made.after_sale_id)
    assert approved.status is AfterSaleStatus.APPROVED and stock_of(ctx, y.sku_id)[:2] == (2, 2)
    assert ledger_agrees(ctx, y.sku_id)


def test_goods_a_failed_refund_still_claims_are_not_returned_again_through_after_sales(ctx: Context) -> None:
    """A refund of shipped goods approved with goods_returned that FAILED releases the order's
    goods claim (`merch_refund`) and sends the order back to SHIPPED (receipt due again); it can
    still be retried. `check_window` only looks at `merch_refund`, so once the order is received
    the same goods can be asked for under after-sales: received and restocked there, and then the
    failed refund, retried, gives the same units back to stock a second time (and the two refunds
    claim the same goods' money, only the order's total cap stopping the second)."""
    _, (x,) = merch_product(ctx, 10, price=2500)
    bob = customer(ctx, "bob")
    paid_order(ctx, bob, (x.sku_id, 2), fulfillment=Fulfillment.PICKUP)          # other sales of the SKU
    alice = customer(ctx)
    order = paid_order(ctx, alice, (x.sku_id, 2), fulfillment=Fulfillment.SHIPPING, address=ADDRESS)
    orders.ship_order(ctx, ADMIN, order.order_id, "SF", "SF1")
    asked = refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "broken"}))
    refunds.approve_refund(ctx, ADMIN, asked.refund_id, goods_returned=True)
    assert settle(ctx, asked.refund_id, "CLOSED") == "failed"
    assert refund_of(ctx, asked.refund_id).status is RefundStatus.FAILED
    orders.confirm_receipt(ctx, alice, order.order_id)
    try:
        made = ask(ctx, alice, order_of(ctx, order.order_id), x.sku_id, 2)
    except Conflict:
        return                                                     # refused: the failed refund claims them
    after_sales.approve(ctx, SUPPORT, made)
    returned = receive(ctx, made)
    assert stock_of(ctx, x.sku_id) == (8, 0, 2)                    # alice's 2 back, bob's 2 sold
    assert settle(ctx, returned, "CLOSED") == "failed"
    with pytest.raises(Conflict) as refused:                       # the return has them now
        refunds.retry_refund(ctx, ADMIN, asked.refund_id)
    assert refused.value.code == "USE_AFTER_SALES"
    assert refund_of(ctx, asked.refund_id).status is RefundStatus.FAILED
    refunds.retry_refund(ctx, ADMIN, returned)                     # the return's own refund goes again
    assert settle(ctx, returned) == "succeeded"
    assert stock_of(ctx, x.sku_id) == (8, 0, 2) and ledger_agrees(ctx, x.sku_id), stock_of(ctx, x.sku_id)


def test_goods_a_refund_is_under_way_for_are_not_asked_for_under_after_sales(ctx: Context) -> None:
    """The request's own write checks that no refund claims the goods: a refund approved between
    the request's read and its write refuses it."""
    _, (x,) = merch_product(ctx, 10, price=2500)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (x.sku_id, 2), fulfillment=Fulfillment.PICKUP)
    handed_over(ctx, order)
    uow = ctx.unit_of_work()
    ctx.orders.claim_goods(uow, order.order_id, "Rsomeone")          # a refund's claim, after the read below
    uow.commit()
    ctx.orders.get = lambda order_id: (order, set())                 # type: ignore[method-assign]  # as read
    with pytest.raises(Conflict) as refused:
        ask(ctx, alice, order, x.sku_id)
    assert "refund" in str(refused.value)
    assert ctx.after_sales.of_order(order.order_id) == []


def test_units_returned_one_by_one_go_back_to_the_buckets_the_line_took_them_from(
        ctx: Context, database: FakeDatabase) -> None:
    """take_from's own rule: "no bucket gets back more than the line took from it", which is why
    a refund passes the units already returned (`already_back`). `receive` restocks with
    take_from(line.stock_shares, quantity) and no offset: a second return of the same line goes
    back to the bucket the first one already refilled, whose `sold` goes below zero while the
    other bucket's units stay sold for ever."""
    _, (x,) = merch_product(ctx, 4)
    inventory.split_stock(ctx, ADMIN, x.sku_id, 4)                   # one unit in each shard
    alice = customer(ctx)
    order = paid_order(ctx, alice, (x.sku_id, 2), fulfillment=Fulfillment.PICKUP)
    [line] = order.lines
    assert len(line.stock_shares) == 2, line.stock_shares           # the line took a unit from two shards
    handed_over(ctx, order)
    for _ in range(2):
        made = ask(ctx, alice, order, x.sku_id)
        after_sales.approve(ctx, SUPPORT, made)
        receive(ctx, made)
    shards = {k: (b.available, b.sold) for k, b in database.table("stock-shards").items() if b.sku_id == x.sku_id}
    assert all(sold >= 0 for _, sold in shards.values()), shards
    assert stock_of(ctx, x.sku_id) == (4, 0, 0) and ledger_agrees(ctx, x.sku_id)
