"""Before the spread indexes serve a stage that already holds data (orders and SKUs since issue
13, refunds and revoked tickets since issue 18): gives each item written before them the keys
those indexes read, so that pending orders still expire, shipped ones still complete, refunds
waiting for WeChat are still asked about, staff lists and the stock list still show them, and
the gates still hear of revoked tickets.

    STAGE=prod TABLE_PREFIX=micromall-prod- python -m infra.backfill_index_keys

Run it once after the deploy that adds the indexes and before the traffic that relies on them. It
reads each table once (a Scan: an operation, never a request path) and is safe to run again: an
item that has its keys is left alone, and each update is conditional on the status it was read
in, so a live order that moved meanwhile is read again rather than given a stale key."""
from __future__ import annotations

import argparse
import json
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.adapters.dynamo import spread
from chalicelib.adapters.order_records import OrderRecord, index_key
from chalicelib.adapters.people_repository import DIRECTORY, StaffRecord
from chalicelib.adapters.refund_repository import RefundRecord, query_key, status_key
from chalicelib.adapters.stock_records import INVENTORY_SHARDS, SkuRecord
from chalicelib.adapters.ticket_repository import TicketRecord, revoked_key

ATTEMPTS = 5


def order_keys(record: OrderRecord) -> list[Any]:
    """The updates an order needs (none when it already has its keys)."""
    wanted: list[tuple[Any, str | None]] = [
        (OrderRecord.listed_at, f"{record.created_at}#{record.order_id}"),
        (OrderRecord.status_key, index_key(record.status, record.order_id)),
        (OrderRecord.all_orders, index_key("order", record.order_id)),
        (OrderRecord.pending, index_key("pending", record.order_id) if record.pending else None),
        (OrderRecord.awaiting_receipt,
         index_key("shipped", record.order_id) if record.awaiting_receipt else None)]
    return [attribute.set(value) for attribute, value in wanted
            if value is not None and getattr(record, attribute.attr_name) != value]


def backfill_orders() -> int:
    changed = 0
    for found in OrderRecord.scan():
        record: OrderRecord | None = found
        for _ in range(ATTEMPTS):
            assert record is not None
            actions = order_keys(record)
            if not actions:
                break
            try:
                record.update(actions=actions, condition=OrderRecord.status == record.status)
                changed += 1
                break
            except UpdateError:
                record = OrderRecord.get(found.order_id, consistent_read=True)   # it moved: read again
    return changed


def refund_keys(record: RefundRecord) -> list[Any]:
    wanted: list[tuple[Any, str | None]] = [
        (RefundRecord.listed_at, f"{record.created_at}#{record.refund_id}"),
        (RefundRecord.status_key, status_key(record.status, record.refund_id)),
        (RefundRecord.query_due, query_key(record.refund_id) if record.query_due else None)]
    return [attribute.set(value) for attribute, value in wanted
            if value is not None and getattr(record, attribute.attr_name) != value]


def backfill_refunds() -> int:
    """Conditional on the status as read, like the orders: a refund that moved is read again."""
    changed = 0
    for found in RefundRecord.scan():
        record: RefundRecord | None = found
        for _ in range(ATTEMPTS):
            assert record is not None
            actions = refund_keys(record)
            if not actions:
                break
            try:
                record.update(actions=actions, condition=RefundRecord.status == record.status)
                changed += 1
                break
            except UpdateError:
                record = RefundRecord.get(found.refund_id, consistent_read=True)
    return changed


def backfill_revoked_tickets() -> int:
    """Revoked codes get their spread key; a code is revoked for good, so no condition is needed
    beyond its being revoked."""
    changed = 0
    for record in TicketRecord.scan(TicketRecord.revoked.exists()):
        key = revoked_key(record.code)
        if record.revoked != key:
            record.update(actions=[TicketRecord.revoked.set(key)], condition=TicketRecord.revoked.exists())
            changed += 1
    return changed


def backfill_skus() -> int:
    changed = 0
    for record in SkuRecord.scan():
        key = spread("sku", record.sku_id, INVENTORY_SHARDS)
        if record.inventory != key:
            record.update(actions=[SkuRecord.inventory.set(key)])
            changed += 1
    return changed


def backfill_staff() -> int:
    """Staff accounts (issue 19) join the directory index that lists them."""
    changed = 0
    for record in StaffRecord.scan(StaffRecord.directory.does_not_exist()):   # a model fills in its default
        record.update(actions=[StaffRecord.directory.set(DIRECTORY)], condition=StaffRecord.username.exists())
        changed += 1
    return changed


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print(json.dumps({"orders": backfill_orders(), "skus": backfill_skus(), "refunds": backfill_refunds(),
                      "revoked_tickets": backfill_revoked_tickets(), "staff": backfill_staff()}))


if __name__ == "__main__":
    main()
