"""Adversarial review of 改单 and payment attempts on the fakes: each test here failed on the
reviewed commit (8b16358) and names the defect it shows (DESIGN.md invariants 1, 3 and 15)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import identifiers
from chalicelib.domain.commands import RequestedLine
from chalicelib.domain.errors import Conflict
from chalicelib.domain.model import OrderStatus
from chalicelib.domain.order_changes import ChangeOrder
from chalicelib.service_layer import order_changes, schedule
from chalicelib.service_layer.context import Context
from chalicelib.service_layer.ports import PaymentGatewayError

from .shop import customer, order_of, place, stock_of, ticket_product


def lines(*items: tuple[str, int]) -> ChangeOrder:
    return ChangeOrder([RequestedLine(s, q) for s, q in items], None, None, False)


def test_an_expiry_racing_a_change_gives_back_the_lines_the_order_holds_now(ctx: Context) -> None:
    """Invariants 3 and 15. The change is made in the order's last moment; the expiry worker had
    read the order (a x2) and is asking WeChat about its first trade when it commits (b x2, on
    attempt -2). `expire_order` then ends the order with `end_unpaid` on the lines it read: its
    write is conditional on the status only, not on the attempt, so it releases a x2 (bob's
    reserved units) and leaves b x2 reserved by an EXPIRED order, with the -2 trade never asked
    about or closed."""
    _, (a, b) = ticket_product(ctx, 10, 10, price=6000)
    alice, bob = customer(ctx), customer(ctx, "bob")
    place(ctx, bob, (a.sku_id, 2))
    order = place(ctx, alice, (a.sku_id, 2)).order
    gateway = ctx.wechat_pay
    query = gateway.query
    raced: list[str] = []

    def query_while_the_customer_changes_it(out_trade_no: str):  # type: ignore[no-untyped-def]
        if not raced:
            raced.append(out_trade_no)
            late = ctx.clock.now                                                    # type: ignore[attr-defined]
            ctx.clock.now = order.expires_at - timedelta(seconds=2)                 # type: ignore[attr-defined]
            order_changes.change_order(ctx, alice, order.order_id, lines((b.sku_id, 2)))
            ctx.clock.now = late                                                    # type: ignore[attr-defined]
        return query(out_trade_no)
    gateway.query = query_while_the_customer_changes_it                            # type: ignore[method-assign]
    ctx.clock.advance(timedelta(minutes=16))                                       # type: ignore[attr-defined]
    expired = schedule.expire_order(ctx, order.order_id)
    gateway.query = query                                                          # type: ignore[method-assign]
    assert raced == [order.order_id]
    status = order_of(ctx, order.order_id).status
    # Whatever the outcome, the stock follows the live orders: bob's a x2 still reserved; b x2
    # reserved only while alice's changed order is pending.
    assert stock_of(ctx, a.sku_id) == (8, 2, 0), (expired, status, stock_of(ctx, a.sku_id), stock_of(ctx, b.sku_id))
    assert stock_of(ctx, b.sku_id) == ((8, 2, 0) if status is OrderStatus.PENDING_PAYMENT else (10, 0, 0)), (
        status, stock_of(ctx, b.sku_id))


def test_every_attempt_an_order_can_reach_is_recognised_as_its_own() -> None:
    """Low. A change refused after the close opens a new attempt without spending a change
    (`_reopen`), so attempts are not bounded by MAX_ORDER_CHANGES; `trade_no` names attempt 100
    `<order_id>-100`, which `attempt_of` (ATTEMPT_TRADE_NO allows -2 .. -99) does not recognise:
    money paid on it would be refunded as an unknown order's and the order never paid."""
    order_id = identifiers.new_order_id(datetime(2026, 12, 3, tzinfo=timezone.utc))
    assert identifiers.ORDER_ID.match(order_id)
    for attempt in (1, 2, 99, 100, 101):
        assert identifiers.attempt_of(identifiers.trade_no(order_id, attempt)) == (order_id, attempt), attempt


def test_a_close_whose_answer_is_lost_leaves_the_order_payable(ctx: Context) -> None:
    """Medium. WeChat closes the trade but its answer does not arrive (a timeout: the adapter
    raises PaymentGatewayError). `close_open_trade` answers PAYMENT_UNAVAILABLE, "the order is
    unchanged", and leaves it on its first attempt, whose trade WeChat has closed: no payment can
    ever be taken for it (GET prepays a closed trade) until the customer happens to change it
    again or it expires. The order should move on to a fresh attempt (as `_reopen` does), or
    WeChat be asked what became of the trade."""
    _, (a,) = ticket_product(ctx, 10, price=6000)
    alice = customer(ctx)
    order = place(ctx, alice, (a.sku_id, 2)).order
    gateway = ctx.wechat_pay
    close = gateway.close

    def close_then_time_out(out_trade_no: str) -> None:
        close(out_trade_no)
        raise PaymentGatewayError("close timed out")
    gateway.close = close_then_time_out                                            # type: ignore[method-assign]
    with pytest.raises(Conflict) as refused:
        order_changes.change_order(ctx, alice, order.order_id, lines((a.sku_id, 1)))
    gateway.close = close                                                          # type: ignore[method-assign]
    assert refused.value.code == "PAYMENT_UNAVAILABLE"
    now = order_of(ctx, order.order_id)
    waiting = gateway.trades.get(now.trade_no)                                    # type: ignore[attr-defined]
    assert waiting is None or waiting.state != "CLOSED", (
        f"the order waits on {now.trade_no}, which WeChat closed")
