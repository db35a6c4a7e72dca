"""Session cancellation on the fakes: sales stop at once; the worker's steps cancel unpaid orders
(trade closed first), refund every unused paid ticket in full through the refund lifecycle and
notice each order once; a session of 20,000 tickets completes in bounded steps, survives a worker
dying half way, and nothing happens twice."""
from __future__ import annotations

from collections import Counter

import pytest

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.model import OrderStatus
from chalicelib.domain.ordering import UnpaidLimits
from chalicelib.domain.refunds import MAX_TICKETS_PER_REFUND, RefundStatus
from chalicelib.domain.session_cancellation import CancellationStatus, StepReport
from chalicelib.domain.tickets import TicketStatus
from chalicelib.domain.transactions import MAX_ITEMS
from chalicelib.service_layer import inventory, refund_settlement, refunds, session_cancellation
from chalicelib.service_layer.context import Context
from chalicelib.domain.commands import parse_refund_request
from tests.fakes import fake_context
from tests.fakes.context import db

from .shop import ADMIN, customer, merch_product, order_of, paid_order, place, stock_of, ticket_product, tickets_of

REASON = "台风停园"


def cancel(ctx: Context, sku_id: str, reason: str = REASON):
    return session_cancellation.cancel_session(ctx, ADMIN, sku_id, reason)


def run_to_done(ctx: Context, sku_id: str, max_steps: int = 10_000) -> list[StepReport]:
    """The back-office worker: one step per queued message, until the work is DONE."""
    reports = []
    for _ in range(max_steps):
        report = session_cancellation.run_step(ctx, sku_id)
        reports.append(report)
        if report.done:
            return reports
    raise AssertionError("the cancellation did not finish")


def settle_refunds(ctx: Context) -> None:
    """The refunds worker sends every queued refund; WeChat answers SUCCESS."""
    ctx.wechat_pay.default_refund_answer = "SUCCESS"        # type: ignore[attr-defined]
    for refund_id in list(ctx.messages.refunds):            # type: ignore[attr-defined]
        refund_settlement.process_refund(ctx, refund_id, 1)


def ledger_sums(ctx: Context, sku_id: str) -> None:
    available, reserved, sold = stock_of(ctx, sku_id)
    assert sum(ctx.stock.all_movements(sku_id)) == available      # type: ignore[attr-defined]


@pytest.fixture
def ctx() -> Context:
    return fake_context()


def test_sales_stop_unpaid_orders_end_and_paid_tickets_are_refunded_in_full(ctx: Context) -> None:
    _, (sku, other) = ticket_product(ctx, 50, 50)
    alice, bob, carol = customer(ctx, "alice"), customer(ctx, "bob"), customer(ctx, "carol")
    paid = paid_order(ctx, alice, (sku.sku_id, 3), (other.sku_id, 1))
    pending = place(ctx, bob, (sku.sku_id, 2)).order
    untouched = paid_order(ctx, carol, (other.sku_id, 2))

    started = cancel(ctx, sku.sku_id)
    assert (started.status, started.tickets, started.orders) == (CancellationStatus.RUNNING, 5, 0)
    assert ctx.messages.session_steps == [(sku.sku_id, 0)]                       # type: ignore[attr-defined]
    with pytest.raises(Conflict) as refused:                                   # sales stopped at once
        place(ctx, carol, (sku.sku_id, 1))
    assert refused.value.code == "NOT_ON_SALE"

    run_to_done(ctx, sku.sku_id)
    ended = order_of(ctx, pending.order_id)
    assert (ended.status, ended.cancel_reason) == (OrderStatus.CANCELLED, "session_cancelled")
    assert pending.trade_no in ctx.wechat_pay.closed                           # type: ignore[attr-defined]
    session = [t for t in tickets_of(ctx, paid.order_id) if t.sku_id == sku.sku_id]
    assert {t.status for t in session} == {TicketStatus.REVOKED}
    assert all(t.status is TicketStatus.VALID for t in tickets_of(ctx, paid.order_id) if t.sku_id == other.sku_id)
    (refund,) = ctx.refunds.of_order(paid.order_id)
    assert (refund.status, refund.source, refund.reason) == (RefundStatus.APPROVED, "session_cancelled", REASON)
    assert refund.amount == sum(t.paid for t in session) and refund.out_trade_no == order_of(ctx, paid.order_id).trade_no
    assert ctx.messages.refunds == [refund.refund_id]                          # type: ignore[attr-defined]
    assert ctx.refunds.of_order(untouched.order_id) == []
    assert ctx.session_cancellations.notices(sku.sku_id) == {paid.order_id: ("refunded", 3),
                                                            pending.order_id: ("cancelled", 0)}
    settle_refunds(ctx)
    progress, outcomes = session_cancellation.cancellation_of(ctx, sku.sku_id)
    assert (progress.status, progress.orders_cancelled, progress.orders_refunded, progress.tickets_refunded) == \
        (CancellationStatus.DONE, 1, 1, 3)
    assert (outcomes.requested, outcomes.succeeded, outcomes.failed) == (1, 1, 0)
    assert stock_of(ctx, sku.sku_id) == (50, 0, 0)                             # every unit back, once
    ledger_sums(ctx, sku.sku_id)
    assert ctx.stock.skus([sku.sku_id])[sku.sku_id].cancel_reason == REASON


