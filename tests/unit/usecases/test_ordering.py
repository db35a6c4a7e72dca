"""Placing, cancelling, shipping and completing orders (service_layer.orders, reservations,
unpaid) on the fakes."""
from __future__ import annotations

import pytest

from chalicelib.domain import identifiers
from chalicelib.domain.errors import Busy, Conflict, NotFound, RuleViolation, Saturated
from chalicelib.domain.model import Fulfillment, OrderStatus
from chalicelib.service_layer import inventory, order_search, orders, payments, unpaid
from chalicelib.service_layer.context import Context
from chalicelib.service_layer.tags import ItemTag, Tag
from tests.fakes import FakeDatabase

from .shop import (ADDRESS, ADMIN, customer, merch_product, order_of, paid_order, place, staff, stock_of,
                   ticket_product)


def test_an_order_reserves_all_its_lines_and_holds_in_one_transaction(ctx: Context, database: FakeDatabase) -> None:
    _, (a, b) = ticket_product(ctx, 5, 5)
    alice = customer(ctx)
    before = len(database.committed)
    placed = place(ctx, alice, (a.sku_id, 2), (b.sku_id, 1))
    assert placed.order.status is OrderStatus.PENDING_PAYMENT and placed.payment is not None
    assert (stock_of(ctx, a.sku_id), stock_of(ctx, b.sku_id)) == ((3, 2, 0), (4, 1, 0))
    [tags] = database.committed[before:]
    assert {Tag.ORDER, Tag.UNPAID, ItemTag.SKU.of(a.sku_id), ItemTag.SKU.of(b.sku_id)} <= set(tags)
    assert ctx.unpaid.of(alice.name) == (1, {a.sku_id: 2, b.sku_id: 1})
    assert ctx.metrics.total("OrdersPlaced") == 1
    assert placed.order.order_id in ctx.wechat_pay.trades                    # type: ignore[attr-defined]


def test_more_than_the_stock_read_is_sold_out_before_any_write(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 2)
    before = len(database.committed)
    with pytest.raises(Conflict) as raised:
        place(ctx, customer(ctx), (sku.sku_id, 3))
    assert raised.value.code == "SOLD_OUT" and raised.value.details["available"] == 2
    assert len(database.committed) == before and ctx.metrics.total("SoldOutRejections") == 1


def test_the_transaction_refuses_what_the_read_allowed_and_nothing_of_the_order_is_written(
        ctx: Context, database: FakeDatabase) -> None:
    _, (a, b) = ticket_product(ctx, 5, 2)
    alice, bob = customer(ctx), customer(ctx, "bob")
    # Bob's order lands between Alice's read and her write and takes the last units of b.
    database.before_commit(lambda: place(ctx, bob, (b.sku_id, 2)), when=lambda tags: Tag.ORDER in tags)
    with pytest.raises(Conflict) as raised:
        place(ctx, alice, (a.sku_id, 1), (b.sku_id, 1))
    assert raised.value.code == "SOLD_OUT" and raised.value.details == {"sku_id": b.sku_id, "available": 0}
    assert stock_of(ctx, a.sku_id) == (5, 0, 0)                             # her first line: all or nothing
    assert ctx.unpaid.of(alice.name) == (0, {}) and ctx.orders.for_customer(alice.name, 10, None).items == []


def test_a_purchase_limit_is_checked_on_what_the_customer_holds(ctx: Context) -> None:
    p, (sku,) = ticket_product(ctx, 10, purchase_limit=3)
    alice = customer(ctx)
    place(ctx, alice, (sku.sku_id, 2))
    with pytest.raises(RuleViolation) as raised:
        place(ctx, alice, (sku.sku_id, 2))
    assert raised.value.code == "PURCHASE_LIMIT_EXCEEDED" and raised.value.details["already_bought"] == 2
    place(ctx, customer(ctx, "bob"), (sku.sku_id, 3))                      # the limit is per customer


