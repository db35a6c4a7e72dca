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
from ..domain.model import Session
from ..domain.refund_summary import RefundContact, RefundItem
from ..domain.refunds import HELD_BY_WECHAT, Refund, RefundStatus
from ..service_layer.ports import FieldCipher, Page
from ..service_layer.tags import ItemTag, Tag
from .dynamo import (batch_get_many, each_shard, fanned_page, get_or_none, plain, read_time, spread,
                     spread_keys, stored_time, table_meta)
from .unit_of_work import UnitOfWork

BILL_DAY_SHARDS = 4
# The status and query-due indexes are keyed by a status (or "processing") that many refunds
# share: spread over shards by the refund id, so that no partition takes every refund's writes.
REFUND_INDEX_SHARDS = 8


def status_key(status: str, refund_id: str) -> str:
    return spread(status, refund_id, REFUND_INDEX_SHARDS)


def query_key(refund_id: str) -> str:
    return spread("processing", refund_id, REFUND_INDEX_SHARDS)


class RefundStatusIndex(GlobalSecondaryIndex["RefundRecord"]):
    """Staff's queue by status, newest first, spread: `status_key` is <status>#<shard>. Keys
    only: a page's refunds are read whole in one BatchGetItem."""
    class Meta:
        index_name = "status-shard-index"
        projection = KeysOnlyProjection()
    status_key = UnicodeAttribute(hash_key=True)
    listed_at = UnicodeAttribute(range_key=True)


class RefundOrderIndex(GlobalSecondaryIndex["RefundRecord"]):
    class Meta:
        index_name = "order-index"
        projection = AllProjection()
    order_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class QueryDueIndex(GlobalSecondaryIndex["RefundRecord"]):
    """Sparse: refunds WeChat has still to decide (PROCESSING, and ABNORMAL ones waiting to be
    settled by hand), by when to ask about them next; spread (processing#<shard>)."""
    class Meta:
        index_name = "query-due-shard-index"
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
    status_key = UnicodeAttribute(null=True)         # <status>#<shard>, for the status index
    listed_at = UnicodeAttribute(null=True)          # <created_at>#<refund_id>: unique, newest first
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
    query_due = UnicodeAttribute(null=True)          # processing#<shard> while WeChat has still to decide
    review_reasons = ListAttribute(of=UnicodeAttribute, null=True)   # why staff review it
    unsettled = BooleanAttribute(null=True)          # WeChat paid it after its order moved on
    accepted_no = UnicodeAttribute(null=True)        # the out_refund_no WeChat accepted last
    accepted_at = UnicodeAttribute(null=True)        # when (WeChat's create_time)
    bill_day = UnicodeAttribute(null=True)           # <Beijing date of accepted_at>#<shard>
    out_trade_no = UnicodeAttribute(null=True)       # the payment attempt refunded (absent: the order id)
    # What it takes back, by SKU: [{sku_id, product_name, name, quantity, amount?, session_start?,
    # session_end?}] (absent: made before this was kept), and for whom: the order's contact, encrypted.
    items = ListAttribute(of=MapAttribute, null=True)
    contact = UnicodeAttribute(null=True)            # encrypted JSON {name, phone}
    status_index = RefundStatusIndex()
    order_index = RefundOrderIndex()
    query_due_index = QueryDueIndex()
    bill_day_index = RefundBillDayIndex()


def _item_to_map(item: RefundItem) -> dict[str, Any]:
    data: dict[str, Any] = {"sku_id": item.sku_id, "product_name": item.product_name, "name": item.name,
                            "quantity": item.quantity}
    if item.amount is not None:
        data["amount"] = item.amount
    if item.session is not None:
        data["session_start"], data["session_end"] = stored_time(item.session.start), stored_time(item.session.end)
    return data


def _item_from(m: dict[str, Any]) -> RefundItem:
    session = (Session(timeutil.from_storage(m["session_start"]), timeutil.from_storage(m["session_end"]))
               if m.get("session_start") else None)
    return RefundItem(sku_id=m["sku_id"], product_name=m["product_name"], name=m["name"],
                      quantity=int(m["quantity"]), amount=int(m["amount"]) if m.get("amount") is not None else None,
                      session=session)


