"""Subscribe messages (service_layer.notifications) on the fakes: queued when tickets are issued,
sent at most once per order and event, a credit spent only by an accepted send, 43101 drops it."""
from __future__ import annotations

import pytest

from chalicelib.domain.commands import parse_refund_request
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.model import Fulfillment
from chalicelib.domain.notifications import Event, MessageStatus, SendOutcome
from chalicelib.domain.tickets import TicketStatus
from chalicelib.service_layer import notifications, orders, refund_settlement, refunds, session_cancellation
from chalicelib.service_layer.context import Actor, Context
from tests.fakes import db

from .shop import (ADDRESS, ADMIN, customer, merch_product, paid_order, pay, place, staff, ticket_product)

TICKETS = "local-ticket_issued"


def paid(ctx: Context, quantity: int = 2) -> str:
    _, (sku,) = ticket_product(ctx, 10)
    return paid_order(ctx, customer(ctx), (sku.sku_id, quantity)).order_id


def test_issuing_tickets_queues_the_tickets_message(ctx: Context) -> None:
    order_id = paid(ctx)
    assert ctx.messages.notices == [(order_id, "ticket_issued", "ticket_issued")]  # type: ignore[attr-defined]


def test_a_lost_queue_message_never_fails_the_payment(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 10)
    order = place(ctx, customer(ctx), (sku.sku_id, 1)).order
    ctx.messages.broken = True  # type: ignore[attr-defined]
    assert pay(ctx, order) == "paid"


def test_sent_once_with_the_credit_spent_on_acceptance(ctx: Context) -> None:
    alice = customer(ctx)
    assert notifications.subscribe(ctx, alice, [TICKETS, TICKETS]) == {TICKETS: 2}
    order_id = paid(ctx)
    assert notifications.send(ctx, order_id, Event.TICKET_ISSUED) is MessageStatus.SENT
    assert notifications.send(ctx, order_id, Event.TICKET_ISSUED) is None          # redelivered
    [sent] = ctx.messenger.sent  # type: ignore[attr-defined]
    assert sent.touser == alice.principal.openid and sent.data["number3"] == {"value": "2"}
    assert ctx.notifications.credit(alice.name, TICKETS) == (1, alice.principal.openid)
    assert [m.status for m in notifications.messages_of(ctx, order_id)] == [MessageStatus.SENT]


@pytest.mark.parametrize("outcome,status,left", [
    (SendOutcome.NO_SUBSCRIPTION, MessageStatus.SKIPPED_NO_SUBSCRIPTION, 0),
    (SendOutcome.INVALID_VALUE, MessageStatus.FAILED, 3),
    (SendOutcome.ERROR, MessageStatus.FAILED, 3)])
def test_a_refused_send_spends_nothing_and_43101_drops_the_credits(ctx: Context, outcome: SendOutcome,
                                                                   status: MessageStatus, left: int) -> None:
    alice = customer(ctx)
    notifications.subscribe(ctx, alice, [TICKETS] * 3)
    order_id = paid(ctx)
    ctx.messenger.outcomes.append(outcome)  # type: ignore[attr-defined]
    assert notifications.send(ctx, order_id, Event.TICKET_ISSUED) is status
    assert ctx.notifications.credit(alice.name, TICKETS)[0] == left
    [message] = notifications.messages_of(ctx, order_id)
    assert message.status is status and (message.error is not None) is (status is not MessageStatus.SENT)


def test_no_credit_no_send(ctx: Context) -> None:
    order_id = paid(ctx)
    assert notifications.send(ctx, order_id, Event.TICKET_ISSUED) is MessageStatus.SKIPPED_NO_SUBSCRIPTION
    assert ctx.messenger.attempts == 0  # type: ignore[attr-defined]
    with pytest.raises(Conflict) as refused:
        notifications.resend_tickets(ctx, staff("support"), order_id)
    assert refused.value.code == "NO_SUBSCRIPTION"


