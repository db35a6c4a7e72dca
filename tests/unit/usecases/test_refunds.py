"""Refunds on the fakes: the request and staff review (service_layer.refunds), sending and settling
on WeChat's word (refund_settlement: SUCCESS, CLOSED, ABNORMAL, unreachable) and what WeChat says
unasked or when asked (refund_queries)."""
from __future__ import annotations

import pytest

from chalicelib.domain.commands import parse_refund_request
from chalicelib.domain.errors import Busy, Conflict
from chalicelib.domain.model import Fulfillment, Order, OrderStatus
from chalicelib.domain.payments import RefundResult
from chalicelib.domain.refunds import HELD_BY_WECHAT, Refund, RefundStatus
from chalicelib.domain.redemption import Scan, admission_checks, admission_condition
from chalicelib.domain.tickets import CodeKind, TicketStatus
from chalicelib.service_layer import payments, redemption, refund_queries, refund_settlement, refunds
from chalicelib.service_layer.context import Actor, Context
from chalicelib.service_layer.ports import PaymentGatewayError
from chalicelib.service_layer.tags import ItemTag, Tag
from tests.fakes import FakeDatabase

from .shop import (customer, merch_product, order_of, paid_order, place, refund_of, staff, stock_of, ticket_product,
                   tickets_of)

FINANCE = staff("finance", name="fiona")


def paid_tickets(ctx: Context, quantity: int = 2, admission_open: bool = False) -> tuple[Actor, Order, str]:
    _, (sku,) = ticket_product(ctx, 10, purchase_limit=5, admission_open=admission_open)
    alice = customer(ctx)
    return alice, paid_order(ctx, alice, (sku.sku_id, quantity)), sku.sku_id


def requested(ctx: Context, alice: Actor, order: Order, **body: object) -> Refund:
    return refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "plans changed", **body}))


def sent(ctx: Context, refund: Refund, answer: str = "PROCESSING", attempt: int = 1) -> str:
    ctx.wechat_pay.refund_answers[refund.out_refund_no] = answer            # type: ignore[attr-defined]
    return refund_settlement.process_refund(ctx, refund.refund_id, attempt)


def notify(ctx: Context, refund: Refund, status: str, out_refund_no: str | None = None) -> None:
    notice = ctx.wechat_pay.refund_ends(out_refund_no or refund.out_refund_no, status, refund.amount)  # type: ignore[attr-defined]
    refund_queries.receive_refund_notification(ctx, *ctx.wechat_pay.notification(notice))  # type: ignore[attr-defined]


def test_tickets_before_admission_opens_are_refunded_at_once_and_revoked_in_that_transaction(
        ctx: Context, database: FakeDatabase) -> None:
    alice, order, _ = paid_tickets(ctx)
    before = len(database.committed)
    refund = requested(ctx, alice, order)
    assert (refund.status, refund.amount, len(refund.ticket_codes)) == (RefundStatus.APPROVED, order.total, 2)
    [tags] = database.committed[before:]
    assert {Tag.REFUND, Tag.ORDER, *(ItemTag.TICKET.of(c) for c in refund.ticket_codes)} == set(tags)
    assert {t.status for t in tickets_of(ctx, order.order_id)} == {TicketStatus.REVOKED}
    assert order_of(ctx, order.order_id).status is OrderStatus.REFUNDING
    assert ctx.messages.refunds == [refund.refund_id]                       # type: ignore[attr-defined]


def test_tickets_whose_admission_has_opened_wait_for_review_and_are_revoked_on_approval(ctx: Context) -> None:
    alice, order, _ = paid_tickets(ctx, admission_open=True)
    refund = requested(ctx, alice, order)
    assert (refund.status, refund.review_reasons) == (RefundStatus.REQUESTED, ["admission_open"])
    assert {t.status for t in tickets_of(ctx, order.order_id)} == {TicketStatus.VALID}
    assert ctx.messages.refunds == []                                       # type: ignore[attr-defined]
    approved = refunds.approve_refund(ctx, FINANCE, refund.refund_id)
    assert approved.status is RefundStatus.APPROVED and refund_of(ctx, refund.refund_id).decided_by == "fiona"
    assert {t.revoked_by for t in tickets_of(ctx, order.order_id)} == {refund.refund_id}
    assert [e.action for e in ctx.audit.entries()][-1] == "refund_approved"   # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        refunds.approve_refund(ctx, FINANCE, refund.refund_id)


