"""After-sales for goods (售后) on the fakes: every rule of API.md's "After-sales for goods", stock
and money moving once each in the step that moves them (DESIGN.md invariants 1, 3, 9, 10, 15)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.after_sales import (AfterSale, AfterSaleStatus, parse_receipt, parse_replacement,
                                           parse_request, parse_return)
from chalicelib.domain.commands import parse_refund_request
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.model import Fulfillment, Order, OrderStatus
from chalicelib.domain.refunds import RefundStatus
from chalicelib.domain.tickets import CodeKind, TicketStatus
from chalicelib.service_layer import after_sale_receipts, after_sales, orders, refund_settlement, refunds
from chalicelib.service_layer.context import Actor, Context
from tests.fakes import FakeDatabase

from .after_sale_steps import SUPPORT, ask, handed_over, ledger_agrees, settle
from .shop import ADDRESS, ADMIN, customer, merch_product, order_of, paid_order, stock_of, tickets_of


def collected(ctx: Context, *stocks: int, quantity: int = 2, price: int = 2500) -> tuple[Actor, Order, list[str]]:
    """Alice bought `quantity` of the first SKU for pickup and collected them."""
    _, skus = merch_product(ctx, *(stocks or (10,)), price=price)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (skus[0].sku_id, quantity), fulfillment=Fulfillment.PICKUP)
    handed_over(ctx, order)
    return alice, order_of(ctx, order.order_id), [s.sku_id for s in skus]


def asked(ctx: Context, alice: Actor, order: Order, sku_id: str, quantity: int = 1, **body: Any) -> AfterSale:
    found = ctx.after_sales.get(ask(ctx, alice, order, sku_id, quantity, **body))
    assert found is not None
    return found


def test_a_return_with_restock_puts_the_units_back_once_and_completes_when_wechat_pays(ctx: Context) -> None:
    alice, order, (sku_id, _) = collected(ctx, 10, 10)
    assert stock_of(ctx, sku_id) == (8, 0, 2)
    made = asked(ctx, alice, order, sku_id)
    assert made.status is AfterSaleStatus.REQUESTED
    after_sales.approve(ctx, SUPPORT, made.after_sale_id)
    after_sales.send_back(ctx, alice, order.order_id, made.after_sale_id, parse_return({"carrier": "SF",
                                                                                       "tracking_no": "1"}))
    received, refund = after_sale_receipts.receive(ctx, SUPPORT, made.after_sale_id, parse_receipt({"restock": True}))
    assert refund is not None and received.status is AfterSaleStatus.RECEIVED
    assert (refund.status, refund.amount, refund.stock_lines, refund.goods_returned) == (
        RefundStatus.APPROVED, 2500, [], True)
    assert stock_of(ctx, sku_id) == (9, 0, 1) and ledger_agrees(ctx, sku_id)
    assert order_of(ctx, order.order_id).status is OrderStatus.REFUNDING
    assert ctx.messages.refunds == [refund.refund_id]                          # type: ignore[attr-defined]
    assert settle(ctx, refund.refund_id) == "succeeded"
    done = ctx.after_sales.get(made.after_sale_id)
    assert done is not None and done.status is AfterSaleStatus.COMPLETED
    assert [h.status for h in done.history] == [AfterSaleStatus.REQUESTED, AfterSaleStatus.APPROVED,
                                                AfterSaleStatus.RETURNING, AfterSaleStatus.RECEIVED,
                                                AfterSaleStatus.COMPLETED]
    assert stock_of(ctx, sku_id) == (9, 0, 1) and ledger_agrees(ctx, sku_id)    # not a second time
    settled = order_of(ctx, order.order_id)
    assert (settled.status, settled.refunded_total) == (OrderStatus.PARTIALLY_REFUNDED, 2500)
    assert refund_settlement.process_refund(ctx, refund.refund_id, 2) == "skipped"
    assert [e.action for e in ctx.audit.entries()][-2:] == ["after_sale_approved", "after_sale_received"]  # type: ignore[attr-defined]


def test_goods_not_restocked_stay_out_of_stock_and_the_second_unit_refunds_its_own_share(ctx: Context) -> None:
    _, skus = merch_product(ctx, 10, price=1000)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (skus[0].sku_id, 3), fulfillment=Fulfillment.PICKUP)
    handed_over(ctx, order)
    sku_id = skus[0].sku_id
    amounts = []
    for _ in range(2):
        made = asked(ctx, alice, order, sku_id)
        after_sales.approve(ctx, SUPPORT, made.after_sale_id)
        _, refund = after_sale_receipts.receive(ctx, SUPPORT, made.after_sale_id, parse_receipt({"restock": False}))
        assert refund is not None
        assert settle(ctx, refund.refund_id) == "succeeded"
        amounts.append(refund.amount)
    assert amounts == [1000, 1000] and stock_of(ctx, sku_id) == (7, 0, 3) and ledger_agrees(ctx, sku_id)


def test_only_goods_the_customer_has_within_the_window(ctx: Context) -> None:
    _, (sku,) = merch_product(ctx, 10)
    alice = customer(ctx)
    waiting = paid_order(ctx, alice, (sku.sku_id, 1), fulfillment=Fulfillment.PICKUP)
    with pytest.raises(Conflict) as not_yet:
        asked(ctx, alice, waiting, sku.sku_id)
    assert not_yet.value.code == "INVALID_STATE"
    posted = paid_order(ctx, alice, (sku.sku_id, 1), fulfillment=Fulfillment.SHIPPING, address=ADDRESS)
    orders.ship_order(ctx, ADMIN, posted.order_id, "SF", "SF1")
    with pytest.raises(Conflict):                                   # shipped, not yet received
        asked(ctx, alice, order_of(ctx, posted.order_id), sku.sku_id)
    orders.confirm_receipt(ctx, alice, posted.order_id)
    assert asked(ctx, alice, order_of(ctx, posted.order_id), sku.sku_id).status is AfterSaleStatus.REQUESTED
    handed_over(ctx, waiting)
    ctx.clock.advance(timedelta(days=7, seconds=1))                 # type: ignore[attr-defined]
    with pytest.raises(RuleViolation) as late:
        asked(ctx, alice, order_of(ctx, waiting.order_id), sku.sku_id)
    assert late.value.code == "AFTER_SALES_CLOSED"
    with pytest.raises(NotFound):                                   # not yours
        asked(ctx, customer(ctx, "bob"), waiting, sku.sku_id)


def test_never_more_units_than_bought_nor_the_same_units_twice(ctx: Context) -> None:
    alice, order, (sku_id, other) = collected(ctx, 10, 10, quantity=2)
    with pytest.raises(Conflict) as too_many:
        asked(ctx, alice, order, sku_id, 3)
    assert too_many.value.code == "INVALID_STATE"
    with pytest.raises(Conflict):
        asked(ctx, alice, order, other)                               # not in this order
    first = asked(ctx, alice, order, sku_id, 2)
    with pytest.raises(Conflict) as twice:
        asked(ctx, alice, order, sku_id, 1)
    assert twice.value.code == "INVALID_STATE"
    after_sales.cancel(ctx, alice, order.order_id, first.after_sale_id)
    second = asked(ctx, alice, order, sku_id, 1)
    after_sales.reject(ctx, SUPPORT, second.after_sale_id, "looks fine")
    assert asked(ctx, alice, order, sku_id, 2).status is AfterSaleStatus.REQUESTED


def test_two_requests_racing_for_the_same_units_cannot_both_pass(ctx: Context, database: FakeDatabase) -> None:
    alice, order, (sku_id, _) = collected(ctx, 10, 10, quantity=2)
    database.before_commit(lambda: asked(ctx, alice, order, sku_id, 2))   # a rival lands after our read
    with pytest.raises(Conflict) as lost:
        asked(ctx, alice, order, sku_id, 1)
    assert lost.value.code == "INVALID_STATE" and len(ctx.after_sales.of_order(order.order_id)) == 1


def test_an_exchange_reserves_at_approval_and_sells_at_shipping(ctx: Context) -> None:
    alice, order, (sku_id, other) = collected(ctx, 10, 1)
    made = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(
        {"type": "exchange", "lines": [{"sku_id": sku_id, "quantity": 1}], "reason": "size",
         "exchange_sku_id": other}))
    after_sales.approve(ctx, SUPPORT, made.after_sale_id)
    assert stock_of(ctx, other) == (0, 1, 0) and ledger_agrees(ctx, other)
    with pytest.raises(Conflict) as early:
        after_sales.ship(ctx, SUPPORT, made.after_sale_id, parse_replacement({"pickup": True}))
    assert early.value.code == "INVALID_STATE"                      # the goods come back first
    after_sales.send_back(ctx, alice, order.order_id, made.after_sale_id, parse_return({"at_counter": True}))
    received, refund = after_sale_receipts.receive(ctx, SUPPORT, made.after_sale_id, parse_receipt({"restock": True}))
    assert refund is None and stock_of(ctx, sku_id) == (9, 0, 1)
    shipped = after_sales.ship(ctx, SUPPORT, made.after_sale_id, parse_replacement({"pickup": True}))
    assert shipped.status is AfterSaleStatus.COMPLETED and stock_of(ctx, other) == (0, 0, 1)
    assert ledger_agrees(ctx, other) and ledger_agrees(ctx, sku_id)
    codes = [t for t in tickets_of(ctx, order.order_id, CodeKind.PICKUP) if t.status is TicketStatus.VALID]
    assert shipped.shipment is not None and [t.code for t in codes] == [shipped.shipment["pickup_code"]]
    assert ctx.refunds.of_order(order.order_id) == []              # an exchange moves no money


def test_an_exchange_with_nothing_to_give_is_sold_out_and_a_rejected_one_releases_its_unit(ctx: Context) -> None:
    alice, order, (sku_id, other) = collected(ctx, 10, 1, quantity=2)
    body = {"type": "exchange", "lines": [{"sku_id": sku_id, "quantity": 1}], "reason": "size",
            "exchange_sku_id": other}
    first = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(body))
    second = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(body))
    after_sales.approve(ctx, SUPPORT, first.after_sale_id)
    with pytest.raises(Conflict) as sold_out:
        after_sales.approve(ctx, SUPPORT, second.after_sale_id)
    assert sold_out.value.code == "SOLD_OUT"
    after_sales.reject(ctx, SUPPORT, first.after_sale_id, "no damage found")
    assert stock_of(ctx, other) == (1, 0, 0) and ledger_agrees(ctx, other)
    after_sales.approve(ctx, SUPPORT, second.after_sale_id)
    after_sales.cancel(ctx, alice, order.order_id, second.after_sale_id)
    assert stock_of(ctx, other) == (1, 0, 0) and ledger_agrees(ctx, other)


def test_an_exchange_is_for_another_spec_of_the_same_product_at_the_same_price(ctx: Context) -> None:
    alice, order, (sku_id, same) = collected(ctx, 10, 10)
    _, (elsewhere,) = merch_product(ctx, 10)
    for target in (elsewhere.sku_id, sku_id):
        with pytest.raises(Conflict):
            after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(
                {"type": "exchange", "lines": [{"sku_id": sku_id, "quantity": 1}], "reason": "size",
                 "exchange_sku_id": target}))
    with pytest.raises(InvalidInput):
        parse_request({"type": "exchange", "lines": [{"sku_id": sku_id, "quantity": 1}], "reason": "size"})
    with pytest.raises(InvalidInput):
        parse_request({"type": "return_refund", "lines": [], "reason": "size"})


def test_each_move_is_conditional_on_the_state_it_read(ctx: Context, database: FakeDatabase) -> None:
    alice, order, (sku_id, _) = collected(ctx, 10, 10)
    made = asked(ctx, alice, order, sku_id)
    with pytest.raises(Conflict):                                   # not approved yet
        after_sales.send_back(ctx, alice, order.order_id, made.after_sale_id, parse_return({"at_counter": True}))
    database.before_commit(lambda: after_sales.cancel(ctx, alice, order.order_id, made.after_sale_id))
    with pytest.raises(Conflict) as raced:
        after_sales.approve(ctx, SUPPORT, made.after_sale_id)
    assert raced.value.code == "INVALID_STATE"
    assert ctx.after_sales.get(made.after_sale_id).status is AfterSaleStatus.CANCELLED   # type: ignore[union-attr]
    with pytest.raises(NotFound) as missing:
        after_sales.approve(ctx, SUPPORT, "A-nope")
    assert missing.value.code == "AFTER_SALE_NOT_FOUND"
    received = asked(ctx, alice, order, sku_id)
    after_sales.approve(ctx, SUPPORT, received.after_sale_id)
    after_sale_receipts.receive(ctx, SUPPORT, received.after_sale_id, parse_receipt({"restock": True}))
    with pytest.raises(Conflict):                                   # received: too late to withdraw
        after_sales.cancel(ctx, alice, order.order_id, received.after_sale_id)


def test_a_refund_of_goods_already_handed_over_is_sent_to_after_sales(ctx: Context) -> None:
    alice, order, _ = collected(ctx, 10)
    with pytest.raises(Conflict) as refused:
        refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "broken"}))
    assert refused.value.code == "USE_AFTER_SALES"
    _, (sku,) = merch_product(ctx, 10)
    before = paid_order(ctx, alice, (sku.sku_id, 1), fulfillment=Fulfillment.PICKUP)
    asked = refunds.request_refund(ctx, alice, before.order_id, parse_refund_request({"reason": "changed mind"}))
    assert asked.status is RefundStatus.REQUESTED                  # before the handover: today's rule


def test_staff_lists_by_status_and_type(ctx: Context) -> None:
    alice, order, (sku_id, other) = collected(ctx, 10, 10, quantity=2)
    asked(ctx, alice, order, sku_id)
    after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(
        {"type": "exchange", "lines": [{"sku_id": sku_id, "quantity": 1}], "reason": "size",
         "exchange_sku_id": other}))
    assert len(after_sales.list_after_sales(ctx, None, None, 50, None).items) == 2
    assert [a.type.value for a in after_sales.list_after_sales(ctx, "REQUESTED", "exchange", 50, None).items] == [
        "exchange"]
    assert after_sales.list_after_sales(ctx, "COMPLETED", None, 50, None).items == []
    with pytest.raises(InvalidInput):
        after_sales.list_after_sales(ctx, "NOPE", None, 50, None)


def test_the_largest_return_fits_one_transaction_at_each_step(ctx: Context, database: FakeDatabase) -> None:
    """Invariant 17: an after-sale names at most MAX_AFTER_SALE_LINES lines, so its largest step
    (receive: the refund, the order, the after-sale, each line's counts, SKU and movement, the
    audit record) stays well within DynamoDB's 100 items."""
    from chalicelib.domain.after_sales import MAX_AFTER_SALE_LINES
    from chalicelib.domain.transactions import MAX_ITEMS
    _, skus = merch_product(ctx, *([5] * MAX_AFTER_SALE_LINES), price=1000)
    alice = customer(ctx)
    order = paid_order(ctx, alice, *[(s.sku_id, 1) for s in skus], fulfillment=Fulfillment.PICKUP)
    handed_over(ctx, order)
    made = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(
        {"type": "return_refund", "lines": [{"sku_id": s.sku_id, "quantity": 1} for s in skus], "reason": "other"}))
    with pytest.raises(InvalidInput):
        parse_request({"type": "return_refund", "reason": "other",
                       "lines": [{"sku_id": f"P000000000001-S{i:06d}", "quantity": 1}
                                 for i in range(MAX_AFTER_SALE_LINES + 1)]})
    after_sales.approve(ctx, SUPPORT, made.after_sale_id)
    before = len(database.committed)
    _, refund = after_sale_receipts.receive(ctx, SUPPORT, made.after_sale_id, parse_receipt({"restock": True}))
    [receiving] = database.committed[before:]
    assert len(receiving) == 4 + 3 * MAX_AFTER_SALE_LINES <= MAX_ITEMS
    assert refund is not None and refund.amount == order.total
    assert all(ledger_agrees(ctx, s.sku_id) and stock_of(ctx, s.sku_id) == (5, 0, 0) for s in skus)


