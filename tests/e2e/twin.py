"""A twin of the running stack's API for negative controls: the same app code, serving the same
tables of the same embedded AWS, with one protection removed in-process (a write's condition
dropped, or the transaction split into separate writes). The race tests fire the very same
harness at it and show the invariant then breaks: the app's own protection is what holds it.

    python -m tests.e2e.twin --port 8123 --moto http://127.0.0.1:5000 --remove sku-condition
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]


def _drop_conditions(*tags: str) -> None:
    """The unit of work keeps writes tagged `tags` (a tag ending in ':' is a prefix) but sends
    them without their ConditionExpression."""
    from chalicelib.adapters.unit_of_work import UnitOfWork

    def matches(tag: str) -> bool:
        return any(tag == t or (t.endswith(":") and tag.startswith(t)) for t in tags)

    put, update = UnitOfWork.put, UnitOfWork.update

    def put_without(self: Any, record: Any, condition: Any = None, tag: str = "") -> None:
        put(self, record, None if matches(tag) else condition, tag)

    def update_without(self: Any, record: Any, actions: Any, condition: Any = None, tag: str = "",
                       return_old_on_failure: bool = False) -> None:
        update(self, record, actions, None if matches(tag) else condition, tag,
               return_old_on_failure and not matches(tag))
    UnitOfWork.put, UnitOfWork.update = put_without, update_without  # type: ignore[method-assign]
    raw = UnitOfWork.raw

    def raw_without(self: Any, kind: str, request: dict[str, Any], tag: str = "") -> None:
        if matches(tag):
            request = {k: v for k, v in request.items() if k != "ConditionExpression"}
            used = request.get("UpdateExpression", "")
            request["ExpressionAttributeValues"] = {k: v for k, v in request.get("ExpressionAttributeValues", {}).items()
                                                    if k in used}
        raw(self, kind, request, tag)
    UnitOfWork.raw = raw_without  # type: ignore[method-assign]


def _separate_writes() -> None:
    """Each write of a unit of work is sent on its own, conditions kept: no all-or-nothing."""
    from pynamodb.constants import PUT_ITEM, UPDATE_ITEM
    from pynamodb.exceptions import VerboseClientError

    from chalicelib.adapters.dynamo import connection
    from chalicelib.adapters.unit_of_work import UnitOfWork
    from chalicelib.service_layer.ports import WriteRefused

    def commit(self: Any) -> None:
        failed = []
        for item, tag in zip(self.items, self.tags):
            kind, kwargs = next(iter(item.items()))
            try:
                connection().dispatch(PUT_ITEM if kind == "Put" else UPDATE_ITEM, kwargs)
            except VerboseClientError:
                failed.append(tag)
        if failed:
            raise WriteRefused(failed, False, {})
    UnitOfWork.commit = commit  # type: ignore[method-assign]


def _unconditional_redemption() -> None:
    """The scan's write keeps only "the code exists": no status or validity condition."""
    from chalicelib.adapters import ticket_repository
    ticket_repository.condition_of = lambda rule: ticket_repository.TicketRecord.code.exists()  # type: ignore[assignment]


def _idempotency_without_condition() -> None:
    """The Idempotency-Key's write keeps no condition, and reading takes a while (as on a busy
    Lambda): the window in which taps of one key all read before any has written, whatever
    else the machine is doing."""
    from chalicelib.adapters.order_placement import PlacementReads
    _drop_conditions("idempotency")
    snapshot = PlacementReads.snapshot

    def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = snapshot(self, *args, **kwargs)
        time.sleep(0.5)
        return found
    PlacementReads.snapshot = slow  # type: ignore[method-assign]


def _expiry_without_protection() -> None:
    """Expiry and payment race with nothing between them: no state conditions, no question to
    WeChat before expiring."""
    from chalicelib.service_layer import schedule
    _drop_conditions("order", "sku:", "payment")
    # Asking WeChat takes a while (a query, then a close): the window in which a payment lands
    # between the expiry's read of the order and its write.
    schedule._closed_unpaid_at_wechat = lambda ctx, order: (time.sleep(1.5), True)[1]  # type: ignore[assignment]