def test_a_used_ticket_is_not_refundable(ctx: Context) -> None:
    alice, order, _ = paid_tickets(ctx, admission_open=True)
    first = tickets_of(ctx, order.order_id)[0]
    redemption.redeem(ctx, staff("scanner", name="gate"), redemption.ScanRequest(first.qr, "g", "d", None, None))
    with pytest.raises(Conflict) as raised:
        requested(ctx, alice, order, ticket_ids=[first.ticket_id])
    assert raised.value.code == "NOT_REFUNDABLE" and ctx.refunds.of_order(order.order_id) == []


def test_an_approval_loses_to_a_scan_made_meanwhile(ctx: Context, database: FakeDatabase) -> None:
    alice, order, _ = paid_tickets(ctx, admission_open=True)
    refund = requested(ctx, alice, order)
    code = tickets_of(ctx, order.order_id)[1].code
    now = ctx.clock.now                                                     # type: ignore[attr-defined]
    database.before_commit(lambda: ctx.tickets.redeem(code, Scan("g", "d", "s", now), now,
                                                      admission_condition(admission_checks(now, None))),
                           when=lambda tags: ItemTag.TICKET.of(code) in tags)
    with pytest.raises(Conflict) as raised:
        refunds.approve_refund(ctx, FINANCE, refund.refund_id)
    assert raised.value.code == "NOT_REFUNDABLE"
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.REQUESTED
    assert order_of(ctx, order.order_id).status is OrderStatus.PAID        # nothing of the approval written


def test_goods_already_collected_come_back_before_the_money(ctx: Context) -> None:
    _, (sku,) = merch_product(ctx, 5)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (sku.sku_id, 1))
    refund = requested(ctx, alice, order)
    assert (refund.status, refund.claims_goods) == (RefundStatus.REQUESTED, True)
    assert order_of(ctx, order.order_id).merch_refund == refund.refund_id
    [pickup] = tickets_of(ctx, order.order_id, CodeKind.PICKUP)
    redemption.redeem(ctx, staff("scanner", name="gate"), redemption.ScanRequest(pickup.qr, "g", "d", None, None))
    with pytest.raises(Conflict) as raised:
        refunds.approve_refund(ctx, FINANCE, refund.refund_id)
    assert raised.value.code == "GOODS_NOT_RETURNED"
    refunds.approve_refund(ctx, FINANCE, refund.refund_id, goods_returned=True)
    assert ctx.tickets.by_code(pickup.code).status is TicketStatus.REVOKED  # type: ignore[union-attr]


def test_rejecting_gives_the_goods_back_to_their_order(ctx: Context) -> None:
    _, (sku,) = merch_product(ctx, 5)
    alice = customer(ctx)
    order = paid_order(ctx, alice, (sku.sku_id, 1), fulfillment=Fulfillment.PICKUP)
    refund = requested(ctx, alice, order)
    rejected = refunds.reject_refund(ctx, FINANCE, refund.refund_id, "used")
    assert rejected.status is RefundStatus.REJECTED and order_of(ctx, order.order_id).merch_refund is None
    assert requested(ctx, alice, order).status is RefundStatus.REQUESTED   # the customer may ask again


def test_a_refund_wechat_confirms_returns_the_stock_and_the_limits_once(ctx: Context) -> None:
    alice, order, sku_id = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    assert sent(ctx, refund, "SUCCESS") == "succeeded"
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.SUCCEEDED
    settled = order_of(ctx, order.order_id)
    assert (settled.status, settled.refunded_total) == (OrderStatus.REFUNDED, order.total)
    assert stock_of(ctx, sku_id) == (10, 0, 0) and ctx.counters.of(alice.name, order.lines[0].product_id) == 0  # type: ignore[attr-defined]
    assert refund_settlement.process_refund(ctx, refund.refund_id, 2) == "skipped"   # redelivered
    assert [n for n, _, _ in ctx.wechat_pay.refund_calls] == [refund.refund_id]        # type: ignore[attr-defined]
    assert ctx.metrics.total("Refunds", result="succeeded") == 1