def test_an_exchange_shipped_by_post_completes_and_sells_its_replacement(ctx: Context) -> None:
    _, (sku, other) = merch_product(ctx, 10, 10)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (sku.sku_id, 1), fulfillment=Fulfillment.SHIPPING, address=ADDRESS)
    orders.ship_order(ctx, ADMIN, order.order_id, "SF", "SF1")
    orders.confirm_receipt(ctx, alice, order.order_id)
    made = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(
        {"type": "exchange", "lines": [{"sku_id": sku.sku_id, "quantity": 1}], "reason": "wrong_item",
         "exchange_sku_id": other.sku_id}))
    after_sales.approve(ctx, SUPPORT, made.after_sale_id)
    after_sale_receipts.receive(ctx, SUPPORT, made.after_sale_id, parse_receipt({"restock": True}))
    with pytest.raises(InvalidInput):
        parse_replacement({"carrier": "SF"})
    with pytest.raises(InvalidInput):
        parse_replacement({"pickup": True, "carrier": "SF"})
    shipped = after_sales.ship(ctx, SUPPORT, made.after_sale_id, parse_replacement({"carrier": "SF",
                                                                                      "tracking_no": "SF2"}))
    assert shipped.status is AfterSaleStatus.COMPLETED and shipped.shipment == {"carrier": "SF", "tracking_no": "SF2"}
    assert stock_of(ctx, other.sku_id) == (9, 0, 1) and stock_of(ctx, sku.sku_id) == (10, 0, 0)
    assert ledger_agrees(ctx, other.sku_id) and ledger_agrees(ctx, sku.sku_id)
    with pytest.raises(Conflict) as again:                          # the units exchanged stay taken
        asked(ctx, alice, order_of(ctx, order.order_id), sku.sku_id)
    assert again.value.code == "INVALID_STATE"


