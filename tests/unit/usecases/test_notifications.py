"""Subscribe messages (service_layer.notifications) on the fakes: queued when tickets are issued,
sent at most once per order and event, a credit spent only by an accepted send, 43101 drops it."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.notifications import Event, MessageStatus, SendOutcome
from chalicelib.service_layer import notifications
from chalicelib.service_layer.context import Context

from .shop import customer, paid_order, pay, place, staff, ticket_product

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
