"""Best-effort messages to the workers. A lost message delays work, it never breaks the use case
that sent it: low-stock checks are re-triggered by the next stock change, and approved refunds
whose message went missing are re-sent by the schedule's sweep."""
from __future__ import annotations

import logging
from typing import Protocol

from ..domain.notifications import Event, message_key
from . import ports

log = logging.getLogger("micromall.publishing")


class Publishing(Protocol):
    """Every use case that publishes also counts and reads the clock."""
    @property
    def messages(self) -> ports.Messages: ...
    @property
    def metrics(self) -> ports.Metrics: ...
    @property
    def clock(self) -> ports.Clock: ...


def announce_stock_change(ctx: Publishing, sku_ids: list[str]) -> None:
    """Wakes the alerts worker to raise or re-arm low-stock alerts."""
    if not sku_ids:
        return
    try:
        ctx.messages.stock_changed(sku_ids)
    except Exception:
        log.exception("could not announce a stock change")


def announce_hot_stock(ctx: Publishing, sku_ids: list[str]) -> None:
    """Asks the alerts worker to split a SKU whose one stock item throttles orders."""
    if not sku_ids:
        return
    try:
        ctx.messages.stock_hot(sku_ids)
    except Exception:
        log.exception("could not announce a hot SKU")


def enqueue_refund(ctx: Publishing, refund_id: str) -> None:
    try:
        ctx.messages.refund_approved(refund_id)
    except Exception:
        log.exception("could not enqueue refund %s; the schedule's sweep will", refund_id)


def announce_redemption(ctx: Publishing, order_id: str) -> None:
    """Lets the back-office worker complete the order once all its codes are used."""
    try:
        ctx.messages.code_redeemed(order_id)
    except Exception:
        log.exception("could not announce a redemption of order %s", order_id)


def send_alert(ctx: Publishing, kind: str, message: str, severity: str = "warning", **details: object) -> None:
    try:
        ctx.messages.alert(kind, message, severity=severity, **details)
    except Exception:
        log.exception("could not send a %s alert", kind)


def announce_message(ctx: Publishing, order_id: str, event: Event, *subject: str) -> None:
    """Queues the customer's subscribe message of an order's event (about `subject`: a refund and
    its end, a session). One lost here is not sent: a message goes out at most once (invariant
    16), never at the cost of the use case."""
    try:
        ctx.messages.notify(order_id, event, message_key(event, *subject))
    except Exception:
        log.exception("could not queue the %s message of order %s", event, order_id)


def announce_refund_result(ctx: Publishing, refund_id: str, order_id: str, status: str) -> None:
    """A refund ended (SUCCEEDED, FAILED, REJECTED): its customer's message, one for each end."""
    announce_message(ctx, order_id, Event.REFUND_RESULT, refund_id, status)
