"""WeChat Pay's payment notices (service_layer.payments) on the fakes: one effect per payment,
money that cannot make its order PAID refunded on proof only, tickets issued in batches."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import Busy, Conflict, NotAuthenticated, Unavailable
from chalicelib.domain.model import CANCELLED_PAYMENT_MISMATCH, OrderStatus
from chalicelib.domain.ordering import UnpaidLimits
from chalicelib.domain.refunds import RefundStatus
from chalicelib.domain.tickets import CodeKind
from chalicelib.service_layer import orders, payments, schedule
from chalicelib.service_layer.context import Context
from chalicelib.service_layer.tags import ItemTag, Tag
from tests.fakes import FakeDatabase, db, fake_context

from .shop import customer, merch_product, order_of, paid_order, place, refund_of, stock_of, ticket_product, tickets_of


def test_a_payment_makes_its_order_paid_and_issues_its_codes_in_one_transaction(ctx: Context,
                                                                                 database: FakeDatabase) -> None:
    _, (tickets,) = ticket_product(ctx, 5)
    _, (goods,) = merch_product(ctx, 5)
    alice = customer(ctx)
    order = place(ctx, alice, (tickets.sku_id, 2), (goods.sku_id, 1)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total)       # type: ignore[attr-defined]
    before = len(database.committed)
    assert payments.confirm_payment(ctx, notice) == "paid"
    [tags] = database.committed[before:]
    assert {Tag.ORDER, Tag.PAYMENT, Tag.UNPAID, ItemTag.SKU.of(tickets.sku_id), ItemTag.SKU.of(goods.sku_id)} \
        <= set(tags)
    paid = order_of(ctx, order.order_id)
    assert (paid.status, paid.transaction_id, paid.tickets_total, paid.tickets_issued) == \
        (OrderStatus.PAID, notice.transaction_id, 3, 3)
    assert len(tickets_of(ctx, order.order_id)) == 2 and paid.pickup_code == \
        tickets_of(ctx, order.order_id, CodeKind.PICKUP)[0].code
    assert stock_of(ctx, tickets.sku_id) == (3, 0, 2) and ctx.unpaid.of(alice.name) == (0, {})
    assert ctx.payment_ledger.of(notice.transaction_id).outcome == "paid"  # type: ignore[attr-defined]
    assert (ctx.metrics.total("OrdersPaid"), ctx.metrics.total("GMV"), ctx.metrics.total("TicketsIssued")) == \
        (1, order.total, 2)


def test_a_duplicate_notice_has_no_second_effect(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 2)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total)       # type: ignore[attr-defined]
    assert payments.confirm_payment(ctx, notice) == "paid"
    codes = {t.code for t in tickets_of(ctx, order.order_id)}
    assert payments.confirm_payment(ctx, notice) == "duplicate"
    assert {t.code for t in tickets_of(ctx, order.order_id)} == codes and stock_of(ctx, sku.sku_id) == (3, 0, 2)
    assert ctx.metrics.total("OrdersPaid") == 1 and ctx.refunds.of_order(order.order_id) == []


def test_a_payment_of_the_wrong_amount_is_refunded_and_ends_its_order(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5, purchase_limit=5)
    alice = customer(ctx)
    order = place(ctx, alice, (sku.sku_id, 2)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total - 1)    # type: ignore[attr-defined]
    assert payments.confirm_payment(ctx, notice) == "refund_due"
    ended = order_of(ctx, order.order_id)
    assert (ended.status, ended.cancel_reason) == (OrderStatus.CANCELLED, CANCELLED_PAYMENT_MISMATCH)
    assert stock_of(ctx, sku.sku_id) == (5, 0, 0) and ctx.unpaid.of(alice.name) == (0, {})
    [refund] = ctx.refunds.of_order(order.order_id)
    assert (refund.status, refund.amount, refund.source, refund.reason) == \
        (RefundStatus.APPROVED, order.total - 1, "automatic", "amount_mismatch")
    assert ctx.messages.refunds == [refund.refund_id]                       # type: ignore[attr-defined]
    assert "payment_amount_mismatch" in ctx.messages.alert_kinds()           # type: ignore[attr-defined]
    assert payments.confirm_payment(ctx, notice) == "duplicate"             # redelivered: refunded once
    assert len(ctx.refunds.of_order(order.order_id)) == 1


def test_a_payment_a_wechat_voucher_paid_part_of_is_a_full_payment_of_its_total(ctx: Context) -> None:
    """WeChat's own promotions (代金券): the customer pays `payer_total`, a voucher the rest, and
    the trade's `total` is the order's: the order is PAID, its total and the money recorded
    unchanged. What decides is `total`, never what the customer paid."""
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 2)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total, voucher=500)  # type: ignore[attr-defined]
    assert (notice.amount, notice.payer_total, notice.voucher) == (order.total, order.total - 500, 500)
    assert payments.confirm_payment(ctx, notice) == "paid"
    paid = order_of(ctx, order.order_id)
    assert (paid.status, paid.total) == (OrderStatus.PAID, order.total) and ctx.refunds.of_order(order.order_id) == []
    assert ctx.payment_ledger.of(notice.transaction_id).amount == order.total  # type: ignore[attr-defined]
    assert ctx.metrics.total("GMV") == order.total


def test_a_voucher_does_not_make_a_wrong_total_right(ctx: Context) -> None:
    """A trade whose `total` is not the order's is of the wrong amount, voucher or not: refunded
    (what the trade's total was), and the order ended."""
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 2)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total - 100, voucher=100)  # type: ignore[attr-defined]
    assert payments.confirm_payment(ctx, notice) == "refund_due"
    assert order_of(ctx, order.order_id).status is OrderStatus.CANCELLED
    [refund] = ctx.refunds.of_order(order.order_id)
    assert (refund.amount, refund.reason) == (order.total - 100, "amount_mismatch")