def test_two_orders_racing_for_the_purchase_limit_cannot_both_pass(ctx: Context, database: FakeDatabase) -> None:
    p, (sku,) = ticket_product(ctx, 10, purchase_limit=3)
    alice = customer(ctx)
    # Her other order commits after this one read her counter: the counter's condition decides.
    database.before_commit(lambda: place(ctx, alice, (sku.sku_id, 2)), when=lambda tags: Tag.ORDER in tags)
    with pytest.raises(RuleViolation) as raised:
        place(ctx, alice, (sku.sku_id, 2))
    assert raised.value.code == "PURCHASE_LIMIT_EXCEEDED" and raised.value.details["limit"] == 3
    assert stock_of(ctx, sku.sku_id) == (8, 2, 0)


def test_a_fourth_unpaid_order_is_refused_and_nothing_changes(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 10)
    alice = customer(ctx)
    for _ in range(3):
        place(ctx, alice, (sku.sku_id, 1))
    with pytest.raises(RuleViolation) as raised:
        place(ctx, alice, (sku.sku_id, 1))
    assert raised.value.code == "UNPAID_LIMIT" and raised.value.details["max_unpaid_orders"] == 3
    assert stock_of(ctx, sku.sku_id) == (7, 3, 0) and ctx.unpaid.of(alice.name) == (3, {sku.sku_id: 3})


def test_more_units_than_may_be_held_unpaid_are_refused_before_any_write(ctx: Context,
                                                                          database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 50)
    before = len(database.committed)
    with pytest.raises(RuleViolation) as raised:
        place(ctx, customer(ctx), (sku.sku_id, 11))
    assert raised.value.code == "UNPAID_LIMIT" and raised.value.details["sku_id"] == sku.sku_id
    assert len(database.committed) == before


def test_paying_and_cancelling_free_the_unpaid_holds(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 10)
    alice = customer(ctx)
    first, second = place(ctx, alice, (sku.sku_id, 2)).order, place(ctx, alice, (sku.sku_id, 1)).order
    assert unpaid.customer_holds(ctx, alice.name).orders == 2
    payments_result = payments.confirm_payment(ctx, ctx.wechat_pay.customer_pays(first.order_id, first.total))  # type: ignore[attr-defined]
    orders.cancel_order(ctx, alice, second.order_id)
    holds = unpaid.customer_holds(ctx, alice.name)
    assert payments_result == "paid" and (holds.orders, holds.units) == (0, {})
    with pytest.raises(NotFound):
        unpaid.customer_holds(ctx, "not-a-user")


def test_an_idempotency_key_replays_the_first_order(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 10)
    alice = customer(ctx)
    first = place(ctx, alice, (sku.sku_id, 2), key="k-1")
    again = place(ctx, alice, (sku.sku_id, 2), key="k-1")
    assert again.replayed and again.order.order_id == first.order.order_id and again.payment is not None
    assert stock_of(ctx, sku.sku_id) == (8, 2, 0) and ctx.metrics.total("OrdersPlaced") == 1
    assert not place(ctx, customer(ctx, "bob"), (sku.sku_id, 2), key="k-1").replayed   # keys are per customer


def test_an_idempotency_key_used_with_another_request_is_refused(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 10)
    alice = customer(ctx)
    place(ctx, alice, (sku.sku_id, 2), key="k-1")
    with pytest.raises(RuleViolation) as raised:
        place(ctx, alice, (sku.sku_id, 3), key="k-1")
    assert raised.value.code == "IDEMPOTENCY_KEY_REUSED" and stock_of(ctx, sku.sku_id) == (8, 2, 0)


def test_the_same_key_placed_meanwhile_wins_over_the_refusal(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 10)
    alice = customer(ctx)
    won: list[str] = []
    database.before_commit(lambda: won.append(place(ctx, alice, (sku.sku_id, 2), key="k-1").order.order_id),
                           when=lambda tags: Tag.IDEMPOTENCY in tags)
    answer = place(ctx, alice, (sku.sku_id, 2), key="k-1")
    assert answer.replayed and answer.order.order_id == won[0]
    assert stock_of(ctx, sku.sku_id) == (8, 2, 0)                          # placed once


def test_conflicting_transactions_are_tried_again_from_the_read(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 10)
    database.conflict(times=2)
    placed = place(ctx, customer(ctx), (sku.sku_id, 1))
    assert order_of(ctx, placed.order.order_id).status is OrderStatus.PENDING_PAYMENT
    assert stock_of(ctx, sku.sku_id) == (9, 1, 0) and len(database.refused) == 2