def _change_without_protection() -> None:
    """改单 and a payment of the old attempt with nothing between them: the open trade is not
    closed at WeChat (asking takes a while all the same), and no order or stock write is
    conditional on what it was read as (the order's state and attempt, the units reserved)."""
    from chalicelib.service_layer import order_changes
    _drop_conditions("order", "sku:")
    order_changes.close_open_trade = lambda ctx, order: time.sleep(1.5)  # type: ignore[assignment]


def _after_sale_without_condition() -> None:
    """An after-sale's moves are not conditional on the status they were read in, and reading
    it takes a while (as on a busy Lambda): the window in which two staff both see it waiting."""
    from chalicelib.service_layer import after_sales
    _drop_conditions("after_sale")
    existing = after_sales.existing_after_sale

    def slow(ctx: Any, after_sale_id: str) -> Any:
        found = existing(ctx, after_sale_id)
        time.sleep(0.5)
        return found
    after_sales.existing_after_sale = slow  # type: ignore[assignment]


REMOVALS: dict[str, Callable[[], None]] = {
    "sku-condition": lambda: _drop_conditions("sku:"),
    "shard-condition": lambda: _drop_conditions("shard:"),
    "one-transaction": _separate_writes,
    "limit-condition": lambda: _drop_conditions("limit:"),
    "user-coupon-condition": lambda: _drop_conditions("user_coupon:"),
    "unpaid-condition": lambda: _drop_conditions("unpaid"),
    "idempotency-condition": _idempotency_without_condition,
    "redemption-condition": _unconditional_redemption,
    "payment-conditions": lambda: _drop_conditions("payment", "order", "sku:"),
    "expiry-protection": _expiry_without_protection,
    "change-protection": _change_without_protection,
    "after-sale-condition": _after_sale_without_condition,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--moto", required=True)
    parser.add_argument("--remove", choices=sorted(REMOVALS), required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from local.keys import local_secrets
    os.environ.update({
        "STAGE": "local", "TABLE_PREFIX": "micromall-local-", "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1", "DYNAMODB_ENDPOINT": args.moto, "AWS_ENDPOINT_URL": args.moto,
        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "micromall-twin",
        "ORDER_PAYMENT_TIMEOUT_SECONDS": os.environ.get("ORDER_PAYMENT_TIMEOUT_SECONDS", "900"),
        **local_secrets(dict(os.environ))})
    from local.aws_resources import create_queues_and_topic
    # Queues of its own: the stack's pump must not work on the twin's messages. The embedded AWS
    # may be failing a share of requests on purpose (LOCAL_FAULT_RATE): set-up is tried again.
    from botocore.exceptions import ClientError
    for attempt in range(10):
        try:
            os.environ.update(create_queues_and_topic("micromall-twin-", 5, "us-east-1"))
            break
        except ClientError:
            if attempt == 9:
                raise
            time.sleep(0.5)
    REMOVALS[args.remove]()
    from chalice.cli.factory import CLIFactory
    from chalice.local import create_local_server

    import app as app_module
    from app import app
    from local import gateway
    from local.pump import EventPump
    # Its own expiry workers, as the stack's pump runs them (the twin's orders go to its queue).
    EventPump({os.environ["EXPIRY_QUEUE_NAME"]: app_module.expiry_worker}, None, 3600, "us-east-1",
              workers={os.environ["EXPIRY_QUEUE_NAME"]: 4}).start()
    gateway.install()
    config = CLIFactory(str(ROOT)).create_config_obj(chalice_stage_name="local")
    print(f"twin without {args.remove} on http://127.0.0.1:{args.port}", flush=True)
    create_local_server(app, config, "127.0.0.1", args.port).serve_forever()


if __name__ == "__main__":
    main()
