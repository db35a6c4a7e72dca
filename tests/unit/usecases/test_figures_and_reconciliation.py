"""The back office's figures (service_layer.figures) and the daily reconciliation with WeChat
Pay's bill (reconciling) on the fakes."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.reconciliation import MATCHED, NOT_RUN
from chalicelib.domain.figure_facts import Change
from chalicelib.domain.figures import sales_bucket, venue_day
from chalicelib.service_layer import figures, reconciling
from chalicelib.service_layer.context import Context
from tests.fakes import FakeDatabase
from tests.fakes.back_office import order_facts

from .shop import customer, order_of, paid_order, place, ticket_product


def test_a_sale_is_counted_once_however_often_its_change_is_delivered(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    pending = place(ctx, customer(ctx), (sku.sku_id, 2)).order
    paid = paid_order(ctx, customer(ctx, "bob"), (sku.sku_id, 1))
    changes = [Change("e1", "order", None, order_facts(pending)),
               Change("e2", "order", order_facts(order_of(ctx, paid.order_id).as_placed()),
                      order_facts(order_of(ctx, paid.order_id)))]
    assert figures.count_changes(ctx, changes) == 1                         # an unpaid order sells nothing
    bucket = sales_bucket(venue_day(paid.paid_at, ctx.venue_timezone), "day")   # type: ignore[arg-type]
    counted = ctx.aggregates.read([bucket])[bucket]
    assert (counted["orders"], counted["units"], counted["gross"]) == (1, 1, paid.total)
    assert figures.count_changes(ctx, changes) == 1                         # the stream sends the batch again
    assert ctx.aggregates.read([bucket])[bucket] == counted


def test_a_batch_that_cannot_be_written_is_handed_back_from_its_first_change(ctx: Context,
                                                                              database: FakeDatabase) -> None:
    _, (sku,) = ticket_product(ctx, 5)
    paid = paid_order(ctx, customer(ctx), (sku.sku_id, 1))
    database.conflict(times=1000)
    with pytest.raises(figures.NotCounted) as raised:
        figures.count_changes(ctx, [Change("e9", "order", None, order_facts(paid), position="42")])
    assert raised.value.change.position == "42"


def test_yesterday_is_reconciled_once_after_the_bill_is_ready(ctx: Context) -> None:
    ctx.clock.advance(hours=-2)                                             # type: ignore[attr-defined]  08:00 at the venue
    assert reconciling.reconcile_if_due(ctx) == 0
    ctx.clock.advance(hours=3)                                              # type: ignore[attr-defined]
    assert reconciling.reconcile_if_due(ctx) == 1                           # no trades: WeChat has no bill
    yesterday = (ctx.clock.now + timedelta(hours=8)).date() - timedelta(days=1)  # type: ignore[attr-defined]
    assert reconciling.reconciliation_of(ctx, yesterday).status == MATCHED
    assert reconciling.reconcile_if_due(ctx) == 0


def test_a_bill_that_cannot_be_fetched_is_tried_hourly_and_raised_once(ctx: Context) -> None:
    ctx.clock.advance(hours=1)                                              # 11:00 at the venue
    ctx.wechat_pay.down("trade_bill")                                         # type: ignore[attr-defined]
    assert reconciling.reconcile_if_due(ctx) == 0
    yesterday = (ctx.clock.now + timedelta(hours=8)).date() - timedelta(days=1)  # type: ignore[attr-defined]
    tried = reconciling.reconciliation_of(ctx, yesterday)
    assert (tried.status, tried.failure) == (NOT_RUN, "BILL_UNAVAILABLE")
    ctx.clock.advance(minutes=30)                                           # type: ignore[attr-defined]
    assert reconciling.reconcile_if_due(ctx) == 0                           # not again within the hour
    ctx.clock.advance(minutes=31)                                           # type: ignore[attr-defined]
    assert reconciling.reconcile_if_due(ctx) == 0
    assert ctx.messages.alert_kinds() == ["reconciliation"]                 # type: ignore[attr-defined]
    ctx.wechat_pay.up()                                                       # type: ignore[attr-defined]
    ctx.clock.advance(hours=1)                                              # type: ignore[attr-defined]
    assert reconciling.reconcile_if_due(ctx) == 1