def test_an_order_that_keeps_conflicting_is_busy_and_nothing_is_written(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 10)
    database.conflict(times=1000)
    with pytest.raises(Busy) as raised:
        place(ctx, customer(ctx), (sku.sku_id, 1))
    assert raised.value.code == "TRY_AGAIN" and stock_of(ctx, sku.sku_id) == (10, 0, 0)
    assert len(database.refused) == orders.CONFLICT_ATTEMPTS * 3                # each attempt's commit tries 3 times


def test_what_is_not_on_sale_cannot_be_ordered(ctx: Context) -> None:
    from chalicelib.domain.model import ProductStatus
    _, (hidden,) = ticket_product(ctx, 5, status=ProductStatus.UNLISTED)
    with pytest.raises(Conflict) as raised:
        place(ctx, customer(ctx), (hidden.sku_id, 1))
    assert raised.value.code == "NOT_ON_SALE"
    with pytest.raises(NotFound) as missing:
        place(ctx, customer(ctx), (identifiers.new_sku_id(hidden.product_id), 1), (hidden.sku_id, 1))
    assert missing.value.code == "SKU_NOT_FOUND"


def test_an_order_stands_when_wechat_cannot_prepay_and_is_paid_for_later(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    alice = customer(ctx)
    ctx.wechat_pay.down("prepay")                                             # type: ignore[attr-defined]
    placed = place(ctx, alice, (sku.sku_id, 1))
    assert placed.payment is None and stock_of(ctx, sku.sku_id) == (4, 1, 0)
    with pytest.raises(Conflict) as raised:
        payments.pay_again(ctx, alice, placed.order)
    assert raised.value.code == "PAYMENT_UNAVAILABLE"
    ctx.wechat_pay.up()                                                       # type: ignore[attr-defined]
    assert payments.pay_again(ctx, alice, placed.order)["package"].startswith("prepay_id=")


def test_cancelling_gives_everything_back_and_closes_the_trade(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5, purchase_limit=4)
    alice = customer(ctx)
    order = place(ctx, alice, (sku.sku_id, 2)).order
    cancelled = orders.cancel_order(ctx, alice, order.order_id)
    assert cancelled.status is OrderStatus.CANCELLED and order_of(ctx, order.order_id).status is OrderStatus.CANCELLED
    assert stock_of(ctx, sku.sku_id) == (5, 0, 0) and ctx.unpaid.of(alice.name) == (0, {})
    assert ctx.counters.of(alice.name, sku.product_id) == 0                 # type: ignore[attr-defined]
    assert order.order_id in ctx.wechat_pay.closed and ctx.messages.stock == [sku.sku_id]   # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        orders.cancel_order(ctx, alice, order.order_id)


def test_an_order_just_paid_at_wechat_cannot_be_cancelled(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    alice = customer(ctx)
    order = place(ctx, alice, (sku.sku_id, 1)).order
    ctx.wechat_pay.customer_pays(order.order_id, order.total)                 # its notice is on its way
    with pytest.raises(Conflict) as raised:
        orders.cancel_order(ctx, alice, order.order_id)
    assert raised.value.code == "INVALID_STATE" and stock_of(ctx, sku.sku_id) == (4, 1, 0)


def test_a_cancellation_loses_to_a_payment_made_meanwhile(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    alice = customer(ctx)
    order = place(ctx, alice, (sku.sku_id, 1)).order
    ctx.wechat_pay.down("close")                                              # WeChat cannot be told in time
    database.before_commit(lambda: payments.confirm_payment(ctx, ctx.wechat_pay.customer_pays(order.order_id, order.total)),
                           when=lambda tags: Tag.ORDER in tags and Tag.PAYMENT not in tags)
    with pytest.raises(Conflict) as raised:
        orders.cancel_order(ctx, alice, order.order_id)
    assert raised.value.details == {"status": "PAID"}
    assert stock_of(ctx, sku.sku_id) == (4, 0, 1)                          # sold, not released


def test_nobody_sees_another_customers_order_but_staff_who_may(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 1)).order
    with pytest.raises(NotFound):
        orders.get_order(ctx, customer(ctx, "bob"), order.order_id)
    assert orders.get_order(ctx, staff("support", name="sue"), order.order_id).order_id == order.order_id
    with pytest.raises(NotFound):
        orders.get_order(ctx, staff("scanner", name="gate"), order.order_id)
    with pytest.raises(NotFound):
        orders.cancel_order(ctx, staff("admin"), order.order_id)        # staff do not act for the customer


def test_staff_find_orders_by_id_phone_and_status(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 1)).order
    assert [o.order_id for o in order_search.search_orders(ctx, None, order.order_id, 10, None).items] == [order.order_id]
    assert [o.order_id for o in order_search.search_orders(ctx, None, "138 0013 8000", 10, None).items] == [order.order_id]
    assert order_search.search_orders(ctx, "PAID", None, 10, None).items == []


def test_goods_are_shipped_once_audited_and_received(ctx: Context) -> None:
    _, (sku,) = merch_product(ctx, 5)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (sku.sku_id, 1), fulfillment=Fulfillment.SHIPPING, address=ADDRESS)
    shipped = orders.ship_order(ctx, staff("support", name="sue"), order.order_id, "SF", "SF123")
    assert shipped.status is OrderStatus.SHIPPED and order_of(ctx, order.order_id).shipment == \
        {"carrier": "SF", "tracking_no": "SF123"}
    assert [e.action for e in ctx.audit.entries()][-1] == "order_shipped"   # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        orders.ship_order(ctx, ADMIN, order.order_id, "SF", "again")
    assert orders.confirm_receipt(ctx, alice, order.order_id).status is OrderStatus.COMPLETED