def test_a_return_ships_nothing(ctx: Context) -> None:
    alice, order, (sku_id, _) = collected(ctx, 10, 10)
    made = asked(ctx, alice, order, sku_id)
    after_sales.approve(ctx, SUPPORT, made.after_sale_id)
    after_sale_receipts.receive(ctx, SUPPORT, made.after_sale_id, parse_receipt({"restock": True}))
    with pytest.raises(Conflict) as refused:
        after_sales.ship(ctx, SUPPORT, made.after_sale_id, parse_replacement({"pickup": True}))
    assert refused.value.code == "INVALID_STATE"


def test_an_order_whose_goods_all_came_back_and_were_refunded_is_refunded(ctx: Context) -> None:
    alice, order, (sku_id, _) = collected(ctx, 10, 10, quantity=2)
    for _ in range(2):
        made = asked(ctx, alice, order, sku_id)
        after_sales.approve(ctx, SUPPORT, made.after_sale_id)
        _, refund = after_sale_receipts.receive(ctx, SUPPORT, made.after_sale_id, parse_receipt({"restock": True}))
        assert refund is not None and settle(ctx, refund.refund_id) == "succeeded"
    settled = order_of(ctx, order.order_id)
    assert (settled.status, settled.refunded_total) == (OrderStatus.REFUNDED, order.total)
    assert stock_of(ctx, sku_id) == (10, 0, 0) and ledger_agrees(ctx, sku_id)


