"""Refunds in DynamoDB. Every state change is conditional on the state it was read in."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.refunds import Refund, RefundStatus
from ..service_layer.ports import Page
from .dynamo import UnitOfWork, get_or_none, page_of, plain, stored_time, table_meta


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


class RefundRecord(Model):
    Meta = table_meta("refunds")
    refund_id = UnicodeAttribute(hash_key=True)      # also the gateway's out_refund_no
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
    status_index = RefundStatusIndex()
    order_index = RefundOrderIndex()


def refund_from(r: RefundRecord) -> Refund:
    return Refund(refund_id=r.refund_id, order_id=r.order_id, amount=int(r.amount), total=int(r.total),
                  status=RefundStatus(r.status), reason=r.reason, source=r.source,
                  created_at=timeutil.from_storage(r.created_at), user_id=r.user_id, transaction_id=r.transaction_id,
                  ticket_codes=list(r.ticket_codes or []),
                  stock_lines=[(m["sku_id"], int(m["quantity"])) for m in map(plain, r.stock_lines or [])],
                  decided_by=r.decided_by, reject_reason=r.reject_reason, last_error=r.last_error)


class RefundRepository:
    def add(self, uow: UnitOfWork, refund: Refund, at: datetime) -> None:
        uow.put(RefundRecord(
            refund_id=refund.refund_id, order_id=refund.order_id, user_id=refund.user_id,
            transaction_id=refund.transaction_id, amount=refund.amount, total=refund.total,
            status=refund.status.value, reason=refund.reason, source=refund.source,
            ticket_codes=refund.ticket_codes,
            stock_lines=[{"sku_id": s, "quantity": q} for s, q in refund.stock_lines],
            created_at=stored_time(refund.created_at), updated_at=stored_time(at), decided_by=refund.decided_by),
            condition=RefundRecord.refund_id.does_not_exist(), tag="refund")

    def move(self, uow: UnitOfWork, refund: Refund, target: RefundStatus, at: datetime, **fields: Any) -> None:
        """Every refund state change is conditional on the state it was read in."""
        actions = [RefundRecord.status.set(target.value), RefundRecord.updated_at.set(stored_time(at))]
        actions += [getattr(RefundRecord, name).set(value) for name, value in fields.items() if value is not None]
        uow.update(RefundRecord(refund_id=refund.refund_id), actions,
                   condition=RefundRecord.status == refund.status.value, tag="refund")

    def get(self, refund_id: str) -> Refund | None:
        record = get_or_none(RefundRecord, refund_id)
        return refund_from(record) if record else None

    def of_order(self, order_id: str) -> list[Refund]:
        return [refund_from(r) for r in RefundRecord.order_index.query(order_id)]

    def page(self, status: str, limit: int, cursor: str | None) -> Page:
        return page_of(lambda start: RefundRecord.status_index.query(
            status, scan_index_forward=False, limit=limit, last_evaluated_key=start),
            cursor, {"refund_id", "status", "created_at"}, refund_from)

    def approved_before(self, cutoff: datetime) -> list[Refund]:
        """Approved refunds whose queue message may have been lost (the outbox sweep)."""
        return [refund_from(r) for r in RefundRecord.status_index.query(
            RefundStatus.APPROVED.value, RefundRecord.created_at < stored_time(cutoff), limit=100)]
