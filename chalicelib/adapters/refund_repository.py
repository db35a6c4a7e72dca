"""Refunds in DynamoDB. Every state change is conditional on the state it was read in."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.payments import bill_day
from ..domain.reconciliation import OurRefund
from ..domain.refunds import Refund, RefundStatus
from ..service_layer.ports import Page
from .dynamo import (UnitOfWork, batch_get_many, get_or_none, page_of, plain, read_time, spread, spread_keys,
                     stored_time, table_meta)

BILL_DAY_SHARDS = 4


class RefundStatusIndex(GlobalSecondaryIndex["RefundRecord"]):
    class Meta:
        index_name = "status-index"
        projection = AllProjection()
    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class RefundOrderIndex(GlobalSecondaryIndex["RefundRecord"]):
    class Meta:
        index_name = "order-index"
        projection = AllProjection()
    order_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class QueryDueIndex(GlobalSecondaryIndex["RefundRecord"]):
    """Sparse: refunds WeChat is processing, by when to ask about them next."""
    class Meta:
        index_name = "query-due-index"
        projection = KeysOnlyProjection()
    query_due = UnicodeAttribute(hash_key=True)
    next_query_at = UnicodeAttribute(range_key=True)


class RefundBillDayIndex(GlobalSecondaryIndex["RefundRecord"]):
    """Sparse: refunds by the day of WeChat's bill their latest attempt belongs to (when WeChat
    accepted it), spread over a few partitions."""
    class Meta:
        index_name = "bill-day-index"
        projection = KeysOnlyProjection()
    bill_day = UnicodeAttribute(hash_key=True)
    refund_id = UnicodeAttribute(range_key=True)


class RefundRecord(Model):
    Meta = table_meta("refunds", streamed=True)
    refund_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    transaction_id = UnicodeAttribute(null=True)
    amount = NumberAttribute()
    total = NumberAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute()
    source = UnicodeAttribute()                      # customer | automatic
    ticket_codes = ListAttribute(of=UnicodeAttribute, default=list)
    stock_lines = ListAttribute(of=MapAttribute, default=list)   # [{sku_id, quantity}] back to stock
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    reject_reason = UnicodeAttribute(null=True)
    gateway_status = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    out_refund_no = UnicodeAttribute(null=True)      # at WeChat: the refund_id, then -2, -3 after a failure
    goods_returned = BooleanAttribute(null=True)
    claims_goods = BooleanAttribute(null=True)
    queries = NumberAttribute(null=True)             # how often WeChat was asked about it
    next_query_at = UnicodeAttribute(null=True)
    superseded_by = UnicodeAttribute(null=True)      # a newer refund took its codes over
    query_due = UnicodeAttribute(null=True)          # set while PROCESSING
    accepted_no = UnicodeAttribute(null=True)        # the out_refund_no WeChat accepted last
    accepted_at = UnicodeAttribute(null=True)        # when (WeChat's create_time)
    bill_day = UnicodeAttribute(null=True)           # <Beijing date of accepted_at>#<shard>
    status_index = RefundStatusIndex()
    order_index = RefundOrderIndex()
    query_due_index = QueryDueIndex()
    bill_day_index = RefundBillDayIndex()


def refund_from(r: RefundRecord) -> Refund:
    return Refund(refund_id=r.refund_id, order_id=r.order_id, amount=int(r.amount), total=int(r.total),
                  status=RefundStatus(r.status), reason=r.reason, source=r.source,
                  created_at=timeutil.from_storage(r.created_at), user_id=r.user_id, transaction_id=r.transaction_id,
                  ticket_codes=list(r.ticket_codes or []),
                  stock_lines=[(m["sku_id"], int(m["quantity"])) for m in map(plain, r.stock_lines or [])],
                  decided_by=r.decided_by, reject_reason=r.reject_reason, last_error=r.last_error,
                  out_refund_no=r.out_refund_no or r.refund_id, goods_returned=bool(r.goods_returned),
                  claims_goods=bool(r.claims_goods), queries=int(r.queries or 0),
                  next_query_at=read_time(r.next_query_at), gateway_status=r.gateway_status,
                  superseded_by=r.superseded_by)


class RefundRepository:
    def add(self, uow: UnitOfWork, refund: Refund, at: datetime) -> None:
        uow.put(RefundRecord(
            refund_id=refund.refund_id, order_id=refund.order_id, user_id=refund.user_id,
            transaction_id=refund.transaction_id, amount=refund.amount, total=refund.total,
            status=refund.status.value, reason=refund.reason, source=refund.source,
            ticket_codes=refund.ticket_codes,
            stock_lines=[{"sku_id": s, "quantity": q} for s, q in refund.stock_lines],
            created_at=stored_time(refund.created_at), updated_at=stored_time(at), decided_by=refund.decided_by,
            out_refund_no=refund.out_refund_no, claims_goods=refund.claims_goods or None),
            condition=RefundRecord.refund_id.does_not_exist(), tag="refund")

    def move(self, uow: UnitOfWork, refund: Refund, target: RefundStatus, at: datetime, **fields: Any) -> None:
        """Every refund state change is conditional on the state (and the WeChat number, and not
        having been taken over) it was read in. `fields` are set; a None field is removed."""
        actions = [RefundRecord.status.set(target.value), RefundRecord.updated_at.set(stored_time(at)),
                   RefundRecord.query_due.set("processing") if target is RefundStatus.PROCESSING
                   else RefundRecord.query_due.remove()]
        for name, value in fields.items():
            attribute = getattr(RefundRecord, name)
            if value is None:
                actions.append(attribute.remove())
            else:
                actions.append(attribute.set(stored_time(value) if isinstance(value, datetime) else value))
        uow.update(RefundRecord(refund_id=refund.refund_id), actions,
                   condition=(RefundRecord.status == refund.status.value) & RefundRecord.superseded_by.does_not_exist()
                   & (RefundRecord.out_refund_no.does_not_exist() | (RefundRecord.out_refund_no == refund.out_refund_no)),
                   tag="refund")

    def supersede(self, uow: UnitOfWork, refund_id: str, by: str, at: datetime) -> None:
        """A new request takes over the codes of a FAILED refund, which can then not be retried."""
        uow.update(RefundRecord(refund_id=refund_id),
                   [RefundRecord.superseded_by.set(by), RefundRecord.updated_at.set(stored_time(at))],
                   condition=(RefundRecord.status == RefundStatus.FAILED.value)
                   & RefundRecord.superseded_by.does_not_exist(), tag=f"superseded:{refund_id}")

    def get(self, refund_id: str) -> Refund | None:
        record = get_or_none(RefundRecord, refund_id)
        return refund_from(record) if record else None

    def of_order(self, order_id: str) -> list[Refund]:
        return [refund_from(r) for r in RefundRecord.order_index.query(order_id)]

    def page(self, status: str, limit: int, cursor: str | None) -> Page:
        return page_of(lambda start: RefundRecord.status_index.query(
            status, scan_index_forward=False, limit=limit, last_evaluated_key=start),
            cursor, {"refund_id", "status", "created_at"}, refund_from)

    def processing_due(self, now: datetime, limit: int) -> list[Refund]:
        """Refunds WeChat is still processing whose next query is due (their notice may be lost):
        one Query of the sparse index, then one batched read."""
        due = [r.refund_id for r in RefundRecord.query_due_index.query(
            "processing", RefundRecord.next_query_at <= stored_time(now), limit=limit)]
        found = batch_get_many(RefundRecord, due)
        return [refund_from(found[r]) for r in due if r in found]

    def approved_before(self, cutoff: datetime) -> list[Refund]:
        """Approved refunds whose queue message may have been lost (the outbox sweep)."""
        return [refund_from(r) for r in RefundRecord.status_index.query(
            RefundStatus.APPROVED.value, RefundRecord.created_at < stored_time(cutoff), limit=100)]

    def accepted(self, refund: Refund, at: datetime) -> None:
        """WeChat accepted this attempt: the day of its bill line is known. Once per attempt
        (a redelivered answer keeps the first time), and only while the attempt is the latest."""
        record = RefundRecord(refund_id=refund.refund_id)
        try:
            record.update([RefundRecord.accepted_no.set(refund.out_refund_no),
                           RefundRecord.accepted_at.set(stored_time(at)),
                           RefundRecord.bill_day.set(spread(bill_day(at).isoformat(), refund.refund_id,
                                                            BILL_DAY_SHARDS))],
                          condition=(RefundRecord.out_refund_no.does_not_exist()
                                     | (RefundRecord.out_refund_no == refund.out_refund_no))
                          & (RefundRecord.accepted_no.does_not_exist()
                             | (RefundRecord.accepted_no != refund.out_refund_no)))
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise

    def accepted_on(self, day: date) -> list[OurRefund]:
        """The refunds whose attempt WeChat accepted that day, under that attempt's number (a
        later attempt, not yet accepted, must not be looked for in that day's bill)."""
        ids = [r.refund_id for key in spread_keys(day.isoformat(), BILL_DAY_SHARDS)
               for r in RefundRecord.bill_day_index.query(key)]
        found = batch_get_many(RefundRecord, sorted(set(ids)))
        return [_our_refund(r, r.accepted_no) for r in found.values() if r.accepted_no]

    def for_reconciliation(self, refund_ids: Iterable[str]) -> dict[str, OurRefund]:
        """The refunds the bill's lines name, under their latest attempt's number."""
        found = batch_get_many(RefundRecord, sorted(set(refund_ids)))
        return {r.refund_id: _our_refund(r, r.out_refund_no or r.refund_id) for r in found.values()}


def _our_refund(record: RefundRecord, number: str) -> OurRefund:
    return OurRefund(refund_id=record.refund_id, out_refund_no=number, out_trade_no=record.order_id,
                     amount=int(record.amount), status=record.status)
