"""Notifications (订阅消息) through the app on moto and the WeChat messaging sandbox: credits from
/me/subscriptions, the tickets message queued when an order's tickets are issued and sent by the
queue's worker at most once whatever is redelivered, a credit spent only by a send WeChat
accepted, 43101 dropping it, an order's messages for staff, and the audited resend."""
from __future__ import annotations

import boto3

from chalicelib import bootstrap
from chalicelib.adapters.notification_records import NotificationRecord
from chalicelib.adapters.wechat_messages_sandbox import SandboxMessages
from chalicelib.domain.notifications import Event
from chalicelib.service_layer import notifications

from .conftest import Api, order_body, ticket_body

TICKETS = "local-ticket_issued"
QUEUE = "micromall-test-notifications"


def deliver_messages() -> int:
    import app as app_module
    from local.aws_resources import deliver_once
    moved = 0
    while n := deliver_once(QUEUE, app_module.notifications_worker, "us-east-1"):
        moved += n
    return moved


def paid_order(customer: Api, anonymous: Api, make_product, quantity: int = 2) -> str:  # type: ignore[no-untyped-def]
    _, skus = make_product(ticket_body([10]))
    order = customer.post("/orders", order_body((skus[0], quantity))).json_body
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
    return str(order["order_id"])


def received(anonymous: Api) -> list[dict]:  # type: ignore[type-arg]
    return list(anonymous.get("/dev/wechat/messages").json_body["items"])


def credits(customer: Api, *templates: str) -> dict[str, int]:
    r = customer.post("/me/subscriptions", {"accepted": list(templates)})
    assert r.status_code == 200, r.body
    return dict(r.json_body["credits"])


def messages(staff: Api, order_id: str) -> list[dict]:  # type: ignore[type-arg]
    r = staff.get(f"/admin/orders/{order_id}/messages")
    assert r.status_code == 200, r.body
    return list(r.json_body["items"])


def test_subscriptions_count_one_credit_per_acceptance(customer, anonymous) -> None:  # type: ignore[no-untyped-def]
    alice = customer("alice-openid")
    assert credits(alice, TICKETS) == {TICKETS: 1}
    assert credits(alice, TICKETS, TICKETS, "local-refund_result") == {TICKETS: 3, "local-refund_result": 1}
    assert alice.post("/me/subscriptions", {"accepted": ["someone-elses-template"]}).status_code == 400
    assert alice.post("/me/subscriptions", {"accepted": "x"}).status_code == 400
    assert anonymous.post("/me/subscriptions", {"accepted": [TICKETS]}).status_code == 401


def test_issued_tickets_send_one_message_and_spend_one_credit(customer, anonymous, make_product,
                                                               staff) -> None:  # type: ignore[no-untyped-def]
    alice = customer("alice-openid")
    credits(alice, TICKETS, TICKETS)
    order_id = paid_order(alice, anonymous, make_product)
    assert deliver_messages() == 1
    [sent] = received(anonymous)
    assert sent["touser"] == "alice-openid" and sent["template_id"] == TICKETS
    assert sent["page"] == f"pages/tickets/index?order_id={order_id}"
    assert sent["data"]["number3"] == {"value": "2"} and sent["data"]["character_string4"] == {"value": order_id}
    assert len(sent["data"]["thing1"]["value"]) <= 20
    assert credits(alice) == {} and notifications_left("alice", order_id) == 1
    [item] = messages(staff("support"), order_id)
    assert item["event"] == "ticket_issued" and item["status"] == "SENT" and "error" not in item


def notifications_left(_: str, order_id: str) -> int:
    ctx = bootstrap.context()
    order = ctx.orders.get(order_id)[0]  # type: ignore[index]
    return ctx.notifications.credit(order.user_id, TICKETS)[0]


def test_a_redelivered_event_sends_nothing_more(customer, anonymous, make_product) -> None:  # type: ignore[no-untyped-def]
    alice = customer("alice-openid")
    credits(alice, TICKETS, TICKETS, TICKETS)
    order_id = paid_order(alice, anonymous, make_product)
    ctx = bootstrap.context()
    for _ in range(3):                                   # SQS delivering the same event again
        ctx.messages.notify(order_id, Event.TICKET_ISSUED, Event.TICKET_ISSUED.value)
    deliver_messages()
    assert len(received(anonymous)) == 1 and notifications_left("alice", order_id) == 2
    assert notifications.send(ctx, order_id, Event.TICKET_ISSUED) is None