def refund_from(r: RefundRecord, cipher: FieldCipher) -> Refund:
    contact = cipher.decrypt_json(r.contact) if r.contact else None
    return Refund(refund_id=r.refund_id, order_id=r.order_id, amount=int(r.amount), total=int(r.total),
                  status=RefundStatus(r.status), reason=r.reason, source=r.source,
                  created_at=timeutil.from_storage(r.created_at), user_id=r.user_id, transaction_id=r.transaction_id,
                  ticket_codes=list(r.ticket_codes or []),
                  stock_lines=[(m["sku_id"], int(m["quantity"])) for m in map(plain, r.stock_lines or [])],
                  decided_by=r.decided_by, reject_reason=r.reject_reason, last_error=r.last_error,
                  out_refund_no=r.out_refund_no or r.refund_id, goods_returned=bool(r.goods_returned),
                  claims_goods=bool(r.claims_goods), queries=int(r.queries or 0),
                  next_query_at=read_time(r.next_query_at), gateway_status=r.gateway_status,
                  superseded_by=r.superseded_by, review_reasons=list(r.review_reasons or []),
                  unsettled=bool(r.unsettled), out_trade_no=r.out_trade_no or r.order_id,
                  items=[_item_from(m) for m in map(plain, r.items)] if r.items is not None else None,
                  contact=RefundContact(contact["name"], contact["phone"])  # type: ignore[index]
                  if isinstance(contact, dict) else None)


def _waits_for_wechat(target: RefundStatus, gateway_status: object) -> bool:
    """Whether WeChat is still to be asked about a refund in this state."""
    return target is RefundStatus.PROCESSING or (target is RefundStatus.FAILED and gateway_status == HELD_BY_WECHAT)


