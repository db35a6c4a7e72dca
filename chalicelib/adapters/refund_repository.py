"""Refunds and alerts in DynamoDB."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, QueryError, UpdateError

from ..domain import timeutil
from ..domain.errors import InvalidInput
from ..domain.refunds import Refund, RefundStatus
from .dynamo import UnitOfWork, decode_cursor
from ..domain.model import OrderStatus
from .repository import Page, _page, _plain, _stamp, _t, history_entry
from .tables import AlertRecord, OrderRecord, RefundRecord, SkuRecord, TicketRecord


def refund_from(r: RefundRecord) -> Refund:
    return Refund(refund_id=r.refund_id, order_id=r.order_id, amount=int(r.amount), total=int(r.total),
                  status=RefundStatus(r.status), reason=r.reason, source=r.source,
                  created_at=timeutil.from_storage(r.created_at), user_id=r.user_id, transaction_id=r.transaction_id,
                  ticket_codes=list(r.ticket_codes or []),
                  stock_lines=[(m["sku_id"], int(m["quantity"])) for m in map(_plain, r.stock_lines or [])],
                  decided_by=r.decided_by, reject_reason=r.reject_reason, last_error=r.last_error)


class RefundRepository:
    def add(self, uow: UnitOfWork, refund: Refund, at: datetime) -> None:
        uow.put(RefundRecord(
            refund_id=refund.refund_id, order_id=refund.order_id, user_id=refund.user_id,
            transaction_id=refund.transaction_id, amount=refund.amount, total=refund.total,
            status=refund.status.value, reason=refund.reason, source=refund.source,
            ticket_codes=refund.ticket_codes,
            stock_lines=[{"sku_id": s, "quantity": q} for s, q in refund.stock_lines],
            created_at=_t(refund.created_at), updated_at=_t(at), decided_by=refund.decided_by),
            condition=RefundRecord.refund_id.does_not_exist(), tag="refund")

    def move(self, uow: UnitOfWork, refund: Refund, target: RefundStatus, at: datetime, **fields: Any) -> None:
        """Every refund state change is conditional on the state it was read in."""
        actions = [RefundRecord.status.set(target.value), RefundRecord.updated_at.set(_t(at))]
        actions += [getattr(RefundRecord, name).set(value) for name, value in fields.items() if value is not None]
        uow.update(RefundRecord(refund_id=refund.refund_id), actions,
                   condition=RefundRecord.status == refund.status.value, tag="refund")

    def get(self, refund_id: str) -> Refund | None:
        try:
            return refund_from(RefundRecord.get(refund_id, consistent_read=True))
        except DoesNotExist:
            return None

    def of_order(self, order_id: str) -> list[Refund]:
        return [refund_from(r) for r in RefundRecord.order_index.query(order_id)]

    def page(self, status: str, limit: int, cursor: str | None) -> Page:
        start = decode_cursor(cursor, {"refund_id", "status", "created_at"})
        try:
            return _page(RefundRecord.status_index.query(status, scan_index_forward=False, limit=limit,
                                                         last_evaluated_key=start), refund_from)
        except QueryError as error:
            raise InvalidInput("cursor is not valid", code="INVALID_CURSOR", field="cursor") from error

    def approved_before(self, cutoff: datetime) -> list[Refund]:
        """Approved refunds whose queue message may have been lost (the outbox sweep)."""
        return [refund_from(r) for r in RefundRecord.status_index.query(
            RefundStatus.APPROVED.value, RefundRecord.created_at < _t(cutoff), limit=100)]


class RefundEffects:
    """The writes a refund makes on orders and tickets, in the refund's own transaction."""

    def claim(self, uow: UnitOfWork, order_id: str, amount: int, total: int, goods_refund: str | None,
              at: datetime, by: str) -> None:
        """The order enters REFUNDING; the approved total may never exceed what was paid, and the
        goods of an order are claimed by one refund only."""
        entry = history_entry(OrderStatus.REFUNDING, at, by)
        actions = [OrderRecord.status.set("REFUNDING"), OrderRecord.updated_at.set(_t(at)),
                   OrderRecord.history.set(OrderRecord.history.append([entry])),
                   OrderRecord.refund_committed.add(amount), OrderRecord.refunds_in_flight.add(1)]
        condition = OrderRecord.status.is_in("PAID", "SHIPPED", "COMPLETED", "REFUNDING", "PARTIALLY_REFUNDED") & (
            OrderRecord.refund_committed.does_not_exist() | (OrderRecord.refund_committed <= total - amount))
        if goods_refund:
            actions.append(OrderRecord.merch_refund.set(goods_refund))
            condition &= OrderRecord.merch_refund.does_not_exist()
        uow.update(OrderRecord(order_id=order_id), actions, condition=condition, tag="order")

    def claim_goods(self, uow: UnitOfWork, order_id: str, refund_id: str) -> None:
        uow.update(OrderRecord(order_id=order_id), [OrderRecord.merch_refund.set(refund_id)],
                   condition=OrderRecord.merch_refund.does_not_exist(), tag="order")

    def release_goods(self, uow: UnitOfWork, order_id: str, refund_id: str) -> None:
        """A rejected request gives the goods back to the order, so the customer may ask again."""
        uow.update(OrderRecord(order_id=order_id), [OrderRecord.merch_refund.remove()],
                   condition=OrderRecord.merch_refund == refund_id, tag="order")

    def revoke(self, uow: UnitOfWork, code: str) -> None:
        uow.update(TicketRecord(code=code),
                   [TicketRecord.status.set("REVOKED"), TicketRecord.revoked.set("revoked")],
                   condition=TicketRecord.status == "VALID", tag=f"ticket:{code}")

    def settle(self, uow: UnitOfWork, order_id: str, amount: int) -> None:
        uow.update(OrderRecord(order_id=order_id),
                   [OrderRecord.refunded_total.add(amount), OrderRecord.refunds_in_flight.add(-1)],
                   condition=OrderRecord.refunds_in_flight >= 1, tag="order")

    def abandon(self, uow: UnitOfWork, order_id: str) -> None:
        uow.update(OrderRecord(order_id=order_id), [OrderRecord.refunds_in_flight.add(-1)],
                   condition=OrderRecord.refunds_in_flight >= 1, tag="order")

    def finish(self, order_id: str, status: str, at: datetime) -> bool:
        """The order leaves REFUNDING once no refund of it is in flight."""
        entry = history_entry(OrderStatus(status), at, "refunds")
        try:
            OrderRecord(order_id=order_id).update(
                actions=[OrderRecord.status.set(status), OrderRecord.updated_at.set(_t(at)),
                         OrderRecord.history.set(OrderRecord.history.append([entry]))],
                condition=(OrderRecord.status == "REFUNDING") & (OrderRecord.refunds_in_flight == 0))
        except UpdateError:
            return False
        return True


