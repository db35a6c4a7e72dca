"""Subscribe messages (订阅消息): a customer's credits, and an order's message of an event sent at
most once (invariant 16). The queue worker sends; everything else only queues.

A message is claimed first (its item written on its absence), so a redelivered event finds it
and sends nothing: a worker dying between the claim and WeChat's answer leaves it unsent, never
sent twice. A credit is spent only once WeChat accepted the message; WeChat's 43101 (no
subscription left) drops the customer's credits of that template, whatever we had counted."""
from __future__ import annotations

import logging
from typing import Callable, Protocol

from ..domain.error_codes import ErrorCode
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.model import Order
from ..domain.notifications import (MAX_ACCEPTED, MAX_TEMPLATE_ID, Event, MessageStatus, SendOutcome,
                                    SentMessage, SubscribeMessage, Template, page_for, pickup_ready_values,
                                    refund_result_values, reminder_day_due, session_cancelled_values,
                                    session_reminder_values, sessions_by_day, shipped_values, status_after,
                                    subject_of, template_data, ticket_issued_values)
from ..domain.subscription_prompts import StageTemplate, stage_template
from ..domain.tickets import Ticket, TicketStatus
from . import ports
from .context import Actor
from .publishing import Publishing, announce_message

log = logging.getLogger("micromall.notifications")

_VALUES: dict[Event, Callable[[Order], dict[str, object]]] = {
    Event.TICKET_ISSUED: ticket_issued_values, Event.PICKUP_READY: pickup_ready_values, Event.SHIPPED: shipped_values}


class Notifying(Publishing, Protocol):
    @property
    def notifications(self) -> ports.NotificationStore: ...
    @property
    def messenger(self) -> ports.Messenger: ...
    @property
    def templates(self) -> Callable[[Event], Template]: ...
    @property
    def orders(self) -> ports.OrderStore: ...
    @property
    def audit(self) -> ports.AuditTrail: ...
    @property
    def refunds(self) -> ports.RefundStore: ...
    @property
    def tickets(self) -> ports.TicketStore: ...
    @property
    def session_cancellations(self) -> ports.SessionCancellationStore: ...
    @property
    def venue_timezone(self) -> str: ...


def subscribe(ctx: Notifying, actor: Actor, accepted: list[str]) -> dict[str, int]:
    """What wx.requestSubscribeMessage reported accepted: a credit each, for this shop's templates."""
    if len(accepted) > MAX_ACCEPTED or any(not t or len(t) > MAX_TEMPLATE_ID for t in accepted):
        raise InvalidInput(f"at most {MAX_ACCEPTED} template ids", field="accepted")
    ours = {ctx.templates(event).template_id for event in Event} - {""}
    if any(t not in ours for t in accepted):
        raise InvalidInput("not a template of this shop's messages", field="accepted")
    if not actor.principal.openid:
        raise InvalidInput("a customer signed in through WeChat subscribes", field="accepted")
    # The store keeps at most MAX_CREDITS of a template: calling again and again mints no more.
    return ctx.notifications.add_credits(actor.name, actor.principal.openid, accepted) if accepted else {}


def send(ctx: Notifying, order_id: str, event: Event, key: str | None = None) -> MessageStatus | None:
    """The worker's step: the order's message of the event (`key`: a resend's own), once.
    None when it was claimed before (a redelivery) or the order is unknown."""
    found = ctx.orders.get(order_id)
    if found is None:
        log.warning("a %s message for an order that does not exist: %s", event, order_id)
        return None
    order, template = found[0], ctx.templates(event)
    if event is Event.TICKET_ISSUED:            # kept first: a redelivery finds them kept (the puts are idempotent)
        keep_reminders(ctx, order_id, sessions_by_day(order, ctx.venue_timezone))
    if event is Event.SESSION_REMINDER and _admitting(ctx, order_id, subject_of(key or "")) is None:
        return None
    if not ctx.notifications.claim_message(order_id, key or event.value, event, template.template_id, ctx.clock()):
        return None
    try:
        status, error = _deliver(ctx, order, event, template, key or event.value)
    except Exception as failed:           # claimed: never tried again, so recorded as it stands
        log.exception("the %s message of order %s failed", event, order_id)
        status, error = MessageStatus.FAILED, f"not sent: {type(failed).__name__}"
    ctx.notifications.finish_message(order_id, key or event.value, status, ctx.clock(), error)
    ctx.metrics.count("SubscribeMessages", event=event.value, status=status.value)
    return status


def _deliver(ctx: Notifying, order: Order, event: Event, template: Template,
             key: str) -> tuple[MessageStatus, str | None]:
    if not template.template_id:
        return MessageStatus.FAILED, "no template configured for this event"
    credits, openid = ctx.notifications.credit(order.user_id, template.template_id)
    if credits <= 0 or not openid:
        return MessageStatus.SKIPPED_NO_SUBSCRIPTION, None
    data = template_data(event, _values(ctx, order, event, subject_of(key)), ctx.venue_timezone)
    result = ctx.messenger.send(SubscribeMessage(openid, template.template_id, page_for(template, order.order_id), data))
    if result.outcome is SendOutcome.ACCEPTED:
        ctx.notifications.spend_credit(order.user_id, template.template_id)
    elif result.outcome is SendOutcome.NO_SUBSCRIPTION:
        ctx.notifications.drop_credits(order.user_id, template.template_id)
    return status_after(result.outcome), result.error