def test_asking_again_changes_nothing(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 20)
    paid_order(ctx, customer(ctx), (sku.sku_id, 2))
    first = cancel(ctx, sku.sku_id)
    again = cancel(ctx, sku.sku_id, "another reason")
    assert (again.reason, again.cancelled_at, again.version) == (REASON, first.cancelled_at, 0)
    run_to_done(ctx, sku.sku_id)
    written = len(db(ctx).committed)
    done = cancel(ctx, sku.sku_id, "once more")
    assert done.status is CancellationStatus.DONE and done.orders == 1
    assert session_cancellation.run_step(ctx, sku.sku_id).done      # a late message does nothing
    assert len(db(ctx).committed) == written
    day = first.cancelled_at.strftime("%Y-%m-%d")
    (audited,) = ctx.audit.search([day], None, None, None, "session_cancelled", 50, None).items
    assert (audited.actor, audited.target, audited.details["reason"]) == ("boss", sku.sku_id, REASON)


def test_goods_unknown_skus_and_sessions_never_cancelled(ctx: Context) -> None:
    _, (goods,) = merch_product(ctx, 5)
    _, (sku,) = ticket_product(ctx, 5)
    with pytest.raises(Conflict) as goods_refused:
        cancel(ctx, goods.sku_id)
    assert goods_refused.value.code == "INVALID_STATE"
    for unknown in ("P000000000000-S999999", "nonsense"):
        with pytest.raises(NotFound) as missing:
            cancel(ctx, unknown)
        assert missing.value.code == "SKU_NOT_FOUND"
    with pytest.raises(NotFound) as never:
        session_cancellation.cancellation_of(ctx, sku.sku_id)
    assert never.value.code == "SESSION_NOT_CANCELLED"


def test_a_sharded_session_flags_every_shard_and_cannot_be_split_again(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 400)
    inventory.split_stock(ctx, ADMIN, sku.sku_id, 8)
    orders = [paid_order(ctx, customer(ctx, f"c{i}"), (sku.sku_id, 2)) for i in range(6)]
    pending = place(ctx, customer(ctx, "late"), (sku.sku_id, 1)).order
    cancel(ctx, sku.sku_id)
    assert len(db(ctx).committed[-1]) == 8 + 3                    # shards, SKU, progress, audit
    assert all(b.cancelled for b in db(ctx).table("stock-shards").values())
    with pytest.raises(Conflict) as refused:
        place(ctx, customer(ctx, "new"), (sku.sku_id, 1))
    assert refused.value.code == "NOT_ON_SALE"
    with pytest.raises(Conflict):
        inventory.split_stock(ctx, ADMIN, sku.sku_id, 16)
    assert inventory.split_hot_stock(ctx, sku.sku_id) is None
    run_to_done(ctx, sku.sku_id)
    assert order_of(ctx, pending.order_id).status is OrderStatus.CANCELLED
    assert all(len(ctx.refunds.of_order(o.order_id)) == 1 for o in orders)
    settle_refunds(ctx)
    assert stock_of(ctx, sku.sku_id) == (400, 0, 0)
    ledger_sums(ctx, sku.sku_id)


def test_the_reservation_itself_refuses_a_session_cancelled_after_it_was_read(ctx: Context) -> None:
    """The order path read the SKU on sale; the cancellation commits before the order does."""
    _, (sku,) = ticket_product(ctx, 10)
    db(ctx).before_commit(lambda: cancel(ctx, sku.sku_id), when=lambda tags: "order" in tags)
    with pytest.raises(Conflict) as refused:
        place(ctx, customer(ctx), (sku.sku_id, 1))
    assert refused.value.code == "NOT_ON_SALE"
    assert stock_of(ctx, sku.sku_id) == (10, 0, 0)