def test_resend_is_audited_and_queued_under_its_own_key(ctx: Context) -> None:
    alice = customer(ctx)
    notifications.subscribe(ctx, alice, [TICKETS, TICKETS])
    order_id = paid(ctx)
    notifications.send(ctx, order_id, Event.TICKET_ISSUED)
    key = notifications.resend_tickets(ctx, staff("support", name="helpdesk"), order_id)
    assert ctx.messages.notices[-1] == (order_id, "ticket_issued", key)  # type: ignore[attr-defined]
    assert notifications.send(ctx, order_id, Event.TICKET_ISSUED, key) is MessageStatus.SENT
    assert len(ctx.messenger.sent) == 2  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        notifications.resend_tickets(ctx, staff("support"), "O-missing")


def test_only_this_shops_templates_earn_credits(ctx: Context) -> None:
    with pytest.raises(InvalidInput):
        notifications.subscribe(ctx, customer(ctx), ["another-shops-template"])
    with pytest.raises(InvalidInput):
        notifications.subscribe(ctx, customer(ctx), [TICKETS] * 11)


def subscribed(ctx: Context, *events: Event) -> Actor:
    alice = customer(ctx)
    notifications.subscribe(ctx, alice, [f"local-{e.value}" for e in events])
    return alice


def notices_of(ctx: Context, event: Event) -> list[tuple[str, str, str]]:
    return [n for n in ctx.messages.notices if n[1] == event.value]  # type: ignore[attr-defined]


def send_queued(ctx: Context) -> list[MessageStatus | None]:
    return [notifications.send(ctx, o, Event(e), k) for o, e, k in ctx.messages.notices]  # type: ignore[attr-defined]


def test_goods_to_pick_up_and_goods_shipped_send_their_messages(ctx: Context) -> None:
    alice = subscribed(ctx, Event.PICKUP_READY, Event.SHIPPED)
    _, (goods,) = merch_product(ctx, 5)
    pickup = paid_order(ctx, alice, (goods.sku_id, 1), fulfillment=Fulfillment.PICKUP)
    posted = paid_order(ctx, alice, (goods.sku_id, 1), fulfillment=Fulfillment.SHIPPING, address=ADDRESS)
    orders.ship_order(ctx, ADMIN, posted.order_id, "顺丰速运", "SF1234567890")
    assert notices_of(ctx, Event.PICKUP_READY) == [(pickup.order_id, "pickup_ready", "pickup_ready")]
    assert notices_of(ctx, Event.SHIPPED) == [(posted.order_id, "shipped", "shipped")]
    assert notices_of(ctx, Event.TICKET_ISSUED) == []                  # goods only: no tickets message
    assert set(send_queued(ctx)) == {MessageStatus.SENT}
    ready, shipped = ctx.messenger.sent  # type: ignore[attr-defined]
    assert ready.data["character_string2"] == {"value": pickup.order_id}
    assert shipped.data["thing2"] == {"value": "顺丰速运"} and shipped.data["character_string3"] == \
        {"value": "SF1234567890"}


def test_each_end_of_a_refund_sends_one_message(ctx: Context) -> None:
    alice = subscribed(ctx, Event.REFUND_RESULT, Event.REFUND_RESULT)
    _, (goods,) = merch_product(ctx, 5)
    order = paid_order(ctx, alice, (goods.sku_id, 1), fulfillment=Fulfillment.PICKUP)
    refund = refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "不想要了"}))
    refunds.reject_refund(ctx, staff("finance"), refund.refund_id, "商品已使用")
    key = f"refund_result#{refund.refund_id}#REJECTED"
    assert notices_of(ctx, Event.REFUND_RESULT) == [(order.order_id, "refund_result", key)]
    send_queued(ctx)
    [message] = ctx.messenger.sent  # type: ignore[attr-defined]
    assert message.data["phrase3"] == {"value": "退款驳回"} and message.data["thing4"] == {"value": "商品已使用"}
    assert message.data["amount2"] == {"value": "25.00元"}
    assert notifications.send(ctx, order.order_id, Event.REFUND_RESULT, key) is None      # once


