"""Orders in DynamoDB: the table, its indexes, and every state change as a conditional write
on the state the order was read in (refund bookkeeping included)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.model import (Address, Fulfillment, HistoryEntry, Kind, Order, OrderLine, OrderStatus, Session,
                            Visitor)
from ..service_layer.ports import FieldCipher, Page
from .dynamo import UnitOfWork, batch_get, get_or_none, page_of, plain, read_time, stored_time, table_meta


class CustomerIndex(GlobalSecondaryIndex["OrderRecord"]):
    class Meta:
        index_name = "customer-index"
        projection = AllProjection()
    user_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class StatusIndex(GlobalSecondaryIndex["OrderRecord"]):
    class Meta:
        index_name = "status-index"
        projection = AllProjection()
    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class AllOrdersIndex(GlobalSecondaryIndex["OrderRecord"]):
    class Meta:
        index_name = "all-orders-index"
        projection = AllProjection()
    all_orders = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class PhoneIndex(GlobalSecondaryIndex["OrderRecord"]):
    """Support finds orders by the contact's phone through a keyed hash, never the number."""
    class Meta:
        index_name = "phone-index"
        projection = KeysOnlyProjection()
    phone_index = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class PendingExpiryIndex(GlobalSecondaryIndex["OrderRecord"]):
    """Sparse: only orders awaiting payment carry `pending`, so the expiry job reads just those."""
    class Meta:
        index_name = "pending-expiry-index"
        projection = KeysOnlyProjection()
    pending = UnicodeAttribute(hash_key=True)
    expires_at = UnicodeAttribute(range_key=True)


class OrderRecord(Model):
    Meta = table_meta("orders")
    order_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    status = UnicodeAttribute()
    total = NumberAttribute()
    lines = ListAttribute(of=MapAttribute)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    contact_name = UnicodeAttribute()
    contact_phone = UnicodeAttribute()           # encrypted
    phone_index = UnicodeAttribute()
    visitors = ListAttribute(of=MapAttribute, default=list)  # ID numbers encrypted
    fulfillment = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)        # encrypted JSON
    history = ListAttribute(of=MapAttribute)
    shipment = MapAttribute(null=True)
    search_text = UnicodeAttribute(default="")   # lower-cased product names for staff search
    all_orders = UnicodeAttribute(default="order")
    pending = UnicodeAttribute(null=True)
    transaction_id = UnicodeAttribute(null=True)
    paid_at = UnicodeAttribute(null=True)
    tickets_total = NumberAttribute(null=True)
    tickets_issued = NumberAttribute(null=True)
    pickup_code = UnicodeAttribute(null=True)
    refund_committed = NumberAttribute(null=True)    # approved refunds, in fen: never above the total
    refunded_total = NumberAttribute(null=True)      # refunds that reached the customer
    refunds_in_flight = NumberAttribute(null=True)
    merch_refund = UnicodeAttribute(null=True)       # the refund that claimed the goods
    customer_index = CustomerIndex()
    status_index = StatusIndex()
    all_orders_index = AllOrdersIndex()
    phone_lookup_index = PhoneIndex()
    pending_expiry_index = PendingExpiryIndex()


def history_entry(status: OrderStatus, at: datetime, by: str) -> dict[str, Any]:
    """An order's `history` element as stored, whoever changes the order's status."""
    return {"status": status.value, "at": stored_time(at), "by": by}


def _history_action(status: OrderStatus, at: datetime, by: str) -> Any:
    return OrderRecord.history.set(OrderRecord.history.append([history_entry(status, at, by)]))