def test_a_trade_wechat_reports_paid_is_confirmed_then_refunded(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 10)
    placed = place(ctx, customer(ctx), (sku.sku_id, 2)).order
    ctx.wechat_pay.customer_pays(placed.trade_no, placed.total)          # type: ignore[attr-defined]  # notice lost
    cancel(ctx, sku.sku_id)
    run_to_done(ctx, sku.sku_id)
    order = order_of(ctx, placed.order_id)
    assert order.transaction_id is not None and order.status is OrderStatus.REFUNDING
    (refund,) = ctx.refunds.of_order(placed.order_id)
    assert refund.amount == placed.total
    assert ctx.session_cancellations.notices(sku.sku_id) == {placed.order_id: ("refunded", 2)}


def test_tickets_under_review_wait_for_staff_and_are_refunded_once_rejected(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 10, admission_open=True)        # refunds now need review
    alice = customer(ctx)
    order = paid_order(ctx, alice, (sku.sku_id, 2))
    asked = refunds.request_refund(ctx, alice, order.order_id, parse_refund_request({"reason": "ill"}))
    assert asked.status is RefundStatus.REQUESTED
    cancel(ctx, sku.sku_id)
    for _ in range(5):
        report = session_cancellation.run_step(ctx, sku.sku_id)
        assert not report.done
    assert ctx.messages.session_steps[-1] == (sku.sku_id, 60)             # type: ignore[attr-defined]
    refunds.reject_refund(ctx, ADMIN, asked.refund_id, "no")
    run_to_done(ctx, sku.sku_id)
    refunded = [r for r in ctx.refunds.of_order(order.order_id) if r.source == "session_cancelled"]
    assert len(refunded) == 1 and len(refunded[0].ticket_codes) == 2


def test_a_redelivered_step_records_each_notice_once(ctx: Context) -> None:
    _, (sku,) = ticket_product(ctx, 10)
    orders = [paid_order(ctx, customer(ctx, f"c{i}"), (sku.sku_id, 1)) for i in range(3)]
    cancel(ctx, sku.sku_id)
    progress = ctx.session_cancellations.get(sku.sku_id)
    first = session_cancellation.run_step(ctx, sku.sku_id)
    # The same message again, as a worker that read the record before the first one saved would.
    ctx.session_cancellations.get = lambda _: progress                     # type: ignore[method-assign]
    second = session_cancellation.run_step(ctx, sku.sku_id)
    del ctx.session_cancellations.get
    assert first.saved and not second.saved and second.refunds == 0
    assert len(ctx.session_cancellations.notices(sku.sku_id)) == 3
    run_to_done(ctx, sku.sku_id)
    assert ctx.session_cancellations.get(sku.sku_id).orders_refunded == 3  # type: ignore[union-attr]
    assert all(len(ctx.refunds.of_order(o.order_id)) == 1 for o in orders)


class WorkerDied(Exception):
    pass