def test_a_refund_still_processing_settles_on_its_notice_once(ctx: Context) -> None:
    alice, order, sku_id = paid_tickets(ctx)
    refund = requested(ctx, alice, order, ticket_ids=[tickets_of(ctx, order.order_id)[0].ticket_id])
    assert sent(ctx, refund) == "processing"
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.PROCESSING
    notify(ctx, refund, "SUCCESS")
    notify(ctx, refund, "SUCCESS")                                           # WeChat sends it again
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.SUCCEEDED
    assert order_of(ctx, order.order_id).status is OrderStatus.PARTIALLY_REFUNDED
    assert stock_of(ctx, sku_id) == (9, 0, 1)


def test_a_closed_refund_fails_releases_its_order_and_is_raised(ctx: Context) -> None:
    alice, order, _ = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    sent(ctx, refund)
    notify(ctx, refund, "CLOSED")
    failed = refund_of(ctx, refund.refund_id)
    assert (failed.status, failed.gateway_status) == (RefundStatus.FAILED, "CLOSED")
    released = order_of(ctx, order.order_id)
    assert (released.status, released.refunds_in_flight) == (OrderStatus.PAID, 0)
    assert {t.revoked_by for t in tickets_of(ctx, order.order_id)} == {refund.refund_id}   # still its own
    [alert] = [a for a in ctx.messages.alerts if a["kind"] == "refund_failed"]            # type: ignore[attr-defined]
    assert alert["severity"] == "critical" and alert["refund_id"] == refund.refund_id


def test_a_closed_refund_is_retried_under_a_new_number(ctx: Context) -> None:
    alice, order, _ = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    sent(ctx, refund)
    notify(ctx, refund, "CLOSED")
    retried = refunds.retry_refund(ctx, FINANCE, refund.refund_id)
    assert (retried.status, retried.out_refund_no) == (RefundStatus.APPROVED, f"{refund.refund_id}-2")
    assert order_of(ctx, order.order_id).status is OrderStatus.REFUNDING
    assert sent(ctx, retried, "SUCCESS") == "succeeded"
    assert [n for n, _, _ in ctx.wechat_pay.refund_calls] == [refund.refund_id, f"{refund.refund_id}-2"]  # type: ignore[attr-defined]
    assert order_of(ctx, order.order_id).status is OrderStatus.REFUNDED


def test_an_abnormal_refund_is_held_never_sent_again_and_settles_when_wechat_reports_it(ctx: Context) -> None:
    alice, order, sku_id = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    assert sent(ctx, refund, HELD_BY_WECHAT) == "held"
    held = refund_of(ctx, refund.refund_id)
    assert held.held_by_wechat and held.status is RefundStatus.PROCESSING
    assert "refund_abnormal" in ctx.messages.alert_kinds()                  # type: ignore[attr-defined]
    assert refund_settlement.process_refund(ctx, refund.refund_id, 2) == "held"
    with pytest.raises(Conflict) as raised:
        refunds.retry_refund(ctx, FINANCE, refund.refund_id)
    assert raised.value.code == "REFUND_ABNORMAL"
    assert len(ctx.wechat_pay.refund_calls) == 1                              # type: ignore[attr-defined]
    ctx.wechat_pay.refund_ends(refund.out_refund_no, "SUCCESS")              # settled by hand; its notice is lost
    ctx.clock.advance(minutes=3)                                            # type: ignore[attr-defined]
    assert refund_queries.query_processing_refunds(ctx) == 1
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.SUCCEEDED and stock_of(ctx, sku_id) == (10, 0, 0)