def test_a_shipped_order_nobody_confirms_completes_by_itself(ctx: Context) -> None:
    _, (sku,) = merch_product(ctx, 5)
    order = paid_order(ctx, customer(ctx), (sku.sku_id, 1), fulfillment=Fulfillment.SHIPPING, address=ADDRESS)
    orders.ship_order(ctx, ADMIN, order.order_id, "SF", "SF1")
    assert orders.complete_received_orders(ctx) == 0
    ctx.clock.advance(days=10, seconds=1)                                   # type: ignore[attr-defined]
    assert orders.complete_received_orders(ctx) == 1
    assert order_of(ctx, order.order_id).status is OrderStatus.COMPLETED


def test_goods_for_pickup_are_not_shipped(ctx: Context) -> None:
    _, (sku,) = merch_product(ctx, 5)
    order = paid_order(ctx, customer(ctx), (sku.sku_id, 1))
    with pytest.raises(Conflict) as raised:
        orders.ship_order(ctx, ADMIN, order.order_id, "SF", "1")
    assert raised.value.code == "INVALID_STATE" and order.fulfillment is Fulfillment.PICKUP


def test_a_hot_sessions_order_gathers_units_scattered_over_its_shards(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 4)
    inventory.split_stock(ctx, ADMIN, sku.sku_id, 4)                        # one unit in each shard
    placed = place(ctx, customer(ctx), (sku.sku_id, 2))                     # any blind pick is short
    [line] = order_of(ctx, placed.order.order_id).lines
    assert sum(line.stock_shares.values()) == 2 and len(line.stock_shares) == 2 and 0 not in line.stock_shares
    assert stock_of(ctx, sku.sku_id) == (2, 2, 0)
    assert payments.confirm_payment(ctx, ctx.wechat_pay.customer_pays(placed.order.order_id, placed.order.total)) == \
        "paid"                                                              # sold where it was reserved
    assert stock_of(ctx, sku.sku_id) == (2, 0, 2)


def test_a_hot_session_is_sold_out_only_when_all_its_shards_together_are_short(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 4)
    inventory.split_stock(ctx, ADMIN, sku.sku_id, 4)
    with pytest.raises(Conflict) as raised:
        place(ctx, customer(ctx), (sku.sku_id, 5))
    assert raised.value.code == "SOLD_OUT" and stock_of(ctx, sku.sku_id) == (4, 0, 0)


