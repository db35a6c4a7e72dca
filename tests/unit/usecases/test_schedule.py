"""The schedule (service_layer.schedule) on the fakes: unpaid orders expire only once WeChat holds
no money for them, listing changes apply on time, stuck refunds are sent again, and one job's
trouble never stops the others."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.catalog_commands import NewProduct
from chalicelib.domain.model import Kind, OrderStatus, ProductStatus
from chalicelib.domain.refunds import RefundStatus
from chalicelib.service_layer import catalog, payments, schedule
from chalicelib.service_layer.context import Context
from chalicelib.service_layer.ports import TradeAlreadyPaid
from chalicelib.service_layer.tags import Tag
from tests.fakes import FakeDatabase

from .shop import ADMIN, customer, order_of, place, stock_of, ticket_product, tickets_of


def _due_order(ctx: Context, quantity: int = 1) -> tuple[str, str]:
    _, (sku,) = ticket_product(ctx, 5, purchase_limit=5)
    order = place(ctx, customer(ctx), (sku.sku_id, quantity)).order
    ctx.clock.advance(minutes=15, seconds=1)                                # type: ignore[attr-defined]
    return order.order_id, sku.sku_id


def test_the_schedule_hands_every_due_order_to_the_expiry_workers(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    alice = customer(ctx)
    early = place(ctx, alice, (sku.sku_id, 1)).order
    ctx.clock.advance(minutes=10)                                           # type: ignore[attr-defined]
    later = place(ctx, alice, (sku.sku_id, 1)).order
    ctx.clock.advance(minutes=6)                                            # type: ignore[attr-defined]
    assert schedule.dispatch_due_expiries(ctx) == 1 and ctx.messages.due == [early.order_id]  # type: ignore[attr-defined]
    assert order_of(ctx, later.order_id).status is OrderStatus.PENDING_PAYMENT


def test_an_unpaid_order_expires_once_wechat_has_closed_its_trade(ctx: Context) -> None:
    order_id, sku_id = _due_order(ctx, 2)
    user = order_of(ctx, order_id).user_id
    assert schedule.expire_order(ctx, order_id)
    assert order_of(ctx, order_id).status is OrderStatus.EXPIRED and order_id in ctx.wechat_pay.closed  # type: ignore[attr-defined]
    assert stock_of(ctx, sku_id) == (5, 0, 0) and ctx.unpaid.of(user) == (0, {})
    assert ctx.metrics.total("OrdersExpired") == 1 and ctx.messages.stock == [sku_id]  # type: ignore[attr-defined]
    assert not schedule.expire_order(ctx, order_id)                         # redelivered: once


def test_an_order_paid_at_wechat_whose_notice_was_lost_is_confirmed_not_expired(ctx: Context) -> None:
    order_id, sku_id = _due_order(ctx)
    ctx.wechat_pay.customer_pays(order_id, order_of(ctx, order_id).total)     # type: ignore[attr-defined]
    assert not schedule.expire_order(ctx, order_id)
    assert order_of(ctx, order_id).status is OrderStatus.PAID and len(tickets_of(ctx, order_id)) == 1
    assert stock_of(ctx, sku_id) == (4, 0, 1) and ctx.wechat_pay.closed == []  # type: ignore[attr-defined]


def test_a_customer_still_paying_is_waited_for(ctx: Context) -> None:
    order_id, sku_id = _due_order(ctx)
    ctx.wechat_pay.set_trade(order_id, "USERPAYING")                          # type: ignore[attr-defined]
    assert not schedule.expire_order(ctx, order_id)
    assert order_of(ctx, order_id).status is OrderStatus.PENDING_PAYMENT and stock_of(ctx, sku_id) == (4, 1, 0)


def test_an_order_waits_while_wechat_cannot_be_asked(ctx: Context) -> None:
    order_id, sku_id = _due_order(ctx)
    ctx.wechat_pay.down("query")                                              # type: ignore[attr-defined]
    assert not schedule.expire_order(ctx, order_id)
    assert order_of(ctx, order_id).status is OrderStatus.PENDING_PAYMENT
    ctx.wechat_pay.up()                                                       # type: ignore[attr-defined]
    assert schedule.expire_order(ctx, order_id)


def test_a_trade_paid_between_the_question_and_the_close_is_confirmed(ctx: Context) -> None:
    order_id, _ = _due_order(ctx)
    gateway = ctx.wechat_pay
    total = order_of(ctx, order_id).total

    def paid_just_now(order: str) -> None:
        gateway.customer_pays(order, total)                                 # type: ignore[attr-defined]
        raise TradeAlreadyPaid(order)
    gateway.close = paid_just_now                                           # type: ignore[method-assign]
    assert not schedule.expire_order(ctx, order_id)
    assert order_of(ctx, order_id).status is OrderStatus.PAID


def test_an_expiry_racing_a_payment_leaves_the_order_paid_and_its_units_sold(ctx: Context,
                                                                             database: FakeDatabase) -> None:
    order_id, sku_id = _due_order(ctx)
    total = order_of(ctx, order_id).total
    # The order is made PAID between the expiry's read and its write: its write is refused and
    # it does nothing (stock released, limits given back) to an order that moved on.
    database.before_commit(lambda: payments.confirm_payment(ctx, ctx.wechat_pay.customer_pays(order_id, total)),
                           when=lambda tags: Tag.PAYMENT not in tags and Tag.ORDER in tags)
    assert not schedule.expire_order(ctx, order_id)
    assert ctx.metrics.total("OrdersExpired") == 0
    assert order_of(ctx, order_id).status is OrderStatus.PAID and stock_of(ctx, sku_id) == (4, 0, 1)


def test_a_trade_wechat_already_closed_is_expired_without_closing_it_again(ctx: Context) -> None:
    order_id, _ = _due_order(ctx)
    ctx.wechat_pay.set_trade(order_id, "CLOSED")                              # type: ignore[attr-defined]
    assert schedule.expire_order(ctx, order_id) and ctx.wechat_pay.closed == []  # type: ignore[attr-defined]


def test_listing_changes_apply_when_their_time_comes(ctx: Context) -> None:
    now = ctx.clock.now                                                     # type: ignore[attr-defined]
    command = NewProduct(kind=Kind.MERCH, name="Calendar", description="", category="souvenir", tags=[],
                         status=ProductStatus.UNLISTED, list_at=now + timedelta(hours=1),
                         delist_at=now + timedelta(hours=5), purchase_limit=None, real_name=False, fulfillment=[],
                         skus=[])
    product, _ = catalog.create_product(ctx, ADMIN, command)
    assert schedule.apply_listing_schedule(ctx) == 0
    ctx.clock.advance(hours=2)                                              # type: ignore[attr-defined]
    assert schedule.apply_listing_schedule(ctx) == 1
    listed = ctx.catalog.product(product.product_id)
    assert listed is not None and (listed.status, listed.list_at) == (ProductStatus.LISTED, None)
    ctx.clock.advance(hours=4)                                              # type: ignore[attr-defined]
    assert schedule.apply_listing_schedule(ctx) == 1
    assert ctx.catalog.product(product.product_id).status is ProductStatus.UNLISTED   # type: ignore[union-attr]


def test_a_listing_change_that_keeps_colliding_waits_for_the_next_tick(ctx: Context, database: FakeDatabase) -> None:
    now = ctx.clock.now                                                     # type: ignore[attr-defined]
    command = NewProduct(kind=Kind.MERCH, name="Calendar", description="", category="souvenir", tags=[],
                         status=ProductStatus.UNLISTED, list_at=now + timedelta(minutes=1), delist_at=None,
                         purchase_limit=None, real_name=False, fulfillment=[], skus=[])
    product, _ = catalog.create_product(ctx, ADMIN, command)
    ctx.clock.advance(minutes=2)                                            # type: ignore[attr-defined]
    database.conflict(times=3, when=lambda tags: tags == ["product"])
    assert schedule.apply_listing_schedule(ctx) == 0
    assert schedule.apply_listing_schedule(ctx) == 1


def test_approved_refunds_whose_message_was_lost_are_sent_again(ctx: Context) -> None:
    notice = ctx.wechat_pay.customer_pays("SOMEBODY-ELSES-TRADE", 100)       # type: ignore[attr-defined]
    payments.confirm_payment(ctx, notice)                                   # an automatic refund, approved
    [refund] = ctx.refunds.page(RefundStatus.APPROVED.value, 10, None).items
    assert schedule.resend_stuck_refunds(ctx) == 0                          # its message is young
    ctx.clock.advance(minutes=3)                                            # type: ignore[attr-defined]
    assert schedule.resend_stuck_refunds(ctx) == 1
    assert ctx.messages.refunds == [refund.refund_id, refund.refund_id]     # type: ignore[attr-defined]


def test_one_job_failing_does_not_stop_the_others(ctx: Context) -> None:
    order_id, _ = _due_order(ctx)
    ctx.messages.broken = True                                              # type: ignore[attr-defined]
    done = schedule.run(ctx)
    assert done["expiries_due"] == -1 and done["listing_changes"] == 0 and done["received"] == 0
    assert set(done) == {"expiries_due", "listing_changes", "refunds_resent", "refunds_queried", "received",
                         "reconciled", "reminders"}