def test_wechat_unreachable_the_message_comes_back_and_the_last_attempt_fails_the_refund(ctx: Context) -> None:
    alice, order, _ = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    ctx.wechat_pay.down()                                                     # type: ignore[attr-defined]
    with pytest.raises(PaymentGatewayError):
        refund_settlement.process_refund(ctx, refund.refund_id, 1)
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.PROCESSING
    with pytest.raises(PaymentGatewayError):
        refund_settlement.process_refund(ctx, refund.refund_id, ctx.refund_max_attempts)
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.FAILED
    assert order_of(ctx, order.order_id).status is OrderStatus.PAID
    assert "refund_failed" in ctx.messages.alert_kinds()                    # type: ignore[attr-defined]


def test_the_last_attempt_asks_wechat_before_calling_a_refund_failed(ctx: Context) -> None:
    alice, order, _ = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    ctx.wechat_pay.refunds[refund.out_refund_no] = RefundResult(refund.out_refund_no, "SUCCESS")  # type: ignore[attr-defined]
    ctx.wechat_pay.down("refund")                                             # its answer was lost
    assert refund_settlement.process_refund(ctx, refund.refund_id, ctx.refund_max_attempts) == "succeeded"
    assert order_of(ctx, order.order_id).status is OrderStatus.REFUNDED


def _failed_here(ctx: Context) -> tuple[Actor, Order, Refund]:
    """A refund WeChat could not be reached for: failed here, its order released."""
    alice, order, _ = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    ctx.wechat_pay.down()                                                     # type: ignore[attr-defined]
    with pytest.raises(PaymentGatewayError):
        refund_settlement.process_refund(ctx, refund.refund_id, ctx.refund_max_attempts)
    ctx.wechat_pay.up()                                                       # type: ignore[attr-defined]
    return alice, order, refund_of(ctx, refund.refund_id)


def test_a_retry_of_a_refund_wechat_paid_after_all_settles_it(ctx: Context) -> None:
    _, order, refund = _failed_here(ctx)
    ctx.wechat_pay.refunds[refund.out_refund_no] = RefundResult(refund.out_refund_no, "SUCCESS")  # type: ignore[attr-defined]
    assert refunds.retry_refund(ctx, FINANCE, refund.refund_id).status is RefundStatus.SUCCEEDED
    settled = order_of(ctx, order.order_id)
    assert (settled.status, settled.refunded_total) == (OrderStatus.REFUNDED, order.total)
    assert ctx.wechat_pay.refund_calls == []                                  # type: ignore[attr-defined]


def test_a_new_request_takes_over_the_codes_of_a_refund_wechat_never_had(ctx: Context) -> None:
    alice, order, failed = _failed_here(ctx)
    newer = requested(ctx, alice, order)
    assert newer.status is RefundStatus.APPROVED and set(newer.ticket_codes) == set(failed.ticket_codes)
    assert refund_of(ctx, failed.refund_id).superseded_by == newer.refund_id
    assert {t.revoked_by for t in tickets_of(ctx, order.order_id)} == {newer.refund_id}
    with pytest.raises(Conflict):
        refunds.retry_refund(ctx, FINANCE, failed.refund_id)               # taken over: never sent again


def test_no_new_request_while_wechat_still_processes_the_failed_one(ctx: Context) -> None:
    alice, order, failed = _failed_here(ctx)
    ctx.wechat_pay.refunds[failed.out_refund_no] = RefundResult(failed.out_refund_no, "PROCESSING")  # type: ignore[attr-defined]
    with pytest.raises(Conflict) as raised:
        requested(ctx, alice, order)
    assert raised.value.details == {"refund_id": failed.refund_id}


