"""The day-before reminder (场次提醒) reaches every ticket that will admit tomorrow: one bought after
the day's run began, one moved (改签) into tomorrow's session, and one kept while the run was reading
its list; the session it names is the ticket's own, and a ticket moved away is not reminded of."""
from __future__ import annotations

import secrets
from datetime import timedelta

from chalicelib.domain.catalog_commands import NewProduct, NewSku
from chalicelib.domain.model import Kind, ProductStatus, Session, Sku
from chalicelib.domain.notifications import Event, MessageStatus
from chalicelib.domain.ticket_changes import Reschedule
from chalicelib.service_layer import catalog, notifications, ticket_changes
from chalicelib.service_layer.context import Context

from .shop import ADMIN, paid_order, tickets_of
from .test_notifications import notices_of, send_queued, subscribed

REMINDER = "local-session_reminder"


def sessions(ctx: Context, *days_ahead: int) -> list[Sku]:
    """A ticket product with a session on each of those days from now, at this hour."""
    now = ctx.clock.now  # type: ignore[attr-defined]
    skus = [NewSku(f"第{d}天 上午场", 6000, 10, 0, Session(now + timedelta(days=d), now + timedelta(days=d, hours=3)),
                   now + timedelta(days=d), now + timedelta(days=d, hours=3)) for d in days_ahead]
    return catalog.create_product(ctx, ADMIN, NewProduct(
        kind=Kind.TICKET, name="昆曲夜场 " + secrets.token_hex(2), description="", category="演出", tags=[],
        status=ProductStatus.LISTED, list_at=None, delist_at=None, purchase_limit=None, real_name=False,
        fulfillment=[], skus=skus))[1]


def reminders_sent(ctx: Context) -> list[dict]:  # type: ignore[type-arg]
    return [m.data for m in ctx.messenger.sent if m.template_id == REMINDER]  # type: ignore[attr-defined]


def test_a_ticket_bought_after_the_days_run_is_still_reminded_of(ctx: Context) -> None:
    (tomorrow,) = sessions(ctx, 2)
    ctx.clock.advance(timedelta(days=1, hours=1))               # 11:00 the day before: the run is over
    assert notifications.remind_tomorrow(ctx) == 0
    alice = subscribed(ctx, Event.SESSION_REMINDER)
    order = paid_order(ctx, alice, (tomorrow.sku_id, 1))
    send_queued(ctx)
    assert [n[0] for n in notices_of(ctx, Event.SESSION_REMINDER)] == [order.order_id]
    [sent] = reminders_sent(ctx)
    assert sent["thing1"]["value"].endswith("第2天 上午场")
    assert notifications.remind_tomorrow(ctx) == 0               # the day is done: not queued again


def test_a_ticket_moved_into_tomorrows_session_is_reminded_of_that_session(ctx: Context) -> None:
    tomorrow, later = sessions(ctx, 2, 4)
    alice = subscribed(ctx, Event.SESSION_REMINDER)
    order = paid_order(ctx, alice, (later.sku_id, 1))
    send_queued(ctx)
    ctx.clock.advance(timedelta(days=1, hours=1))
    assert notifications.remind_tomorrow(ctx) == 0               # nothing of tomorrow's yet
    (ticket,) = tickets_of(ctx, order.order_id)
    moved = ticket_changes.reschedule(ctx, alice, order.order_id, ticket.ticket_id, Reschedule(tomorrow.sku_id))
    assert [s for s in send_queued(ctx) if s] == [MessageStatus.SENT]
    [sent] = reminders_sent(ctx)
    assert sent["thing1"]["value"].endswith("第2天 上午场") and moved.sku_id == tomorrow.sku_id
    ctx.clock.advance(timedelta(days=2))                         # the day before the session it left
    assert notifications.remind_tomorrow(ctx) == 1
    send_queued(ctx)
    assert len(reminders_sent(ctx)) == 1                         # the ticket moved away: nothing about it


def test_a_ticket_kept_while_the_run_reads_its_list_is_reminded_of(ctx: Context, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tomorrow,) = sessions(ctx, 2)
    alice = subscribed(ctx, Event.SESSION_REMINDER)
    ctx.clock.advance(timedelta(days=1, hours=1))
    order = paid_order(ctx, alice, (tomorrow.sku_id, 1))        # paid; its tickets message not yet handled
    read = ctx.notifications.reminders_of

    def read_then_tickets_kept(day: str) -> list[tuple[str, str]]:
        listed = read(day)
        notifications.send(ctx, order.order_id, Event.TICKET_ISSUED)     # the worker, meanwhile
        return listed
    monkeypatch.setattr(ctx.notifications, "reminders_of", read_then_tickets_kept)
    assert notifications.remind_tomorrow(ctx) == 0
    assert [n[0] for n in notices_of(ctx, Event.SESSION_REMINDER)] == [order.order_id]