def test_money_for_an_order_that_expired_is_refunded_never_dropped(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 1)).order
    ctx.clock.advance(minutes=16)                                           # type: ignore[attr-defined]
    assert schedule.expire_order(ctx, order.order_id)
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total)       # paid at WeChat all the same
    assert payments.confirm_payment(ctx, notice) == "refund_due"
    assert order_of(ctx, order.order_id).status is OrderStatus.EXPIRED
    [refund] = ctx.refunds.of_order(order.order_id)
    assert refund.reason == "order_expired" and refund.stock_lines == [] and not refund.returns_goods_and_stock


def test_money_for_no_order_of_ours_is_refunded(ctx: Context) -> None:
    notice = ctx.wechat_pay.customer_pays("SOMEBODY-ELSES-TRADE", 100)       # type: ignore[attr-defined]
    assert payments.confirm_payment(ctx, notice) == "refund_due"
    [refund] = ctx.refunds.page("APPROVED", 10, None).items
    assert (refund.order_id, refund.reason, refund.amount) == ("SOMEBODY-ELSES-TRADE", "unknown_order", 100)


def test_a_payment_that_loses_to_an_expiry_is_refunded_on_the_proof_of_the_refusal(ctx: Context,
                                                                                     database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 1)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total)       # type: ignore[attr-defined]

    def expired_meanwhile() -> None:
        from chalicelib.service_layer.unpaid import end_unpaid
        uow = ctx.unit_of_work()
        found = ctx.orders.get(order.order_id)
        assert found is not None
        end_unpaid(ctx, uow, found[0], found[1], OrderStatus.EXPIRED, "system")
        uow.commit()
    database.before_commit(expired_meanwhile, when=lambda tags: Tag.PAYMENT in tags)
    assert payments.confirm_payment(ctx, notice) == "refund_due"
    assert order_of(ctx, order.order_id).status is OrderStatus.EXPIRED
    assert [r.reason for r in ctx.refunds.of_order(order.order_id)] == ["order_expired"]
    assert tickets_of(ctx, order.order_id) == [] and stock_of(ctx, sku.sku_id) == (5, 0, 0)


def test_two_deliveries_of_one_notice_at_once_issue_the_tickets_once(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 2)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total)       # type: ignore[attr-defined]
    database.before_commit(lambda: payments.confirm_payment(ctx, notice), when=lambda tags: Tag.PAYMENT in tags)
    assert payments.confirm_payment(ctx, notice) == "duplicate"
    assert len(tickets_of(ctx, order.order_id)) == 2 and ctx.refunds.of_order(order.order_id) == []


def test_a_conflict_is_tried_again_never_refunded(ctx: Context, database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 1)).order
    database.conflict(times=4)                   # more than one commit retries: confirm reads again
    assert payments.confirm_payment(ctx, ctx.wechat_pay.customer_pays(order.order_id, order.total)) == "paid"
    assert ctx.refunds.of_order(order.order_id) == []