class OrderRepository:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def phone_index(self, phone: str) -> str:
        return self._cipher.blind_index(phone)

    # ------------------------------------------------------------------ writes
    def add(self, uow: UnitOfWork, order: Order, counted_products: set[str]) -> None:
        record = OrderRecord(
            order_id=order.order_id, user_id=order.user_id, status=order.status.value, total=order.total,
            lines=[self._line_to_map(line, line.product_id in counted_products) for line in order.lines],
            created_at=stored_time(order.created_at), updated_at=stored_time(order.created_at),
            expires_at=stored_time(order.expires_at),
            contact_name=order.contact_name, contact_phone=self._cipher.encrypt(order.contact_phone),
            phone_index=self.phone_index(order.contact_phone),
            visitors=[{"name": v.name, "id_type": v.id_type, "id_number": self._cipher.encrypt(v.id_number),
                       "sku_id": v.sku_id} for v in order.visitors],
            fulfillment=order.fulfillment.value if order.fulfillment else None,
            address=self._cipher.encrypt_json(order.address.__dict__) if order.address else None,
            history=[history_entry(h.status, h.at, h.by) for h in order.history],
            search_text=" ".join(sorted({line.product_name.lower() for line in order.lines})),
            pending="pending" if order.status is OrderStatus.PENDING_PAYMENT else None)
        uow.put(record, condition=OrderRecord.order_id.does_not_exist(), tag="order")

    def transition(self, uow: UnitOfWork, order: Order, target: OrderStatus, at: datetime, by: str,
                   shipment: dict[str, str] | None = None) -> None:
        """The conditional write of every state change: it applies only if the order is still in
        the state it was read in."""
        actions = [OrderRecord.shipment.set(shipment)] if shipment else []
        actions += [OrderRecord.status.set(target.value), OrderRecord.updated_at.set(stored_time(at)),
                    _history_action(target, at, by)]
        if order.status is OrderStatus.PENDING_PAYMENT:
            actions.append(OrderRecord.pending.remove())
        uow.update(OrderRecord(order_id=order.order_id), actions,
                   condition=OrderRecord.status == order.status.value, tag="order")
        order.status = target
        order.history.append(HistoryEntry(target, at, by))

    def mark_paid(self, uow: UnitOfWork, order: Order, transaction_id: str, amount: int, at: datetime,
                  tickets_total: int, tickets_now: int, pickup_code: str | None) -> None:
        """PENDING_PAYMENT -> PAID, conditional on the order still pending at the amount paid;
        the old item comes back on failure to tell a duplicate from a late payment."""
        actions = [OrderRecord.status.set(OrderStatus.PAID.value), OrderRecord.updated_at.set(stored_time(at)),
                   _history_action(OrderStatus.PAID, at, "wechatpay"),
                   OrderRecord.pending.remove(), OrderRecord.transaction_id.set(transaction_id),
                   OrderRecord.paid_at.set(stored_time(at)), OrderRecord.tickets_total.set(tickets_total),
                   OrderRecord.tickets_issued.set(tickets_now)]
        if pickup_code:
            actions.append(OrderRecord.pickup_code.set(pickup_code))
        uow.update(OrderRecord(order_id=order.order_id), actions,
                   condition=(OrderRecord.status == OrderStatus.PENDING_PAYMENT.value) & (OrderRecord.total == amount),
                   tag="order", return_old_on_failure=True)
        order.status, order.transaction_id, order.paid_at = OrderStatus.PAID, transaction_id, at
        order.tickets_total, order.tickets_issued, order.pickup_code = tickets_total, tickets_now, pickup_code
        order.history.append(HistoryEntry(OrderStatus.PAID, at, "wechatpay"))

    def advance_issuance(self, uow: UnitOfWork, order_id: str, issued_before: int, issued_after: int) -> None:
        """A further batch of a large order's tickets; conditional on the count it continues from,
        so two resumptions cannot issue the same tickets twice."""
        uow.update(OrderRecord(order_id=order_id), [OrderRecord.tickets_issued.set(issued_after)],
                   condition=OrderRecord.tickets_issued == issued_before, tag="order")

    # ------------------------------------------------------------------ refund bookkeeping
    def claim_refund(self, uow: UnitOfWork, order_id: str, amount: int, total: int, goods_refund: str | None,
                     at: datetime, by: str) -> None:
        """The order enters REFUNDING; the approved total may never exceed what was paid, and the
        goods of an order are claimed by one refund only."""
        actions = [OrderRecord.status.set(OrderStatus.REFUNDING.value), OrderRecord.updated_at.set(stored_time(at)),
                   _history_action(OrderStatus.REFUNDING, at, by),
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

    def settle_refund(self, uow: UnitOfWork, order_id: str, amount: int) -> None:
        uow.update(OrderRecord(order_id=order_id),
                   [OrderRecord.refunded_total.add(amount), OrderRecord.refunds_in_flight.add(-1)],
                   condition=OrderRecord.refunds_in_flight >= 1, tag="order")

    def abandon_refund(self, uow: UnitOfWork, order_id: str) -> None:
        uow.update(OrderRecord(order_id=order_id), [OrderRecord.refunds_in_flight.add(-1)],
                   condition=OrderRecord.refunds_in_flight >= 1, tag="order")

    def finish_refunds(self, uow: UnitOfWork, order_id: str, status: OrderStatus, at: datetime) -> None:
        """The order leaves REFUNDING once no refund of it is in flight."""
        uow.update(OrderRecord(order_id=order_id),
                   [OrderRecord.status.set(status.value), OrderRecord.updated_at.set(stored_time(at)),
                    _history_action(status, at, "refunds")],
                   condition=(OrderRecord.status == OrderStatus.REFUNDING.value) & (OrderRecord.refunds_in_flight == 0),
                   tag="order")

    # ------------------------------------------------------------------ reads
    def from_raw(self, item: dict[str, Any]) -> Order:
        return self._from_record(OrderRecord.from_raw_data(item))

    def get(self, order_id: str) -> tuple[Order, set[str]] | None:
        """The order and the products whose purchase limit counted it."""
        record = get_or_none(OrderRecord, order_id)
        if record is None:
            return None
        return self._from_record(record), {
            line["product_id"] for line in map(plain, record.lines) if line.get("limit_counted")}

    def for_customer(self, user_id: str, limit: int, cursor: str | None) -> Page:
        return page_of(lambda start: OrderRecord.customer_index.query(
            user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start),
            cursor, {"order_id", "user_id", "created_at"}, self._from_record, pinned={"user_id": user_id})

    def search(self, status: str | None, text: str | None, limit: int, cursor: str | None) -> Page:
        """Staff search: by status through its index, product name as a filter on it (or on all
        orders), newest first."""
        condition = OrderRecord.search_text.contains(text.lower()) if text else None
        if status:
            return page_of(lambda start: OrderRecord.status_index.query(
                status, filter_condition=condition, scan_index_forward=False, limit=limit, last_evaluated_key=start),
                cursor, {"order_id", "status", "created_at"}, self._from_record)
        return page_of(lambda start: OrderRecord.all_orders_index.query(
            "order", filter_condition=condition, scan_index_forward=False, limit=limit, last_evaluated_key=start),
            cursor, {"order_id", "all_orders", "created_at"}, self._from_record)

    def pending_expired(self, now: datetime, limit: int) -> list[str]:
        """Orders awaiting payment past their expiry, from the sparse index (no Scan)."""
        return [r.order_id for r in OrderRecord.pending_expiry_index.query(
            "pending", OrderRecord.expires_at <= stored_time(now), limit=limit)]

    def by_phone(self, phone: str, limit: int) -> list[Order]:
        keys = [r.order_id for r in OrderRecord.phone_lookup_index.query(
            self.phone_index(phone), scan_index_forward=False, limit=limit)]
        found = batch_get({OrderRecord: keys[:100]})[OrderRecord] if keys else {}
        return [self._from_record(found[k]) for k in keys if k in found]  # type: ignore[arg-type]

    # ------------------------------------------------------------------ mapping
    @staticmethod
    def _line_to_map(line: OrderLine, limit_counted: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sku_id": line.sku_id, "product_id": line.product_id, "product_name": line.product_name,
            "sku_name": line.sku_name, "kind": line.kind.value, "unit_price": line.unit_price,
            "quantity": line.quantity, "limit_counted": limit_counted}
        if line.session:
            data["session_start"], data["session_end"] = stored_time(line.session.start), stored_time(line.session.end)
        if line.valid_from and line.valid_until:
            data["valid_from"], data["valid_until"] = stored_time(line.valid_from), stored_time(line.valid_until)
        return data

    def _from_record(self, record: OrderRecord) -> Order:
        lines = []
        for m in map(plain, record.lines):
            session = (Session(timeutil.from_storage(m["session_start"]), timeutil.from_storage(m["session_end"]))
                       if m.get("session_start") else None)
            lines.append(OrderLine(
                sku_id=m["sku_id"], product_id=m["product_id"], product_name=m["product_name"],
                sku_name=m["sku_name"], kind=Kind(m["kind"]), unit_price=int(m["unit_price"]),
                quantity=int(m["quantity"]), session=session, valid_from=read_time(m.get("valid_from")),
                valid_until=read_time(m.get("valid_until"))))
        visitors = [Visitor(v["name"], v["id_type"], self._cipher.decrypt(v["id_number"]), v["sku_id"])
                    for v in map(plain, record.visitors or [])]
        history = [HistoryEntry(OrderStatus(h["status"]), timeutil.from_storage(h["at"]), h["by"])
                   for h in map(plain, record.history)]
        address = None
        if record.address:
            address = Address(**self._cipher.decrypt_json(record.address))  # type: ignore[arg-type]
        shipment = record.shipment.as_dict() if record.shipment else None
        return Order(order_id=record.order_id, user_id=record.user_id, status=OrderStatus(record.status),
                     lines=lines, created_at=timeutil.from_storage(record.created_at),
                     expires_at=timeutil.from_storage(record.expires_at), contact_name=record.contact_name,
                     contact_phone=self._cipher.decrypt(record.contact_phone), visitors=visitors,
                     fulfillment=Fulfillment(record.fulfillment) if record.fulfillment else None,
                     address=address, history=history, shipment=shipment, transaction_id=record.transaction_id,
                     paid_at=read_time(record.paid_at), tickets_total=int(record.tickets_total or 0),
                     tickets_issued=int(record.tickets_issued or 0), pickup_code=record.pickup_code,
                     refunded_total=int(record.refunded_total or 0),
                     refunds_in_flight=int(record.refunds_in_flight or 0), merch_refund=record.merch_refund)
