"""The non-HTTP entry points' plumbing: SQS batches through Powertools' BatchProcessor with
partial batch failure reporting (only the failed messages come back), DynamoDB stream batches
into the back office's figures (a failure reports the first record not counted, and the stream
sends it and those after it again), and the schedule."""
from __future__ import annotations

import contextvars
import json
import logging
from typing import Any, Callable

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from .. import config, observability
from ..adapters.change_stream import changes
from ..adapters.messaging import delay_retry
from ..bootstrap import context
from ..domain.notifications import Event
from ..service_layer import (alerts, figures, inventory, notifications, orders, refund_settlement, schedule,
                             session_cancellation)
from ..service_layer.context import Context
from ..service_layer.queue_messages import MessageType

log = logging.getLogger("micromall.events")


def _attempt(record: SQSRecord) -> int:
    return int(record.attributes.approximate_receive_count or 1)


def _back_off(record: SQSRecord) -> None:
    """Exponential backoff between attempts: base, 2x base, 4x base, ..."""
    seconds = config.settings().retry_base_seconds * 2 ** (_attempt(record) - 1)
    try:
        delay_retry(record.event_source_arn, record.receipt_handle, seconds, config.settings().region)
    except Exception:
        log.exception("could not delay the retry of message %s", record.message_id)


def _refund_record(record: SQSRecord) -> None:
    try:
        refund_id = str(json.loads(record.body)["refund_id"])
        observability.correlate(refund_id=refund_id, message_id=record.message_id)
        refund_settlement.process_refund(context(), refund_id, _attempt(record))
    except Exception:
        _back_off(record)
        raise


_checked: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("checked", default=None)


def _stock_changed(ctx: Context, body: dict[str, Any], record: SQSRecord) -> None:
    for sku_id in map(str, body.get("sku_ids", [])[:100]):
        # One check per SKU and batch: it reads the stock as it is now, which covers every
        # change announced before it (a hot sharded SKU announces each of its orders).
        checked = _checked.get()
        if checked is None or sku_id not in checked:
            alerts.check_low_stock(ctx, sku_id)
            if checked is not None:
                checked.add(sku_id)


def _stock_hot(ctx: Context, body: dict[str, Any], record: SQSRecord) -> None:
    for sku_id in map(str, body.get("sku_ids", [])[:100]):
        inventory.split_hot_stock(ctx, sku_id)


def _code_redeemed(ctx: Context, body: dict[str, Any], record: SQSRecord) -> None:
    orders.complete_if_all_used(ctx, str(body.get("order_id", "")))


def _alert(ctx: Context, body: dict[str, Any], record: SQSRecord) -> None:
    # Keyed by the queue message id: a redelivered message stores and sends nothing new.
    alerts.raise_alert(ctx, "M" + record.message_id, str(body.get("kind", "other")),
                       str(body.get("severity", "warning")), str(body.get("message", "")),
                       dict(body.get("details") or {}))


def _session_cancellation(ctx: Context, body: dict[str, Any], record: SQSRecord) -> None:
    # A failure (raised) brings the message back: the step resumes from the saved cursor.
    sku_id = str(body.get("sku_id", ""))[:80]
    observability.correlate(sku_id=sku_id, message_id=record.message_id)
    session_cancellation.run_step(ctx, sku_id)


_HANDLERS: dict[MessageType, Callable[[Context, dict[str, Any], SQSRecord], None]] = {
    MessageType.STOCK_CHANGED: _stock_changed, MessageType.STOCK_HOT: _stock_hot,
    MessageType.CODE_REDEEMED: _code_redeemed, MessageType.ALERT: _alert,
    MessageType.SESSION_CANCELLATION: _session_cancellation,
}


def _alert_record(record: SQSRecord) -> None:
    """The back-office queue: low-stock checks, alerts to keep and send, orders to complete.
    A message of a type no handler knows is logged and dropped: sending it again would not help."""
    ctx, body = context(), json.loads(record.body)
    kind = body.get("type")
    handler = _HANDLERS.get(kind) if isinstance(kind, str) else None    # a list is unknown, not a failure
    if handler is None:
        log.warning("unknown alerts message type %r", kind)
        return
    handler(ctx, body, record)


def _processor() -> BatchProcessor:
    # A batch whose every record failed is reported like any other: as item failures, not as a
    # Lambda error (which would page operations for what the retries already handle).
    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _expiry_record(record: SQSRecord) -> None:
    """An unpaid order past its expiry: asked at WeChat, closed, then expired (or confirmed paid).
    A failure comes back with the message, and after the last attempt goes to the dead letters."""
    order_id = str(json.loads(record.body)["order_id"])
    observability.correlate(order_id=order_id, message_id=record.message_id)
    schedule.expire_order(context(), order_id)


def _notification_record(record: SQSRecord) -> None:
    """An order's subscribe message. Sent at most once whatever is redelivered: the send claims
    the message first, and a failure after the claim is recorded FAILED, not retried."""
    body = json.loads(record.body)
    order_id = str(body.get("order_id", ""))[:64]
    try:
        event = Event(str(body.get("event")))
    except ValueError:
        log.warning("unknown notification event %r", body.get("event"))
        return
    observability.correlate(order_id=order_id, message_id=record.message_id)
    notifications.send(context(), order_id, event, str(body.get("key") or event.value)[:120])


def notifications_batch(event: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=_notification_record, processor=_processor(),
                                    context=lambda_context)


def expiry_batch(event: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=_expiry_record, processor=_processor(),
                                    context=lambda_context)


def refunds_batch(event: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=_refund_record,
                                    processor=_processor(), context=lambda_context)


def alerts_batch(event: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
    token = _checked.set(set())
    try:
        return process_partial_response(event=event, record_handler=_alert_record,
                                        processor=_processor(), context=lambda_context)
    finally:
        _checked.reset(token)


def every_minute() -> dict[str, int]:
    return schedule.run(context())


def stream_batch(event: dict[str, Any]) -> dict[str, Any]:
    """A batch of one table's stream, counted into the figures."""
    batch = changes(list(event.get("Records") or []))
    try:
        counted = figures.count_changes(context(), batch)
    except figures.NotCounted as stopped:
        return {"batchItemFailures": [{"itemIdentifier": stopped.change.position}]}
    context().metrics.count("FiguresCounted", counted)
    return {"batchItemFailures": []}
