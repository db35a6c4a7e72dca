"""Subscribe messages (订阅消息) against the running stack (API.md "Notifications"; DESIGN.md
invariant 16): a customer who accepted the tickets template gets the ticket message once the order
is paid, through the notifications queue, in the local WeChat sandbox; the same queue message
delivered again (as SQS may) sends nothing more, and a customer without a subscription gets none."""
from __future__ import annotations

import json
import time
from typing import Any

import boto3
import requests

from .conftest import Site, order, ticket_product, wait_for

TICKETS = "local-ticket_issued"


def sandbox_sends(url: str, order_id: str) -> list[dict[str, Any]]:
    """What the local WeChat received for this order's tickets (its page names the order)."""
    items = requests.get(url + "/dev/wechat/messages", timeout=30).json()["items"]
    return [m for m in items if m["template_id"] == TICKETS and order_id in (m.get("page") or "")]


def messages(site: Site, order_id: str) -> list[dict[str, Any]]:
    """The order's messages once each is decided (a claimed one reads FAILED "interrupted" until
    WeChat has answered: what staff would see if the worker died there)."""
    items = site.admin.get(f"/admin/orders/{order_id}/messages").json()["items"]
    return [] if any(m.get("error") == "interrupted" for m in items) else items


def test_a_paid_order_sends_its_tickets_message_once_even_when_the_queue_delivers_it_again(
        site: Site, stack: dict[str, str]) -> None:
    _, (sku,) = ticket_product(site.admin, [10])
    alice, bob = site.customers(2)
    assert alice.post("/me/subscriptions", {"accepted": [TICKETS]}).json()["credits"] == {TICKETS: 1}
    placed = [c.post("/orders", order((sku, 1))).json()["order_id"] for c in (alice, bob)]
    for order_id in placed:
        assert site.pay(order_id).json()["notify_status"] == 204
    sent = wait_for(lambda: [m for m in messages(site, placed[0]) if m["event"] == "ticket_issued"], seconds=30)
    assert [m["status"] for m in sent] == ["SENT"], sent
    assert len(sandbox_sends(stack["url"], placed[0])) == 1
    skipped = wait_for(lambda: messages(site, placed[1]), seconds=30)
    assert [(m["event"], m["status"]) for m in skipped] == [("ticket_issued", "SKIPPED_NO_SUBSCRIPTION")]
    # SQS delivers at least once: the same message again, as the app itself queued it.
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=stack["moto"], aws_access_key_id="local",
                       aws_secret_access_key="local")
    url = sqs.get_queue_url(QueueName="micromall-local-notifications")["QueueUrl"]
    body = {"order_id": placed[0], "event": "ticket_issued", "key": "ticket_issued"}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))

    def handled() -> bool:                                # received and deleted by the worker
        found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return found["ApproximateNumberOfMessages"] == found["ApproximateNumberOfMessagesNotVisible"] == "0"
    time.sleep(1)
    assert wait_for(handled, seconds=30)
    assert len(sandbox_sends(stack["url"], placed[0])) == 1
    assert [m["status"] for m in messages(site, placed[0]) if m["event"] == "ticket_issued"] == ["SENT"]
