"""The queues and topic of the local stack (and of the API tests), as infra/ declares them for AWS."""
from __future__ import annotations

import json
from typing import Any

import boto3


def create_queues_and_topic(prefix: str, max_receive_count: int, region: str) -> dict[str, str]:
    """Refunds, alerts and notifications queues, each with a dead-letter queue, and the alerts topic. Returns the
    environment the app reads them from."""
    sqs = boto3.client("sqs", region_name=region)
    names: dict[str, str] = {}
    for queue in ("refunds", "alerts", "notifications"):
        dlq_url = sqs.create_queue(QueueName=f"{prefix}{queue}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.create_queue(QueueName=f"{prefix}{queue}", Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)})})
        names[queue] = f"{prefix}{queue}"
    # Expiry: FIFO, deduplicated by order id (the schedule hands out everything due every minute).
    fifo = {"FifoQueue": "true", "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    dlq_url = sqs.create_queue(QueueName=f"{prefix}expiry-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(QueueName=f"{prefix}expiry.fifo", Attributes={
        **fifo, "VisibilityTimeout": "30",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)})})
    topic = boto3.client("sns", region_name=region).create_topic(Name=f"{prefix}alerts")["TopicArn"]
    return {"REFUNDS_QUEUE_NAME": names["refunds"], "ALERTS_QUEUE_NAME": names["alerts"],
            "NOTIFICATIONS_QUEUE_NAME": names["notifications"],
            "EXPIRY_QUEUE_NAME": f"{prefix}expiry.fifo",
            "ALERTS_TOPIC_ARN": topic, "REFUND_MAX_ATTEMPTS": str(max_receive_count)}


def sqs_event(queue_arn: str, messages: list[dict[str, Any]], region: str) -> dict[str, Any]:
    """The Lambda event that SQS's event source mapping would deliver for these messages."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": {"ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                       "SentTimestamp": m.get("Attributes", {}).get("SentTimestamp", "0"),
                       "SenderId": "local", "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": region} for m in messages]}


class QueuePoller:
    """Polls one queue as Lambda's event source mapping does: hands what it receives to the
    handler, deletes what the handler did not report as failed. Its client, the queue's URL and
    ARN are looked up once (the pump's pollers run for the life of the stack)."""

    def __init__(self, queue_name: str, handler: Any, region: str) -> None:
        self._handler, self._region = handler, region
        self._sqs = boto3.client("sqs", region_name=region)
        self._url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self._arn = self._sqs.get_queue_attributes(QueueUrl=self._url,
                                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def deliver_once(self, wait_seconds: int = 0) -> int:
        """One poll; how many messages were handed over."""
        received = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
                                             AttributeNames=["All"]).get("Messages", [])
        if not received:
            return 0
        failed: set[str] = set()
        try:
            answer = self._handler(sqs_event(self._arn, received, self._region), None) or {}
            failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        except Exception:
            failed = {m["MessageId"] for m in received}      # the whole batch comes back, as in Lambda
            raise
        finally:
            done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)
                    if m["MessageId"] not in failed]
            if done:
                self._sqs.delete_message_batch(QueueUrl=self._url, Entries=done)
        return len(received)


def deliver_once(queue_name: str, handler: Any, region: str, wait_seconds: int = 0) -> int:
    """One poll of a queue (the tests' way: queues are made afresh under each test's mock)."""
    return QueuePoller(queue_name, handler, region).deliver_once(wait_seconds)
