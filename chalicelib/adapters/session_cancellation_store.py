"""Session cancellations in DynamoDB: one partition per cancelled session (its SKU id), holding

- `progress`: the progress record (reason, who and when, cursor, counters, status);
- `refund#<refund_id>`: each refund the cancellation approved, written in that refund's own
  approving transaction (with `refunds_requested` counted up on the progress record there too),
  so the cancellation's refunds are a Query of its own partition, never a Scan of the refunds;
- `notice#<order_id>`: the `session_cancelled` event of one order, put once (conditional on its
  absence) in one transaction with the progress counters it adds to, so the counts are exact
  whatever is redelivered; the customer notifications will be sent from these;
- `deferred#<order_id>`: an order to ask about again later (a refund under review, a change).

A session's items are written by one step at a time (one chain of queue messages), a few per
order: no partition key is shared across sessions, and none is hot."""
from __future__ import annotations

import random
import time
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..domain.session_cancellation import Affected, CancellationStatus, SessionCancellation
from ..service_layer.ports import WriteRefused
from ..service_layer.tags import Tag
from .dynamo import get_or_none, read_time, stored_time, table_meta
from .unit_of_work import UnitOfWork

PROGRESS = "progress"
REFUND, NOTICE, DEFERRED = "refund#", "notice#", "deferred#"
CONFLICT_ATTEMPTS = 4


class SessionCancellationRecord(Model):
    Meta = table_meta("session-cancellations")
    sku_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)        # progress | refund#<id> | notice#<order_id> | deferred#<order_id>
    # progress
    product_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    cancelled_at = UnicodeAttribute(null=True)
    cancelled_by = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    buckets = NumberAttribute(null=True)
    tickets = NumberAttribute(null=True)
    bucket = NumberAttribute(null=True)
    after = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    orders_cancelled = NumberAttribute(null=True)
    orders_refunded = NumberAttribute(null=True)
    tickets_refunded = NumberAttribute(null=True)
    refunds_requested = NumberAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    # notice
    event = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    at = UnicodeAttribute(null=True)


def _progress_from(r: SessionCancellationRecord) -> SessionCancellation:
    return SessionCancellation(
        sku_id=r.sku_id, product_id=r.product_id or "", reason=r.reason or "",
        cancelled_at=read_time(r.cancelled_at), cancelled_by=r.cancelled_by or "",  # type: ignore[arg-type]
        buckets=int(r.buckets or 1), tickets=int(r.tickets or 0), status=CancellationStatus(r.status),
        bucket=int(r.bucket or 0), after=r.after, version=int(r.version or 0),
        orders_cancelled=int(r.orders_cancelled or 0), orders_refunded=int(r.orders_refunded or 0),
        tickets_refunded=int(r.tickets_refunded or 0), refunds_requested=int(r.refunds_requested or 0),
        finished_at=read_time(r.finished_at))


def _written(uow: UnitOfWork, refusing: str, attempts: int = CONFLICT_ATTEMPTS) -> bool:
    """True when written, False when the write tagged `refusing` was refused (done before, or
    moved on by another step). A transaction that collided with another wrote nothing: it is sent
    again (a few times, briefly apart) rather than failing the whole step for it."""
    for attempt in range(attempts):
        try:
            uow.commit()
            return True
        except WriteRefused as refused:
            if refusing in refused.failed:
                return False
            if refused.failed or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1) * random.random())
    raise AssertionError("unreachable")