def test_a_request_repeated_under_its_idempotency_key_answers_the_first(ctx: Context, database: FakeDatabase) -> None:
    alice, order, (sku_id, _) = collected(ctx, 10, 10, quantity=3)
    body = {"type": "return_refund", "lines": [{"sku_id": sku_id, "quantity": 1}], "reason": "damaged"}
    first = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(body), "k1")
    again = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(body), "k1")
    assert again.after_sale_id == first.after_sale_id and len(ctx.after_sales.of_order(order.order_id)) == 1
    with pytest.raises(RuleViolation) as reused:
        after_sales.request_after_sale(ctx, alice, order.order_id, parse_request({**body, "reason": "size"}), "k1")
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"
    rival: list[AfterSale] = []
    database.before_commit(lambda: rival.append(
        after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(body), "k2")))
    raced = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(body), "k2")
    assert raced.after_sale_id == rival[0].after_sale_id and len(ctx.after_sales.of_order(order.order_id)) == 2
    assert ctx.after_sales.line_units(order.order_id, sku_id).taken == 2


def test_goods_sold_from_shards_go_back_to_the_buckets_they_came_from(ctx: Context) -> None:
    from chalicelib.service_layer import inventory
    _, (sku,) = merch_product(ctx, 40)
    inventory.split_stock(ctx, ADMIN, sku.sku_id, 4)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (sku.sku_id, 2), fulfillment=Fulfillment.PICKUP)
    handed_over(ctx, order)
    taken = order_of(ctx, order.order_id).lines[0].shares
    for _ in range(2):
        made = asked(ctx, alice, order, sku.sku_id)
        after_sales.approve(ctx, SUPPORT, made.after_sale_id)
        after_sale_receipts.receive(ctx, SUPPORT, made.after_sale_id, parse_receipt({"restock": True}))
    back = ctx.stock.skus([sku.sku_id])[sku.sku_id]
    assert (back.available, back.sold) == (40, 0) and ledger_agrees(ctx, sku.sku_id) and sum(taken.values()) == 2