def test_without_a_credit_nothing_is_sent_and_it_is_recorded_skipped(customer, anonymous, make_product,
                                                                       staff) -> None:  # type: ignore[no-untyped-def]
    alice = customer("alice-openid")
    order_id = paid_order(alice, anonymous, make_product)
    deliver_messages()
    assert received(anonymous) == []
    assert [m["status"] for m in messages(staff("admin"), order_id)] == ["SKIPPED_NO_SUBSCRIPTION"]
    r = staff("support").post(f"/admin/orders/{order_id}/resend-tickets")
    assert r.status_code == 409 and r.json_body["code"] == "NO_SUBSCRIPTION"


def test_43101_drops_the_credit_and_other_refusals_keep_it(customer, anonymous, make_product,
                                                            staff) -> None:  # type: ignore[no-untyped-def]
    alice = customer("alice-openid")
    credits(alice, TICKETS, TICKETS)
    assert anonymous.post("/dev/wechat/messages/outcomes", {"outcomes": ["47003"]}).status_code == 200
    first = paid_order(alice, anonymous, make_product)
    deliver_messages()
    [failed] = messages(staff("admin"), first)
    assert failed["status"] == "FAILED" and failed["error"].startswith("47003")
    assert notifications_left("alice", first) == 2              # not accepted: no credit spent
    anonymous.post("/dev/wechat/messages/outcomes", {"outcomes": ["43101"]})
    second = paid_order(alice, anonymous, make_product)
    deliver_messages()
    assert [m["status"] for m in messages(staff("admin"), second)] == ["SKIPPED_NO_SUBSCRIPTION"]
    assert notifications_left("alice", second) == 0             # WeChat's word: none left
    assert received(anonymous) == []
    assert anonymous.post("/dev/wechat/messages/outcomes", {"outcomes": ["maybe"]}).status_code == 400


def test_resend_is_queued_audited_and_sent_once(customer, anonymous, make_product, staff,
                                                admin) -> None:  # type: ignore[no-untyped-def]
    alice = customer("alice-openid")
    credits(alice, TICKETS, TICKETS)
    order_id = paid_order(alice, anonymous, make_product)
    deliver_messages()
    support = staff("support", username="helpdesk")
    r = support.post(f"/admin/orders/{order_id}/resend-tickets")
    assert r.status_code == 202 and r.json_body["order_id"] == order_id
    deliver_messages()
    assert len(received(anonymous)) == 2
    assert [m["status"] for m in messages(support, order_id)] == ["SENT", "SENT"]
    assert notifications_left("alice", order_id) == 0
    audit = admin.get("/admin/audit?action=order_tickets_resent").json_body["items"]
    assert [(a["actor"], a["target"]) for a in audit] == [("helpdesk", order_id)]
    assert support.post("/admin/orders/nope-000000/resend-tickets").status_code == 404
    assert staff("scanner").get(f"/admin/orders/{order_id}/messages").status_code == 403


def test_the_token_is_fetched_once_for_every_message(customer, anonymous, make_product) -> None:  # type: ignore[no-untyped-def]
    alice = customer("alice-openid")
    credits(alice, TICKETS, TICKETS, TICKETS)
    for _ in range(3):
        paid_order(alice, anonymous, make_product, quantity=1)
    deliver_messages()
    messenger = bootstrap.context().messenger
    assert isinstance(messenger, SandboxMessages)
    assert len(messenger.peer.received) == 3 and messenger.peer.token_fetches == 1
    stored = NotificationRecord.get("token#wxlocalsandbox00001", "-").token
    assert stored and stored != messenger.access_token()                     # sealed at rest
    fresh = SandboxMessages("wxlocalsandbox00001", lambda: "-", peer=messenger.peer,
                            sealer=bootstrap.context().cipher)              # another container
    assert fresh.access_token() == messenger.access_token() and messenger.peer.token_fetches == 1


def test_the_notifications_queue_has_a_dead_letter_queue() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    assert "RedrivePolicy" in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_shipped_goods_send_the_shipped_message(customer, anonymous, make_product,
                                                 staff) -> None:  # type: ignore[no-untyped-def]
    from .conftest import merch_body
    alice = customer("alice-openid")
    credits(alice, "local-shipped")
    _, (sku,) = make_product(merch_body([5]))
    address = {"recipient": "Alice", "phone": "13900000000", "region": "Beijing", "detail": "1 Palace Rd"}
    order = alice.post("/orders", order_body((sku, 1), fulfillment="shipping", address=address)).json_body
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    r = staff("support").post(f"/admin/orders/{order['order_id']}/ship", {"carrier": "SF", "tracking_no": "SF123"})
    assert r.status_code == 200
    deliver_messages()
    [sent] = received(anonymous)
    assert sent["template_id"] == "local-shipped" and sent["data"]["character_string3"] == {"value": "SF123"}
    assert sent["page"] == f"pages/orders/detail?order_id={order['order_id']}"
    assert [m["event"] for m in messages(staff("admin"), order["order_id"])] == ["shipped"]