def test_a_succeeded_refund_sends_its_result(ctx: Context) -> None:
    alice = subscribed(ctx, Event.REFUND_RESULT)
    _, (sku,) = ticket_product(ctx, 10)
    order = paid_order(ctx, alice, (sku.sku_id, 2))
    refund = refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "行程变化"}))
    ctx.wechat_pay.refund_answers[refund.out_refund_no] = "SUCCESS"  # type: ignore[attr-defined]
    refund_settlement.process_refund(ctx, refund.refund_id, 1)
    assert notices_of(ctx, Event.REFUND_RESULT) == [
        (order.order_id, "refund_result", f"refund_result#{refund.refund_id}#SUCCEEDED")]


def test_a_cancelled_session_sends_one_message_per_order(ctx: Context) -> None:
    alice = subscribed(ctx, Event.SESSION_CANCELLED)
    _, (sku,) = ticket_product(ctx, 10)
    order = paid_order(ctx, alice, (sku.sku_id, 2))
    session_cancellation.cancel_session(ctx, ADMIN, sku.sku_id, "台风停园")
    for _ in range(3):                               # a step redelivered records no second notice
        session_cancellation.run_step(ctx, sku.sku_id)
    assert notices_of(ctx, Event.SESSION_CANCELLED) == [
        (order.order_id, "session_cancelled", f"session_cancelled#{sku.sku_id}")]
    send_queued(ctx)
    [message] = [m for m in ctx.messenger.sent if m.template_id == "local-session_cancelled"]  # type: ignore[attr-defined]
    assert message.data["thing3"] == {"value": "台风停园"} and message.data["time2"]["value"] != "-"


def test_tomorrows_sessions_are_reminded_of_once_from_ten_the_day_before(ctx: Context) -> None:
    from datetime import timedelta
    alice = subscribed(ctx, Event.SESSION_REMINDER)
    _, (sku,) = ticket_product(ctx, 10)                          # a session two days ahead
    order = paid_order(ctx, alice, (sku.sku_id, 2))
    _, (other,) = ticket_product(ctx, 10)
    refunded = paid_order(ctx, customer(ctx, "bob"), (other.sku_id, 1))
    send_queued(ctx)                                             # the tickets messages keep the sessions' days
    for ticket in ctx.tickets.of_order(refunded.order_id):       # bob's ticket no longer admits
        ticket.status = TicketStatus.REVOKED
        db(ctx).put_now("tickets", ticket.code, ticket)
    assert notifications.remind_tomorrow(ctx) == 0               # 10:00 today: tomorrow has no session
    ctx.clock.advance(timedelta(days=1, hours=-1))               # 09:00 the day before: not yet
    assert notifications.remind_tomorrow(ctx) == 0
    ctx.clock.advance(timedelta(hours=1))
    assert notifications.remind_tomorrow(ctx) == 2 and notifications.remind_tomorrow(ctx) == 0
    assert sorted(notices_of(ctx, Event.SESSION_REMINDER)) == sorted([
        (order.order_id, "session_reminder", f"session_reminder#{sku.sku_id}"),
        (refunded.order_id, "session_reminder", f"session_reminder#{other.sku_id}")])
    before = len(ctx.messenger.sent)  # type: ignore[attr-defined]
    send_queued(ctx)
    [reminder] = ctx.messenger.sent[before:]  # type: ignore[attr-defined]
    assert reminder.touser == alice.principal.openid and reminder.template_id == "local-session_reminder"
    assert [m.event for m in notifications.messages_of(ctx, refunded.order_id)] == [Event.TICKET_ISSUED]  # bob: none


def test_a_send_that_breaks_is_recorded_failed_and_never_tried_again(ctx: Context) -> None:
    subscribed(ctx, Event.TICKET_ISSUED)
    order_id = paid(ctx)

    def broken(message: object) -> object:
        raise ConnectionError("WeChat unreachable")
    ctx.messenger.send = broken  # type: ignore[method-assign]
    assert notifications.send(ctx, order_id, Event.TICKET_ISSUED) is MessageStatus.FAILED
    [message] = notifications.messages_of(ctx, order_id)
    assert message.error == "not sent: ConnectionError"
    assert notifications.send(ctx, order_id, Event.TICKET_ISSUED) is None