def test_a_taken_over_refund_paid_after_all_is_recorded_unsettled_and_raised(ctx: Context) -> None:
    alice, order, failed = _failed_here(ctx)
    sku_id = order.lines[0].sku_id
    newer = requested(ctx, alice, order)
    sent(ctx, newer, "SUCCESS")
    ctx.wechat_pay.refunds[failed.out_refund_no] = RefundResult(failed.out_refund_no, "PROCESSING")  # type: ignore[attr-defined]
    notify(ctx, failed, "SUCCESS")                                          # WeChat paid the old one too
    twice = refund_of(ctx, failed.refund_id)
    assert (twice.status, twice.unsettled, twice.returned_stock) == (RefundStatus.SUCCEEDED, True, False)
    assert stock_of(ctx, sku_id) == (10, 0, 0)                              # returned by the newer one only
    assert [k for k in ctx.messages.alert_kinds() if k != "refund_failed"] == ["refund_twice"]  # type: ignore[attr-defined]


def test_the_schedule_asks_wechat_about_a_refund_whose_notice_is_late(ctx: Context) -> None:
    alice, order, _ = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    sent(ctx, refund)
    assert refund_queries.query_processing_refunds(ctx) == 0                # not due yet
    ctx.wechat_pay.refund_ends(refund.out_refund_no, "SUCCESS")              # type: ignore[attr-defined]
    ctx.clock.advance(seconds=61)                                           # type: ignore[attr-defined]
    assert refund_queries.query_processing_refunds(ctx) == 1
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.SUCCEEDED


def test_a_refund_wechat_never_received_is_sent_again_by_the_schedule(ctx: Context) -> None:
    alice, order, _ = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    ctx.wechat_pay.down("refund", times=1)                                    # type: ignore[attr-defined]
    with pytest.raises(PaymentGatewayError):
        refund_settlement.process_refund(ctx, refund.refund_id, 1)
    ctx.messages.refunds.clear()                                            # type: ignore[attr-defined]
    ctx.clock.advance(seconds=61)                                           # type: ignore[attr-defined]
    assert refund_queries.query_processing_refunds(ctx) == 1
    assert ctx.messages.refunds == [refund.refund_id]                       # type: ignore[attr-defined]
    asked = refund_of(ctx, refund.refund_id)
    assert asked.queries == 1 and asked.status is RefundStatus.PROCESSING


def test_a_notice_nobody_expects_or_of_another_amount_is_raised(ctx: Context) -> None:
    alice, order, _ = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    sent(ctx, refund)
    notify(ctx, refund, "SUCCESS", out_refund_no="RNOTOURS0000000000")
    assert ctx.messages.alert_kinds() == ["refund_unexpected"]               # type: ignore[attr-defined]
    notice = ctx.wechat_pay.refund_ends(refund.out_refund_no, "SUCCESS")     # type: ignore[attr-defined]
    wrong = type(notice)(**{**notice.__dict__, "amount": notice.amount + 1})
    refund_queries.receive_refund_notification(ctx, *ctx.wechat_pay.notification(wrong))  # type: ignore[attr-defined]
    assert "refund_amount_mismatch" in ctx.messages.alert_kinds()           # type: ignore[attr-defined]
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.SUCCEEDED


def test_an_automatic_refund_moves_no_stock(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    order = place(ctx, customer(ctx), (sku.sku_id, 1)).order
    payments.confirm_payment(ctx, ctx.wechat_pay.customer_pays(order.order_id, order.total + 1))  # type: ignore[attr-defined]
    [refund] = ctx.refunds.of_order(order.order_id)
    assert sent(ctx, refund, "SUCCESS") == "succeeded"
    assert stock_of(ctx, sku.sku_id) == (5, 0, 0)                           # released with its order, once
    assert order_of(ctx, order.order_id).status is OrderStatus.CANCELLED


def test_a_settlement_that_keeps_colliding_is_left_to_the_next_notice(ctx: Context, database: FakeDatabase) -> None:
    alice, order, _ = paid_tickets(ctx)
    refund = requested(ctx, alice, order)
    sent(ctx, refund)
    database.conflict(times=3, when=lambda tags: Tag.REFUND in tags)
    with pytest.raises(Busy):
        notify(ctx, refund, "SUCCESS")
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.PROCESSING   # nothing settled, nothing lost
    notify(ctx, refund, "SUCCESS")
    assert refund_of(ctx, refund.refund_id).status is RefundStatus.SUCCEEDED
