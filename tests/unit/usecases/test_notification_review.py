"""Review of the subscribe messages (订阅消息) on the fakes: what a customer typed never carries a
phone or ID number into a message, a customer cannot mint credits without end, and staff cannot
resend the tickets message of an order that no longer holds a ticket."""
from __future__ import annotations

import re

import pytest

from chalicelib.domain.commands import parse_refund_request
from chalicelib.domain.errors import Conflict
from chalicelib.domain.notifications import MAX_CREDITS, Event, FieldKind, cut
from chalicelib.service_layer import notifications, refund_settlement, refunds
from chalicelib.service_layer.context import Context

from .shop import customer, paid_order, staff, ticket_product

TICKETS = "local-ticket_issued"
PERSONAL = re.compile(r"\d[\d\s-]{5,}\d")        # seven digits or more: a phone, an ID number


@pytest.mark.parametrize("typed", ["请回电13812345678", "电话 138-1234-5678 谢谢", "身份证110101199003074514",
                                   "+86 138 1234 5678"])
def test_a_thing_never_carries_a_phone_or_id_number(typed: str) -> None:
    value = cut(FieldKind.THING, typed)
    assert not PERSONAL.search(value) and len(value) <= 20
    assert cut(FieldKind.THING, "2026年12月 夜场 3号厅") == "2026年12月 夜场 3号厅"   # short numbers stay


def test_a_refund_reason_with_a_phone_number_goes_out_without_it(ctx: Context) -> None:
    alice = customer(ctx)
    notifications.subscribe(ctx, alice, ["local-refund_result"])
    _, (sku,) = ticket_product(ctx, 10)
    order = paid_order(ctx, alice, (sku.sku_id, 1))
    refund = refunds.request_refund(ctx, alice, order.order_id,
                                    parse_refund_request({"reason": "有事 请打13812345678"}))
    ctx.wechat_pay.refund_answers[refund.out_refund_no] = "SUCCESS"  # type: ignore[attr-defined]
    refund_settlement.process_refund(ctx, refund.refund_id, 1)
    for order_id, event, key in list(ctx.messages.notices):  # type: ignore[attr-defined]
        notifications.send(ctx, order_id, Event(event), key)
    [message] = [m for m in ctx.messenger.sent if m.template_id == "local-refund_result"]  # type: ignore[attr-defined]
    assert message.data["thing4"]["value"] == "有事 请打***"


def test_credits_of_a_template_stop_at_a_cap(ctx: Context) -> None:
    alice = customer(ctx)
    assert notifications.subscribe(ctx, alice, [TICKETS] * 3) == {TICKETS: 3}
    for _ in range(MAX_CREDITS):                         # ten at a time, again and again
        counts = notifications.subscribe(ctx, alice, [TICKETS] * 9 + ["local-shipped"])
    assert counts == {TICKETS: MAX_CREDITS, "local-shipped": MAX_CREDITS}
    assert ctx.notifications.credit(alice.name, TICKETS)[0] == MAX_CREDITS


def test_no_tickets_message_is_resent_for_an_order_whose_tickets_are_all_refunded(ctx: Context) -> None:
    alice = customer(ctx)
    notifications.subscribe(ctx, alice, [TICKETS, TICKETS])
    _, (sku,) = ticket_product(ctx, 10)
    order = paid_order(ctx, alice, (sku.sku_id, 1))
    refund = refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "行程变化"}))
    ctx.wechat_pay.refund_answers[refund.out_refund_no] = "SUCCESS"  # type: ignore[attr-defined]
    refund_settlement.process_refund(ctx, refund.refund_id, 1)
    with pytest.raises(Conflict) as refused:
        notifications.resend_tickets(ctx, staff("support"), order.order_id)
    assert refused.value.code == "INVALID_STATE"