def test_a_payment_not_yet_provable_is_answered_so_that_wechat_delivers_it_again(ctx: Context,
                                                                                  database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 1)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total)       # type: ignore[attr-defined]
    database.conflict(times=1000)
    with pytest.raises(Unavailable) as raised:
        payments.confirm_payment(ctx, notice)
    assert raised.value.code == "FAIL" and order_of(ctx, order.order_id).status is OrderStatus.PENDING_PAYMENT
    assert ctx.refunds.of_order(order.order_id) == []
    database.calm()
    assert payments.confirm_payment(ctx, notice) == "paid"


def test_a_notice_is_read_only_when_its_signature_holds(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 1)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total)       # type: ignore[attr-defined]
    headers, body = ctx.wechat_pay.notification(notice, signed=False)          # type: ignore[attr-defined]
    with pytest.raises(NotAuthenticated) as raised:
        payments.receive_notification(ctx, headers, body)
    assert raised.value.code == "FAIL" and order_of(ctx, order.order_id).status is OrderStatus.PENDING_PAYMENT
    payments.receive_notification(ctx, *ctx.wechat_pay.notification(notice))  # type: ignore[attr-defined]
    assert order_of(ctx, order.order_id).status is OrderStatus.PAID


def test_a_large_order_issues_its_tickets_in_batches_and_a_redelivery_finishes_them() -> None:
    ctx = fake_context(unpaid_limits=UnpaidLimits(orders=3, units_per_sku=99))
    database = db(ctx)
    _, (sku,) = ticket_product(ctx, 99)
    order = place(ctx, customer(ctx), (sku.sku_id, 99)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total)       # type: ignore[attr-defined]
    first = payments.first_batch_size(order)
    database.conflict(times=3, when=lambda tags: Tag.PAYMENT not in tags)    # the second batch cannot be written now
    with pytest.raises(Busy):
        payments.confirm_payment(ctx, notice)
    cut = order_of(ctx, order.order_id)
    assert (cut.status, cut.tickets_total, cut.tickets_issued) == (OrderStatus.PAID, 99, first)
    assert len(tickets_of(ctx, order.order_id)) == first
    assert payments.confirm_payment(ctx, notice) == "duplicate"             # WeChat delivers it again
    assert order_of(ctx, order.order_id).tickets_issued == 99 and len(tickets_of(ctx, order.order_id)) == 99
    assert all(len(tags) <= 100 for tags in database.committed)


def test_a_trade_wechat_reports_paid_is_confirmed_as_its_notice_would_be(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    alice = customer(ctx)
    order = place(ctx, alice, (sku.sku_id, 1)).order
    notice = ctx.wechat_pay.customer_pays(order.order_id, order.total)       # type: ignore[attr-defined]
    trade = ctx.wechat_pay.query(order.order_id)
    assert trade is not None and payments.confirm_trade(ctx, trade) == "paid"
    assert payments.confirm_payment(ctx, notice) == "duplicate"             # the notice, arriving late
    with pytest.raises(Conflict) as raised:
        payments.pay_again(ctx, alice, order_of(ctx, order.order_id))
    assert raised.value.details == {"status": "PAID"}


def test_a_trade_a_voucher_paid_part_of_is_confirmed_by_its_total_when_asked(ctx: Context) -> None:
    """The query's answer carries payer_total as the notice does; the order is PAID all the same."""
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 1)).order
    ctx.wechat_pay.customer_pays(order.order_id, order.total, voucher=1)    # type: ignore[attr-defined]
    trade = ctx.wechat_pay.query(order.order_id)
    assert trade is not None and (trade.amount, trade.payer_total, trade.voucher) == (order.total, order.total - 1, 1)
    assert payments.confirm_trade(ctx, trade) == "paid"
    assert order_of(ctx, order.order_id).status is OrderStatus.PAID


def test_money_paid_a_second_time_for_a_paid_order_is_refunded(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = paid_order(ctx, customer(ctx), (sku.sku_id, 1))
    late = ctx.wechat_pay.customer_pays(order.order_id, order.total, transaction_id="4299")  # paid twice
    assert payments.confirm_payment(ctx, late) == "refund_due"
    [refund] = ctx.refunds.of_order(order.order_id)
    assert refund_of(ctx, refund.refund_id).reason == "order_paid" and refund.transaction_id == "4299"
    assert orders.get_order(ctx, customer(ctx), order.order_id).status is OrderStatus.PAID