def test_an_order_is_completed_once_every_code_is_used(ctx: Context) -> None:
    from chalicelib.service_layer import redemption
    _, (sku,) = ticket_product(ctx, 5, admission_open=True)
    order = paid_order(ctx, customer(ctx), (sku.sku_id, 2))
    codes = ctx.tickets.of_order(order.order_id)
    gate = staff("scanner", name="gate")
    redemption.redeem(ctx, gate, redemption.ScanRequest(codes[0].qr, "g1", "d1", None, None))
    assert not orders.complete_if_all_used(ctx, order.order_id)
    redemption.redeem(ctx, gate, redemption.ScanRequest(codes[1].qr, "g1", "d1", None, None))
    assert orders.complete_if_all_used(ctx, order.order_id)
    assert order_of(ctx, order.order_id).status is OrderStatus.COMPLETED
    assert not orders.complete_if_all_used(ctx, order.order_id)


def test_an_order_whose_sku_item_is_throttled_sends_one_transaction_and_asks_for_a_split(
        ctx: Context, database: FakeDatabase) -> None:
    from chalicelib.domain.errors import Saturated
    _, (sku,) = ticket_product(ctx, 50)
    alice = customer(ctx)
    database.throttle(ItemTag.SKU.of(sku.sku_id), times=5)
    with pytest.raises(Saturated) as raised:
        place(ctx, alice, (sku.sku_id, 1))
    assert raised.value.code == "TRY_AGAIN" and raised.value.details["retry_after_seconds"] in (1, 2, 3)
    assert len(database.refused) == 1                                      # one, not nine
    assert set(database.refused[0].throttled) == {ItemTag.SKU.of(sku.sku_id)}      # the bucket and its ledger
    assert ctx.messages.hot == [sku.sku_id] and ctx.metrics.total("OrdersSaturated") == 1      # type: ignore[attr-defined]
    assert stock_of(ctx, sku.sku_id) == (50, 0, 0) and ctx.unpaid.of(alice.name) == (0, {})


def test_a_throttled_shard_of_a_split_session_is_left_for_another_once(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 40)
    inventory.split_stock(ctx, ADMIN, sku.sku_id, 4)
    database.throttle(ItemTag.SHARD.of(sku.sku_id), times=1)
    placed = place(ctx, customer(ctx), (sku.sku_id, 1))
    assert placed.order.status is OrderStatus.PENDING_PAYMENT
    assert len(database.refused) == 1 and ctx.messages.hot == []                          # type: ignore[attr-defined]
    assert stock_of(ctx, sku.sku_id) == (39, 1, 0)
    database.throttle(ItemTag.SHARD.of(sku.sku_id), times=5)         # every shard saturated: two tries, no more
    with pytest.raises(Saturated):
        place(ctx, customer(ctx, "bob"), (sku.sku_id, 1))
    assert len(database.refused) == 3 and stock_of(ctx, sku.sku_id) == (39, 1, 0)


def test_a_throttled_customer_item_is_not_a_hot_session(ctx: Context, database: FakeDatabase) -> None:
    from chalicelib.domain.errors import Saturated
    _, (sku,) = ticket_product(ctx, 5)
    database.throttle("unpaid")
    with pytest.raises(Saturated):
        place(ctx, customer(ctx), (sku.sku_id, 1))
    assert ctx.messages.hot == [] and stock_of(ctx, sku.sku_id) == (5, 0, 0)               # type: ignore[attr-defined]


def test_a_hot_session_split_by_the_worker_takes_its_orders_on_shards_and_staff_are_told_once(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 300)
    place(ctx, customer(ctx), (sku.sku_id, 2))
    split = inventory.split_hot_stock(ctx, sku.sku_id)
    assert split is not None and split.stock_shards == 8
    assert stock_of(ctx, sku.sku_id) == (298, 2, 0)
    assert inventory.split_hot_stock(ctx, sku.sku_id) is None                      # a late or redelivered message
    alerts = ctx.alerts.page(10, None).items
    assert [(a.kind, a.details["shards"]) for a in alerts] == [("stock_auto_split", 8)]
    placed = place(ctx, customer(ctx, "bob"), (sku.sku_id, 1))
    assert placed.order.lines[0].stock_shares and 0 not in placed.order.lines[0].stock_shares


def test_a_session_with_one_unit_left_is_not_split(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 1)
    assert inventory.split_hot_stock(ctx, sku.sku_id) is None
    assert ctx.alerts.page(10, None).items == []