def swapped(ctx: Context, alice: Actor, order: Order, sku_id: str, to: str, quantity: int = 1) -> str:
    """An exchange of `quantity` units of `sku_id` for `to`, handed over at the counter."""
    made = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(
        {"type": "exchange", "lines": [{"sku_id": sku_id, "quantity": quantity}], "reason": "size",
         "exchange_sku_id": to}))
    after_sales.approve(ctx, SUPPORT, made.after_sale_id)
    after_sale_receipts.receive(ctx, SUPPORT, made.after_sale_id, parse_receipt({"restock": True}))
    after_sales.ship(ctx, SUPPORT, made.after_sale_id, parse_replacement({"pickup": True}))
    return made.after_sale_id


def test_exchanged_goods_are_returned_in_their_own_window_refunding_the_line_they_came_from(ctx: Context) -> None:
    """Issue 24, 3: exchanged goods can themselves be returned within the window. A replacement's
    window opens when it is handed over; its units refund the shares of `paid` of the order line
    they came from and go back to the replacement's stock; an exchanged replacement passes its
    line on; never more of a spec than the customer got of it."""
    alice, order, (small, medium, large) = collected(ctx, 10, 10, 10, quantity=2)
    ctx.clock.advance(timedelta(days=6))                            # type: ignore[attr-defined]
    swapped(ctx, alice, order, small, medium)                       # one of the two, on day 6
    ctx.clock.advance(timedelta(days=3))                            # type: ignore[attr-defined]
    with pytest.raises(RuleViolation):                              # the bought one: its window closed on day 7
        asked(ctx, alice, order, small)
    swapped(ctx, alice, order, medium, large)                       # the replacement, in its own window
    with pytest.raises(Conflict):                                   # the customer holds no medium any more
        asked(ctx, alice, order, medium)
    with pytest.raises(Conflict):
        asked(ctx, alice, order, large, 2)                            # one large, not two
    made = asked(ctx, alice, order, large)
    after_sales.approve(ctx, SUPPORT, made.after_sale_id)
    received, refund = after_sale_receipts.receive(ctx, SUPPORT, made.after_sale_id, parse_receipt({"restock": True}))
    line = order.lines[0]
    assert refund is not None and refund.amount == line.unit_paid()[0]
    assert [(i.sku_id, i.quantity) for i in refund.items or []] == [(large, 1)]
    assert stock_of(ctx, large) == (10, 0, 0) and stock_of(ctx, medium) == (10, 0, 0)
    assert stock_of(ctx, small) == (9, 0, 1)                        # the unit still held, and the one exchanged back
    assert all(ledger_agrees(ctx, s) for s in (small, medium, large))
    assert ctx.after_sales.line_units(order.order_id, small).refunded == 1     # the money is the line's