def test_twenty_thousand_tickets_complete_in_bounded_steps_and_survive_a_crash_half_way() -> None:
    ctx = fake_context(unpaid_limits=UnpaidLimits(orders=3, units_per_sku=200))
    _, (sku,) = ticket_product(ctx, 20_000)
    buyers = [customer(ctx, f"c{i}") for i in range(300)]
    big = [paid_order(ctx, buyers[i], (sku.sku_id, 150)) for i in range(10)]                  # 1,500: two refunds each
    small = [paid_order(ctx, buyers[i % 300], (sku.sku_id, 10)) for i in range(1_750)]       # 17,500
    pending = [place(ctx, buyers[i], (sku.sku_id, 10)).order for i in range(100)]            # 1,000 unpaid
    assert stock_of(ctx, sku.sku_id) == (0, 1_000, 19_000)
    assert cancel(ctx, sku.sku_id).tickets == 20_000

    real = session_cancellation.approve_for_the_venue
    calls = Counter[str]()

    def dies_once_after_its_write(*args, **kwargs):       # type: ignore[no-untyped-def]
        refund = real(*args, **kwargs)                 # committed and queued ...
        calls["refunds"] += 1
        if calls["refunds"] == 900:
            raise WorkerDied("... and the worker dies before the step saves its cursor")
        return refund
    session_cancellation.approve_for_the_venue = dies_once_after_its_write       # type: ignore[assignment]
    database = db(ctx)
    first_write = len(database.committed)
    steps, crashed, per_step = 0, 0, []
    try:
        while True:
            before = len(database.committed)
            try:
                report = session_cancellation.run_step(ctx, sku.sku_id)
            except WorkerDied:
                crashed += 1
                continue                               # SQS delivers the same message again
            steps += 1
            per_step.append(len(database.committed) - before)
            if report.done:
                break
            assert steps < 1_000
    finally:
        session_cancellation.approve_for_the_venue = real          # type: ignore[assignment]
    largest = max(len(tags) for tags in database.committed[first_write:])
    assert crashed == 1 and largest <= MAX_ITEMS
    print(f"\n20,000 tickets: {steps} steps, at most {max(per_step)} transactions a step, "
          f"largest transaction {largest} items")

    progress, outcomes = session_cancellation.cancellation_of(ctx, sku.sku_id)
    assert progress.status is CancellationStatus.DONE
    assert (progress.orders_cancelled, progress.orders_refunded, progress.tickets_refunded) == (100, 1_760, 19_000)
    assert outcomes.requested == 1_750 + 10 * 2 == progress.refunds_requested
    for order in big + small:
        mine = ctx.refunds.of_order(order.order_id)
        assert sum(r.amount for r in mine) == order.total                      # exactly what was paid, once
        assert all(len(r.ticket_codes) <= MAX_TICKETS_PER_REFUND for r in mine)
        assert {t.status for t in tickets_of(ctx, order.order_id)} == {TicketStatus.REVOKED}
    assert all(order_of(ctx, o.order_id).status is OrderStatus.CANCELLED for o in pending)
    codes = [c for o in big + small for r in ctx.refunds.of_order(o.order_id) for c in r.ticket_codes]
    assert len(codes) == len(set(codes)) == 19_000                          # no ticket refunded twice
    assert stock_of(ctx, sku.sku_id) == (1_000, 0, 19_000)
    settle_refunds(ctx)
    assert stock_of(ctx, sku.sku_id) == (20_000, 0, 0)
    ledger_sums(ctx, sku.sku_id)


def test_a_cancelled_session_raises_no_low_stock_alert(ctx: Context) -> None:
    from chalicelib.service_layer import alerts
    _, (sku,) = ticket_product(ctx, 10, threshold=5)
    paid_order(ctx, customer(ctx), (sku.sku_id, 8))
    cancel(ctx, sku.sku_id)
    assert not alerts.check_low_stock(ctx, sku.sku_id)


def test_a_notice_lost_with_its_worker_is_recorded_when_the_step_comes_back(ctx: Context) -> None:
    """The order was cancelled or refunded (and the refund even settled) when the worker died
    before its notice: the redelivered step finds it ended by the cancellation and notices it."""
    _, (sku,) = ticket_product(ctx, 10)
    paid = paid_order(ctx, customer(ctx, "a"), (sku.sku_id, 2))
    pending = place(ctx, customer(ctx, "b"), (sku.sku_id, 1)).order
    cancel(ctx, sku.sku_id)
    store, real = ctx.session_cancellations, ctx.session_cancellations.record_affected

    def lost(*args, **kwargs):                  # type: ignore[no-untyped-def]
        raise WorkerDied("the worker died before the notice")
    store.record_affected = lost                # type: ignore[method-assign]
    with pytest.raises(WorkerDied):
        session_cancellation.run_step(ctx, sku.sku_id)
    store.record_affected = real                # type: ignore[method-assign]
    settle_refunds(ctx)
    assert order_of(ctx, paid.order_id).status is OrderStatus.REFUNDED
    run_to_done(ctx, sku.sku_id)
    assert store.notices(sku.sku_id) == {paid.order_id: ("refunded", 2), pending.order_id: ("cancelled", 0)}
    progress = store.get(sku.sku_id)
    assert progress is not None and (progress.orders_refunded, progress.orders_cancelled) == (1, 1)
    assert len(ctx.refunds.of_order(paid.order_id)) == 1


def test_the_most_shards_a_session_may_have_fit_the_cancelling_transaction(ctx: Context) -> None:
    from chalicelib.domain.stock_shards import MAX_STOCK_SHARDS
    _, (sku,) = ticket_product(ctx, 10 * MAX_STOCK_SHARDS)
    inventory.split_stock(ctx, ADMIN, sku.sku_id, MAX_STOCK_SHARDS)
    cancel(ctx, sku.sku_id)
    assert len(db(ctx).committed[-1]) == MAX_STOCK_SHARDS + 3 <= MAX_ITEMS      # 99: shards, SKU, progress, audit
    assert sum(1 for b in db(ctx).table("stock-shards").values() if b.cancelled) == MAX_STOCK_SHARDS