def _admitting(ctx: Notifying, order_id: str, subject: list[str]) -> Ticket | None:
    """The order's valid ticket of the session a reminder is about: none once refunded or moved."""
    return next((t for t in ctx.tickets.of_order(order_id)
                 if subject and t.sku_id == subject[0] and t.status is TicketStatus.VALID), None)


def keep_reminders(ctx: Notifying, order_id: str, days: dict[str, list[str]]) -> None:
    """The order's sessions by venue day, kept to be reminded of the day before. A session of the
    day whose reminders are being sent already (a ticket bought, or moved into it, after 10:00 the
    day before) is announced at once: the day's run may have read its list before this was kept."""
    due = reminder_day_due(ctx.clock(), ctx.venue_timezone)
    for day, sku_ids in days.items():
        ctx.notifications.add_reminders(day, order_id, sku_ids)
        if day == due and ctx.notifications.reminding_started(day):
            for sku_id in sku_ids:
                announce_message(ctx, order_id, Event.SESSION_REMINDER, sku_id)


def remind_tomorrow(ctx: Notifying) -> int:
    """The schedule's job: once a day from REMINDER_HOUR, every session of tomorrow kept at its
    tickets' issue is queued to be reminded of. The day is marked started before its list is read,
    so a session kept meanwhile is announced by whoever keeps it (keep_reminders); queued again
    only if this run stopped before the day was marked done; each message is still sent at most
    once (its claim)."""
    day = reminder_day_due(ctx.clock(), ctx.venue_timezone)
    if day is None or ctx.notifications.reminded(day):
        return 0
    ctx.notifications.start_reminding(day, ctx.clock())
    due = ctx.notifications.reminders_of(day)
    for order_id, sku_id in due:
        announce_message(ctx, order_id, Event.SESSION_REMINDER, sku_id)
    ctx.notifications.mark_reminded(day, ctx.clock())
    return len(due)


def _values(ctx: Notifying, order: Order, event: Event, subject: list[str]) -> dict[str, object]:
    """The message's values: the order's, and what the message is about (a refund, a session)."""
    if event is Event.REFUND_RESULT and len(subject) >= 2:
        refund = ctx.refunds.get(subject[0])
        reason = (refund.reject_reason or refund.reason) if refund is not None else ""
        return refund_result_values(order, subject[1], refund.amount if refund is not None else 0, reason)
    if event is Event.SESSION_REMINDER:
        return session_reminder_values(order, _admitting(ctx, order.order_id, subject))
    if event is Event.SESSION_CANCELLED and subject:
        cancellation = ctx.session_cancellations.get(subject[0])
        return session_cancelled_values(order, subject[0], cancellation.reason if cancellation is not None else "")
    return _VALUES.get(event, lambda o: {"character_string1": o.order_id})(order)


def messages_of(ctx: Notifying, order_id: str) -> list[SentMessage]:
    if ctx.orders.get(order_id) is None:
        raise NotFound("no such order", code=ErrorCode.ORDER_NOT_FOUND, order_id=order_id)
    return ctx.notifications.messages_of(order_id)


def resend_tickets(ctx: Notifying, actor: Actor, order_id: str) -> str:
    """Staff send the tickets message again (queued, its own key); refused while the customer
    has no credit for it. Audited. Returns the message's key."""
    found = ctx.orders.get(order_id)
    if found is None:
        raise NotFound("no such order", code=ErrorCode.ORDER_NOT_FOUND, order_id=order_id)
    order = found[0]
    if not order.tickets_issued or all(t.status is not TicketStatus.VALID for t in ctx.tickets.of_order(order_id)):
        raise Conflict("the order holds no valid ticket", code=ErrorCode.INVALID_STATE, order_id=order_id)
    template = ctx.templates(Event.TICKET_ISSUED)
    if not template.template_id or ctx.notifications.credit(order.user_id, template.template_id)[0] <= 0:
        raise Conflict("the customer has no subscription for the tickets message", code=ErrorCode.NO_SUBSCRIPTION,
                       order_id=order_id)
    now = ctx.clock()
    key = f"{Event.TICKET_ISSUED.value}#resend#{now.strftime('%Y%m%dT%H%M%S%f')}"
    ctx.audit.record(actor.name, "order_tickets_resent", now, target=order_id, source_ip=actor.source_ip)
    ctx.messages.notify(order_id, Event.TICKET_ISSUED, key)
    return key



def stage_templates(ctx: Notifying) -> list[StageTemplate]:
    """Every event's template as this stage configured it, in the events' order."""
    return [stage_template(event, ctx.templates(event)) for event in Event]