class AlertLog:
    RETENTION = timedelta(days=90)

    def add(self, uow: UnitOfWork | None, alert_id: str, kind: str, severity: str, message: str,
            details: dict[str, Any], at: datetime) -> None:
        record = AlertRecord(alert_id=alert_id, kind=kind, severity=severity, message=message,
                             details=json.dumps(details, ensure_ascii=False, default=str), created_at=_t(at),
                             expires=at + self.RETENTION)
        if uow is None:
            record.save(condition=AlertRecord.alert_id.does_not_exist())
        else:
            uow.put(record, condition=AlertRecord.alert_id.does_not_exist(), tag="alert")

    def latch_low_stock(self, uow: UnitOfWork, sku_id: str) -> None:
        """Set once per crossing: only a SKU below its threshold and not yet alerted."""
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.low_stock_alerted.set(True)],
                   condition=(SkuRecord.available < SkuRecord.low_stock_threshold)
                   & SkuRecord.low_stock_alerted.does_not_exist(), tag="latch")

    def rearm_low_stock(self, sku_id: str) -> bool:
        try:
            SkuRecord(sku_id=sku_id).update(
                actions=[SkuRecord.low_stock_alerted.remove()],
                condition=(SkuRecord.available >= SkuRecord.low_stock_threshold)
                & SkuRecord.low_stock_alerted.exists())
        except UpdateError:
            return False
        return True

    def page(self, limit: int, cursor: str | None) -> Page:
        start = decode_cursor(cursor, {"alert_id", "feed", "created_at"})
        try:
            return _page(AlertRecord.recent_index.query("alerts", scan_index_forward=False, limit=limit,
                                                        last_evaluated_key=start), lambda r: {
                "alert_id": r.alert_id, "kind": r.kind, "severity": r.severity, "message": r.message,
                "details": json.loads(r.details or "{}"), "created_at": timeutil.from_storage(r.created_at)})
        except QueryError as error:
            raise InvalidInput("cursor is not valid", code="INVALID_CURSOR", field="cursor") from error


def new_alert_id(at: datetime) -> str:
    return "A" + _stamp(at)