class RefundRepository:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def _from(self, record: RefundRecord) -> Refund:
        return refund_from(record, self._cipher)

    def add(self, uow: UnitOfWork, refund: Refund, at: datetime) -> None:
        uow.put(RefundRecord(
            refund_id=refund.refund_id, order_id=refund.order_id, user_id=refund.user_id,
            out_trade_no=refund.out_trade_no if refund.out_trade_no != refund.order_id else None,
            transaction_id=refund.transaction_id, amount=refund.amount, total=refund.total,
            status=refund.status.value, reason=refund.reason, source=refund.source,
            ticket_codes=refund.ticket_codes,
            stock_lines=[{"sku_id": s, "quantity": q} for s, q in refund.stock_lines],
            created_at=stored_time(refund.created_at), updated_at=stored_time(at), decided_by=refund.decided_by,
            out_refund_no=refund.out_refund_no, claims_goods=refund.claims_goods or None,
            status_key=status_key(refund.status.value, refund.refund_id),
            listed_at=f"{stored_time(refund.created_at)}#{refund.refund_id}",
            review_reasons=refund.review_reasons or None,
            items=[_item_to_map(i) for i in refund.items] if refund.items is not None else None,
            contact=self._cipher.encrypt_json({"name": refund.contact.name, "phone": refund.contact.phone})
            if refund.contact else None),
            condition=RefundRecord.refund_id.does_not_exist(), tag=Tag.REFUND)

    @staticmethod
    def _as_read(refund: Refund) -> Any:
        """The refund is in the state, under the WeChat number, and held by WeChat or not, as it
        was read in (a decision made before WeChat held its money never overwrites that)."""
        held = RefundRecord.gateway_status == HELD_BY_WECHAT
        return (RefundRecord.status == refund.status.value) & (
            RefundRecord.out_refund_no.does_not_exist() | (RefundRecord.out_refund_no == refund.out_refund_no)) & (
            held if refund.gateway_status == HELD_BY_WECHAT else (RefundRecord.gateway_status.does_not_exist() | ~held))

    @staticmethod
    def _set(fields: dict[str, Any]) -> list[Any]:
        """`fields` set; a None field is removed."""
        actions = []
        for name, value in fields.items():
            attribute = getattr(RefundRecord, name)
            if value is None:
                actions.append(attribute.remove())
            else:
                actions.append(attribute.set(stored_time(value) if isinstance(value, datetime) else value))
        return actions

    def move(self, uow: UnitOfWork, refund: Refund, target: RefundStatus, at: datetime, **fields: Any) -> None:
        """Every refund state change is conditional on the state (and the WeChat number, and not
        having been taken over) it was read in. `fields` are set; a None field is removed."""
        actions = [RefundRecord.status.set(target.value), RefundRecord.updated_at.set(stored_time(at)),
                   RefundRecord.status_key.set(status_key(target.value, refund.refund_id)),
                   RefundRecord.query_due.set(query_key(refund.refund_id))
                   if _waits_for_wechat(target, fields.get("gateway_status")) else RefundRecord.query_due.remove(),
                   *self._set(fields)]
        uow.update(RefundRecord(refund_id=refund.refund_id), actions,
                   condition=self._as_read(refund) & RefundRecord.superseded_by.does_not_exist(), tag=Tag.REFUND)

    def ask_again(self, uow: UnitOfWork, refund: Refund, queries: int, next_query_at: datetime) -> None:
        """When WeChat is asked about the refund next; its state does not change."""
        uow.update(RefundRecord(refund_id=refund.refund_id),
                   [RefundRecord.queries.set(queries), RefundRecord.next_query_at.set(stored_time(next_query_at))],
                   condition=self._as_read(refund) & RefundRecord.query_due.exists(), tag=Tag.REFUND)

    def paid_unsettled(self, uow: UnitOfWork, refund: Refund, at: datetime, gateway_status: str, note: str) -> None:
        """WeChat paid a failed refund whose order had moved on (taken over, or its goods
        shipped): SUCCEEDED, as WeChat says, and marked as having returned nothing. Conditional
        on the state it was read in, taken over or not, so that this is recorded once."""
        uow.update(RefundRecord(refund_id=refund.refund_id),
                   [RefundRecord.status.set(RefundStatus.SUCCEEDED.value), RefundRecord.updated_at.set(stored_time(at)),
                    RefundRecord.status_key.set(status_key(RefundStatus.SUCCEEDED.value, refund.refund_id)),
                    RefundRecord.query_due.remove(), RefundRecord.next_query_at.remove(),
                    RefundRecord.unsettled.set(True), RefundRecord.gateway_status.set(gateway_status),
                    RefundRecord.last_error.set(note)],
                   condition=self._as_read(refund), tag=Tag.REFUND)

    def supersede(self, uow: UnitOfWork, refund_id: str, by: str, at: datetime) -> None:
        """A new request takes over the codes of a FAILED refund, which can then not be retried."""
        uow.update(RefundRecord(refund_id=refund_id),
                   [RefundRecord.superseded_by.set(by), RefundRecord.updated_at.set(stored_time(at)),
                    RefundRecord.query_due.remove()],   # WeChat closed it or never had it: nothing to ask
                   condition=(RefundRecord.status == RefundStatus.FAILED.value)
                   & RefundRecord.superseded_by.does_not_exist()
                   & (RefundRecord.gateway_status.does_not_exist() | (RefundRecord.gateway_status != HELD_BY_WECHAT)),
                   tag=ItemTag.SUPERSEDED.of(refund_id))

    def get(self, refund_id: str) -> Refund | None:
        record = get_or_none(RefundRecord, refund_id)
        return self._from(record) if record else None

    def of_order(self, order_id: str) -> list[Refund]:
        return [self._from(r) for r in RefundRecord.order_index.query(order_id)]

    def _load(self, keys: list[str]) -> list[Refund]:
        """The refunds behind an index's keys, read whole, in their order."""
        found = batch_get_many(RefundRecord, keys)
        return [self._from(found[k]) for k in keys if k in found]

    def page(self, status: str, limit: int, cursor: str | None) -> Page:
        """Staff's queue of one status, newest first: the status's shards read together and merged."""
        rows, next_cursor = fanned_page(
            lambda key, before, count: RefundRecord.status_index.query(
                key, RefundRecord.listed_at < before if before else None, scan_index_forward=False, limit=count),
            spread_keys(status, REFUND_INDEX_SHARDS), "listed_at", limit, cursor, descending=True)
        return Page(self._load([r.refund_id for r in rows]), next_cursor)

    def processing_due(self, now: datetime, limit: int) -> list[Refund]:
        """Refunds WeChat has still to decide whose next question is due (their notice may be
        lost): the sparse index's shards read together, the earliest due first, then one
        batched read."""
        shards = each_shard(lambda key: RefundRecord.query_due_index.query(
            key, RefundRecord.next_query_at <= stored_time(now), limit=limit),
            spread_keys("processing", REFUND_INDEX_SHARDS))
        due = sorted((r.next_query_at, r.refund_id) for rows in shards for r in rows)
        return self._load([refund_id for _, refund_id in due[:limit]])

    def approved_before(self, cutoff: datetime) -> list[Refund]:
        """Approved refunds whose queue message may have been lost (the outbox sweep)."""
        shards = each_shard(lambda key: RefundRecord.status_index.query(
            key, RefundRecord.listed_at < stored_time(cutoff), limit=100),
            spread_keys(RefundStatus.APPROVED.value, REFUND_INDEX_SHARDS))
        return self._load(sorted({r.refund_id for rows in shards for r in rows})[:100])

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
    return OurRefund(refund_id=record.refund_id, out_refund_no=number,
                     out_trade_no=record.out_trade_no or record.order_id,
                     amount=int(record.amount), status=record.status)