class SessionCancellationStore:
    def start(self, uow: UnitOfWork, c: SessionCancellation) -> None:
        uow.put(SessionCancellationRecord(
            sku_id=c.sku_id, entry=PROGRESS, product_id=c.product_id, reason=c.reason,
            cancelled_at=stored_time(c.cancelled_at), cancelled_by=c.cancelled_by, status=c.status.value,
            buckets=c.buckets, tickets=c.tickets, bucket=0, version=0, orders_cancelled=0, orders_refunded=0,
            tickets_refunded=0, refunds_requested=0),
            condition=SessionCancellationRecord.sku_id.does_not_exist(), tag=Tag.CANCELLATION)

    def get(self, sku_id: str) -> SessionCancellation | None:
        record = get_or_none(SessionCancellationRecord, sku_id, PROGRESS)
        return _progress_from(record) if record is not None and record.status else None

    def advance(self, c: SessionCancellation, bucket: int, after: str | None, done: bool, at: datetime) -> bool:
        """The cursor moves on (or the work is DONE), only from the version the step read: of two
        workers running the same step (a redelivery), one saves and goes on, the other stops."""
        actions = [SessionCancellationRecord.bucket.set(bucket), SessionCancellationRecord.version.add(1),
                   SessionCancellationRecord.after.set(after) if after else SessionCancellationRecord.after.remove()]
        if done:
            actions += [SessionCancellationRecord.status.set(CancellationStatus.DONE.value),
                        SessionCancellationRecord.finished_at.set(stored_time(at))]
        uow = UnitOfWork()
        uow.update(SessionCancellationRecord(sku_id=c.sku_id, entry=PROGRESS), actions,
                   condition=SessionCancellationRecord.version == c.version, tag=Tag.CANCELLATION)
        return _written(uow, Tag.CANCELLATION)

    def link_refund(self, uow: UnitOfWork, sku_id: str, refund_id: str) -> None:
        """In the refund's approving transaction: the link, and the count of refunds asked for."""
        uow.put(SessionCancellationRecord(sku_id=sku_id, entry=REFUND + refund_id),
                condition=SessionCancellationRecord.sku_id.does_not_exist(), tag=Tag.CANCELLATION)
        uow.update(SessionCancellationRecord(sku_id=sku_id, entry=PROGRESS),
                   [SessionCancellationRecord.refunds_requested.add(1)],
                   condition=SessionCancellationRecord.sku_id.exists(), tag=Tag.CANCELLATION)

    def record_affected(self, sku_id: str, order_id: str, user_id: str, kind: Affected, tickets: int,
                        at: datetime) -> bool:
        """The order's `session_cancelled` event, once, with the counters it adds to. False when
        it was recorded before (a redelivered step)."""
        counter = (SessionCancellationRecord.orders_cancelled if kind is Affected.CANCELLED
                   else SessionCancellationRecord.orders_refunded)
        uow = UnitOfWork()
        uow.put(SessionCancellationRecord(sku_id=sku_id, entry=NOTICE + order_id, event="session_cancelled",
                                          user_id=user_id, kind=kind.value, tickets=tickets, at=stored_time(at)),
                condition=SessionCancellationRecord.sku_id.does_not_exist(), tag=Tag.NOTICE)
        uow.update(SessionCancellationRecord(sku_id=sku_id, entry=PROGRESS),
                   [counter.add(1), SessionCancellationRecord.tickets_refunded.add(tickets)],
                   condition=SessionCancellationRecord.sku_id.exists(), tag=Tag.CANCELLATION)
        return _written(uow, Tag.NOTICE)

    def notices(self, sku_id: str) -> dict[str, tuple[str, int]]:
        """Every order's notice: order_id -> (kind, tickets). For checks and support; pages through."""
        return {r.entry[len(NOTICE):]: (r.kind or "", int(r.tickets or 0))
                for r in SessionCancellationRecord.query(sku_id, SessionCancellationRecord.entry.startswith(NOTICE),
                                                         consistent_read=True)}

    def refund_ids(self, sku_id: str) -> list[str]:
        return [r.entry[len(REFUND):] for r in SessionCancellationRecord.query(
            sku_id, SessionCancellationRecord.entry.startswith(REFUND), consistent_read=True,
            attributes_to_get=["sku_id", "entry"])]

    def defer(self, sku_id: str, order_id: str) -> None:
        SessionCancellationRecord(sku_id=sku_id, entry=DEFERRED + order_id).save()

    def undefer(self, sku_id: str, order_id: str) -> None:
        SessionCancellationRecord(sku_id=sku_id, entry=DEFERRED + order_id).delete()

    def deferred(self, sku_id: str, limit: int, after: str | None = None) -> list[str]:
        """The orders put aside, in order id order, those after `after` (an order id) only."""
        where = (SessionCancellationRecord.entry.between(DEFERRED + after + "\x00", DEFERRED + "\U0010ffff")
                 if after else SessionCancellationRecord.entry.startswith(DEFERRED))
        return [r.entry[len(DEFERRED):] for r in SessionCancellationRecord.query(
            sku_id, where, consistent_read=True, limit=limit)]
