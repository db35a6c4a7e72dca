"""SQS queues (refunds, alerts, expiry) and the SNS alerts topic."""
from __future__ import annotations

import functools
import json
import time
from typing import Any

from ..service_layer.queue_messages import MessageType
from . import aws

HOT_RESEND_SECONDS = 60.0


class SqsMessages:
    """Publishes the work of the refund and alert workers. Queue URLs are looked up once per
    container from the names the decorators in app.py listen on."""

    def __init__(self, refunds_queue: str, alerts_queue: str, region: str, expiry_queue: str = "",
                 notifications_queue: str = "") -> None:
        self._names = {"refunds": refunds_queue, "alerts": alerts_queue, "expiry": expiry_queue,
                       "notifications": notifications_queue}
        self._region = region
        self._hot_sent: dict[str, float] = {}

    @functools.cached_property
    def _sqs(self) -> Any:
        return aws.client("sqs", self._region)

    @functools.lru_cache(maxsize=8)
    def _url(self, queue: str) -> str:
        return str(self._sqs.get_queue_url(QueueName=self._names[queue])["QueueUrl"])

    def _send(self, queue: str, body: dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=self._url(queue), MessageBody=json.dumps(body, ensure_ascii=False))

    def orders_due(self, order_ids: list[str]) -> None:
        """Unpaid orders past their expiry, for the expiry workers. A FIFO queue deduplicates by
        order id for five minutes, so the schedule may hand out everything due every minute
        without queueing an order twice while a worker has it; each order is its own group, so
        workers take them in parallel."""
        for start in range(0, len(order_ids), 10):
            self._sqs.send_message_batch(QueueUrl=self._url("expiry"), Entries=[
                {"Id": str(i), "MessageBody": json.dumps({"order_id": order_id}), "MessageGroupId": order_id,
                 "MessageDeduplicationId": order_id}
                for i, order_id in enumerate(order_ids[start:start + 10])])

    def refund_approved(self, refund_id: str) -> None:
        self._send("refunds", {"refund_id": refund_id})

    def stock_changed(self, sku_ids: list[str]) -> None:
        if sku_ids:
            self._send("alerts", {"type": MessageType.STOCK_CHANGED, "sku_ids": sorted(set(sku_ids))})

    def stock_hot(self, sku_ids: list[str]) -> None:
        """At most one message a SKU a minute from this container: a saturated session throttles
        hundreds of orders a second, and one message is enough to split it."""
        now = time.monotonic()
        fresh = [s for s in sorted(set(sku_ids)) if now - self._hot_sent.get(s, -HOT_RESEND_SECONDS) >= HOT_RESEND_SECONDS]
        if fresh:
            self._send("alerts", {"type": MessageType.STOCK_HOT, "sku_ids": fresh})
            self._hot_sent.update({s: now for s in fresh})        # only once sent: a failed send is tried again

    def alert(self, kind: str, message: str, severity: str = "warning", **details: Any) -> None:
        self._send("alerts", {"type": MessageType.ALERT, "kind": kind, "message": message, "severity": severity,
                              "details": details})

    def session_cancellation_step(self, sku_id: str, delay_seconds: int = 0) -> None:
        """The next step of a cancelled session's work, for the back-office queue (later, when
        it waits for orders that cannot be settled yet)."""
        self._sqs.send_message(QueueUrl=self._url("alerts"), DelaySeconds=min(max(delay_seconds, 0), 900),
                               MessageBody=json.dumps({"type": MessageType.SESSION_CANCELLATION, "sku_id": sku_id}))

    def notify(self, order_id: str, event: str, key: str) -> None:
        """An order's subscribe message of an event, for the notifications worker."""
        self._send("notifications", {"order_id": order_id, "event": str(event), "key": key})

    def code_redeemed(self, order_id: str) -> None:
        """The back-office queue also completes orders whose every code has been used."""
        self._send("alerts", {"type": MessageType.CODE_REDEEMED, "order_id": order_id})


class SnsNotifier:
    """Operations subscribe to the topic by e-mail or SMS."""

    def __init__(self, topic_arn: str | None, region: str) -> None:
        self._topic_arn, self._region = topic_arn, region

    def publish(self, subject: str, message: str) -> None:
        if not self._topic_arn:
            return
        aws.client("sns", self._region).publish(
            TopicArn=self._topic_arn, Subject=subject[:99], Message=message)


def delay_retry(queue_arn: str, receipt_handle: str, seconds: int, region: str) -> None:
    """Backoff for a failed message: it becomes visible again only after `seconds`."""
    parts = queue_arn.split(":")
    sqs = aws.client("sqs", region)
    url = sqs.get_queue_url(QueueName=parts[-1], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=min(seconds, 43000))
