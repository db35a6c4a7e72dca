"""No account holds a session's stock without paying (恶意占库存): a customer's unpaid orders and
unpaid units of one SKU are bounded, checked by the order's own transaction, and freed by the
payment, the cancellation or the expiry of the order."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters.tables import OrderRecord

from .conftest import available, clock_ahead, expire_due, order_body, ticket_body


def holds(staff, user_id: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    r = staff("support").get(f"/admin/customers/{user_id}/holds")
    assert r.status_code == 200, r.body
    return r.json_body  # type: ignore[no-any-return]


def test_a_fourth_unpaid_order_is_refused_and_nothing_changes(customer, make_product, staff) -> None:  # type: ignore[no-untyped-def]
    product, (sku,) = make_product(ticket_body([300]))
    alice = customer()
    placed = [alice.post("/orders", order_body((sku, 1))) for _ in range(3)]
    assert [p.status_code for p in placed] == [201, 201, 201]
    fourth = alice.post("/orders", order_body((sku, 1)))
    assert fourth.status_code == 422 and fourth.json_body["code"] == "UNPAID_LIMIT"
    assert fourth.json_body["details"]["max_unpaid_orders"] == 3
    assert available(staff("admin"), product["product_id"], sku) == 297 and OrderRecord.count() == 3
    assert customer().post("/orders", order_body((sku, 1))).status_code == 201        # others are not held up
    user_id = OrderRecord.get(placed[0].json_body["order_id"]).user_id
    assert staff("support").get(f"/orders/{placed[0].json_body['order_id']}").json_body["user_id"] == user_id
    assert holds(staff, user_id) == {"user_id": user_id, "unpaid_orders": 3, "units": [{"sku_id": sku, "quantity": 3}],
                                     "max_unpaid_orders": 3, "max_unpaid_units_per_sku": 10}


def test_unpaid_units_of_one_sku_are_bounded_across_orders(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    _, (sku, other) = make_product(ticket_body([300, 300]))
    alice = customer()
    assert alice.post("/orders", order_body((sku, 6))).status_code == 201
    r = alice.post("/orders", order_body((sku, 5)))
    assert r.status_code == 422 and r.json_body["code"] == "UNPAID_LIMIT"
    assert alice.post("/orders", order_body((sku, 4), (other, 10))).status_code == 201
    alone = customer().post("/orders", order_body((sku, 11)))                   # can never pass alone
    assert alone.status_code == 422 and alone.json_body["code"] == "UNPAID_LIMIT"


def test_paying_cancelling_and_expiry_free_the_holds(customer, make_product, anonymous, staff) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.service_layer import schedule
    _, (sku,) = make_product(ticket_body([300]))
    alice = customer()
    orders = [alice.post("/orders", order_body((sku, 3))).json_body["order_id"] for _ in range(3)]
    user_id = OrderRecord.get(orders[0]).user_id
    assert anonymous.post(f"/dev/payments/{orders[0]}/succeed", {}).json_body["notify_status"] == 204
    assert alice.post(f"/orders/{orders[1]}/cancel").status_code == 200
    assert holds(staff, user_id)["unpaid_orders"] == 1 and holds(staff, user_id)["units"] == [
        {"sku_id": sku, "quantity": 3}]
    with clock_ahead(timedelta(minutes=16)) as later:
        expire_due(later)
    assert OrderRecord.get(orders[2]).status == "EXPIRED"
    assert holds(staff, user_id)["unpaid_orders"] == 0 and holds(staff, user_id)["units"] == []
    again = [alice.post("/orders", order_body((sku, 3))).status_code for _ in range(3)]
    assert again == [201, 201, 201]


def test_orders_from_before_the_limit_end_without_touching_the_holds(customer, make_product, staff) -> None:  # type: ignore[no-untyped-def]
    """Orders placed before this release hold nothing: cancelling one does not take from the
    customer's holds (which would let them hold more)."""
    _, (sku,) = make_product(ticket_body([300]))
    alice = customer()
    old = alice.post("/orders", order_body((sku, 2))).json_body["order_id"]
    OrderRecord(order_id=old).update(actions=[OrderRecord.holds_unpaid.remove()])
    assert alice.post(f"/orders/{old}/cancel").status_code == 200
    assert holds(staff, OrderRecord.get(old).user_id)["unpaid_orders"] == 1


def test_staff_only_and_bad_ids(customer, staff) -> None:  # type: ignore[no-untyped-def]
    assert customer().get("/admin/customers/U0123456789abcdef/holds").status_code == 403
    r = staff("support").get("/admin/customers/not-a-user/holds")
    assert r.status_code == 404 and r.json_body["code"] == "CUSTOMER_NOT_FOUND"
    assert staff("support").get("/admin/customers/U0123456789abcdef/holds").json_body["unpaid_orders"] == 0


def test_an_expiry_message_delivered_again_expires_its_order_once(customer, make_product, staff) -> None:  # type: ignore[no-untyped-def]
    """SQS delivers at least once: the same expiry message handled twice (a worker timing out
    after it wrote) changes nothing the second time: stock, holds and the ledger move once."""
    import boto3

    import app as app_module
    from chalicelib.service_layer import schedule
    from local.aws_resources import sqs_event
    product, (sku,) = make_product(ticket_body([10]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 3))).json_body
    with clock_ahead(timedelta(minutes=16)) as later:
        assert schedule.dispatch_due_expiries(later) == 1
        assert schedule.dispatch_due_expiries(later) == 1          # the next minute's run: deduplicated
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.get_queue_url(QueueName="micromall-test-expiry.fifo")["QueueUrl"]
        (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
        event = sqs_event("arn:aws:sqs:us-east-1:123456789012:micromall-test-expiry.fifo", [message], "us-east-1")
        for _ in range(2):
            assert app_module.expiry_worker(event, None) == {"batchItemFailures": []}
    assert OrderRecord.get(order["order_id"]).status == "EXPIRED"
    assert available(staff("admin"), product["product_id"], sku) == 10
    assert holds(staff, OrderRecord.get(order["order_id"]).user_id)["unpaid_orders"] == 0
