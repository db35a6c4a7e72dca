"""Orders in DynamoDB: every state change is a conditional write on the state the order was
read in (refund bookkeeping included); reads by customer, status, phone and due dates."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from ..domain.model import HistoryEntry, Order, OrderStatus
from ..service_layer.ports import FieldCipher, Page
from ..service_layer.tags import Tag
from .dynamo import batch_get_many, each_shard, fanned_page, get_or_none, page_of, plain, stored_time
from .unit_of_work import UnitOfWork
from .order_records import OrderRecord, history_entry, index_key, index_keys, line_to_map, order_from


def _history_action(status: OrderStatus, at: datetime, by: str) -> Any:
    return OrderRecord.history.set(OrderRecord.history.append([history_entry(status, at, by)]))


def _search_text(order: Order) -> str:
    """Lower-cased product names, for staff's search."""
    return " ".join(sorted({line.product_name.lower() for line in order.lines}))


def _promotions(order: Order) -> list[dict[str, Any]]:
    return [{"kind": p.kind, "id": p.id, "name": p.name, "amount": p.amount,
             **({"coupon_id": p.coupon_id} if p.coupon_id else {})} for p in order.promotions]


def _on_attempt(attempt: int) -> Any:
    """The order is still on that payment attempt (the first leaves the attribute absent)."""
    return OrderRecord.attempt.does_not_exist() if attempt <= 1 else OrderRecord.attempt == attempt


def _status_actions(order_id: str, status: OrderStatus, at: datetime, by: str) -> list[Any]:
    """Every status change: the status, its shard of the status index, when and by whom."""
    return [OrderRecord.status.set(status.value), OrderRecord.status_key.set(index_key(status.value, order_id)),
            OrderRecord.updated_at.set(stored_time(at)), _history_action(status, at, by)]


class OrderRepository:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def _from(self, record: OrderRecord) -> Order:
        return order_from(record, self._cipher)

    def phone_index(self, phone: str) -> str:
        return self._cipher.blind_index(phone)

    # ------------------------------------------------------------------ writes
    def add(self, uow: UnitOfWork, order: Order, counted_products: set[str]) -> None:
        record = OrderRecord(
            order_id=order.order_id, user_id=order.user_id, status=order.status.value,
            status_key=index_key(order.status.value, order.order_id), total=order.total,
            lines=[line_to_map(line, line.product_id in counted_products) for line in order.lines],
            created_at=stored_time(order.created_at), updated_at=stored_time(order.created_at),
            listed_at=f"{stored_time(order.created_at)}#{order.order_id}",
            expires_at=stored_time(order.expires_at),
            contact_name=self._cipher.encrypt(order.contact_name), contact_phone=self._cipher.encrypt(order.contact_phone),
            phone_index=self.phone_index(order.contact_phone),
            visitors=self._visitors(order),
            fulfillment=order.fulfillment.value if order.fulfillment else None,
            address=self._cipher.encrypt_json(order.address.__dict__) if order.address else None,
            history=[history_entry(h.status, h.at, h.by) for h in order.history],
            search_text=_search_text(order),
            all_orders=index_key("order", order.order_id),
            pending=index_key("pending", order.order_id) if order.status is OrderStatus.PENDING_PAYMENT else None,
            holds_unpaid=order.holds_unpaid or None,
            promotions=_promotions(order) or None,
            coupon_id=order.coupon_id)
        uow.put(record, condition=OrderRecord.order_id.does_not_exist(), tag=Tag.ORDER)

    def _visitors(self, order: Order) -> list[dict[str, str]]:
        return [{"name": self._cipher.encrypt(v.name), "id_type": v.id_type,
                 "id_number": self._cipher.encrypt(v.id_number), "sku_id": v.sku_id} for v in order.visitors]

    def transition(self, uow: UnitOfWork, order: Order, target: OrderStatus, at: datetime, by: str,
                   shipment: dict[str, str] | None = None, receipt_due: datetime | None = None,
                   reason: str | None = None) -> None:
        """The conditional write of every state change: it applies only if the order is still in
        the state it was read in (an unpaid one: on the payment attempt it was read on, so that
        its end gives back the lines it holds now). Shipping also needs the goods unclaimed by
        any refund."""
        actions = _status_actions(order.order_id, target, at, by)
        if reason:
            actions.append(OrderRecord.cancel_reason.set(reason))
            order.cancel_reason = reason
        if shipment:
            actions += [OrderRecord.shipment.set(shipment), OrderRecord.shipped_at.set(stored_time(at))]
            order.shipped_at = at
        if receipt_due:
            actions += [OrderRecord.awaiting_receipt.set(index_key("shipped", order.order_id)),
                        OrderRecord.receipt_due_at.set(stored_time(receipt_due))]
        if order.status is OrderStatus.SHIPPED:
            actions += [OrderRecord.awaiting_receipt.remove(), OrderRecord.receipt_due_at.remove()]
        if order.status is OrderStatus.PENDING_PAYMENT:
            actions.append(OrderRecord.pending.remove())
        condition = OrderRecord.status == order.status.value
        if order.status is OrderStatus.PENDING_PAYMENT:
            condition &= _on_attempt(order.attempt)     # a change meanwhile holds other lines
        if shipment:
            condition &= OrderRecord.merch_refund.does_not_exist() & OrderRecord.shipment.does_not_exist()
        uow.update(OrderRecord(order_id=order.order_id), actions, condition=condition, tag=Tag.ORDER)
        order.status = target
        order.history.append(HistoryEntry(target, at, by))

    def mark_paid(self, uow: UnitOfWork, order: Order, transaction_id: str, amount: int, at: datetime,
                  tickets_total: int, tickets_now: int, pickup_code: str | None) -> None:
        """PENDING_PAYMENT -> PAID, conditional on the order still pending at the amount paid;
        the old item comes back on failure to tell a duplicate from a late payment."""
        # An order whose tickets take more than this transaction stays in the pending index until
        # the last of them is out, so that the schedule finishes what a failure cut short.
        actions = [*_status_actions(order.order_id, OrderStatus.PAID, at, "wechatpay"),
                   *([OrderRecord.pending.remove()] if tickets_now >= tickets_total else []),
                   OrderRecord.transaction_id.set(transaction_id),
                   OrderRecord.paid_at.set(stored_time(at)), OrderRecord.tickets_total.set(tickets_total),
                   OrderRecord.tickets_issued.set(tickets_now)]
        if pickup_code:
            actions.append(OrderRecord.pickup_code.set(pickup_code))
        uow.update(OrderRecord(order_id=order.order_id), actions,
                   condition=(OrderRecord.status == OrderStatus.PENDING_PAYMENT.value) & (OrderRecord.total == amount)
                   & _on_attempt(order.attempt),
                   tag=Tag.ORDER, return_old_on_failure=True)
        order.status, order.transaction_id, order.paid_at = OrderStatus.PAID, transaction_id, at
        order.tickets_total, order.tickets_issued, order.pickup_code = tickets_total, tickets_now, pickup_code
        order.history.append(HistoryEntry(OrderStatus.PAID, at, "wechatpay"))

    def change(self, uow: UnitOfWork, before: Order, after: Order, counted_products: set[str], at: datetime) -> None:
        """改单: the lines, visitors, price and coupon of an unpaid order replaced, its next payment
        attempt opened; conditional on the order still pending on the attempt it was read on, so
        that a payment, an expiry or another change in between refuses it."""
        actions = [OrderRecord.lines.set([line_to_map(line, line.product_id in counted_products)
                                          for line in after.lines]),
                   OrderRecord.visitors.set(self._visitors(after)), OrderRecord.total.set(after.total),
                   OrderRecord.search_text.set(_search_text(after)),
                   OrderRecord.promotions.set(_promotions(after)) if after.promotions else OrderRecord.promotions.remove(),
                   OrderRecord.coupon_id.set(after.coupon_id) if after.coupon_id else OrderRecord.coupon_id.remove(),
                   OrderRecord.fulfillment.set(after.fulfillment.value) if after.fulfillment
                   else OrderRecord.fulfillment.remove(),
                   OrderRecord.attempt.set(after.attempt), OrderRecord.changes.set(after.changes),
                   OrderRecord.updated_at.set(stored_time(at))]
        uow.update(OrderRecord(order_id=before.order_id), actions,
                   condition=(OrderRecord.status == OrderStatus.PENDING_PAYMENT.value) & _on_attempt(before.attempt),
                   tag=Tag.ORDER)

    def open_attempt(self, uow: UnitOfWork, order: Order) -> None:
        """The next payment attempt of an unchanged order: its open trade was closed for a change
        that could not be made, and a closed trade can no longer be paid."""
        uow.update(OrderRecord(order_id=order.order_id), [OrderRecord.attempt.set(order.attempt + 1)],
                   condition=(OrderRecord.status == OrderStatus.PENDING_PAYMENT.value) & _on_attempt(order.attempt),
                   tag=Tag.ORDER)

    def advance_issuance(self, uow: UnitOfWork, order_id: str, issued_before: int, issued_after: int,
                         last: bool = False) -> None:
        """A further batch of a large order's tickets; conditional on the count it continues from,
        so two resumptions cannot issue the same tickets twice. The `last` leaves the pending index."""
        uow.update(OrderRecord(order_id=order_id), [OrderRecord.tickets_issued.set(issued_after),
                                                    *([OrderRecord.pending.remove()] if last else [])],
                   condition=OrderRecord.tickets_issued == issued_before, tag=Tag.ORDER)

    # ------------------------------------------------------------------ refund bookkeeping
    def claim_refund(self, uow: UnitOfWork, order: Order, refund_id: str, amount: int, claims_goods: bool,
                     goods_returned: bool, at: datetime, by: str) -> None:
        """A refund is approved: the order (as read) enters REFUNDING, remembering what it was;
        approved refunds never add up beyond what was paid; the goods are this refund's alone;
        and goods already shipped come back only when staff say they did."""
        actions = [*_status_actions(order.order_id, OrderStatus.REFUNDING, at, by),
                   OrderRecord.refund_committed.add(amount),
                   OrderRecord.refunds_in_flight.add(1),
                   OrderRecord.before_refund.set(OrderRecord.before_refund | order.status.value)]
        if order.status is OrderStatus.SHIPPED:      # no automatic receipt while goods may be coming back
            actions += [OrderRecord.awaiting_receipt.remove(), OrderRecord.receipt_due_at.remove()]
        condition = (OrderRecord.status == order.status.value) & (
            OrderRecord.refund_committed.does_not_exist() | (OrderRecord.refund_committed <= order.total - amount))
        if claims_goods:
            actions.append(OrderRecord.merch_refund.set(refund_id))
            condition &= OrderRecord.merch_refund.does_not_exist() | (OrderRecord.merch_refund == refund_id)
            if not goods_returned:
                condition &= OrderRecord.shipment.does_not_exist()
        uow.update(OrderRecord(order_id=order.order_id), actions, condition=condition, tag=Tag.ORDER,
                   return_old_on_failure=True)

    def claim_goods(self, uow: UnitOfWork, order_id: str, refund_id: str) -> None:
        uow.update(OrderRecord(order_id=order_id), [OrderRecord.merch_refund.set(refund_id)],
                   condition=OrderRecord.merch_refund.does_not_exist(), tag=Tag.ORDER)

    def goods_unclaimed(self, uow: UnitOfWork, order_id: str) -> None:
        """A check that no refund claims the order's goods (an after-sale takes them instead)."""
        uow.check(OrderRecord, order_id, OrderRecord.merch_refund.does_not_exist(), tag=Tag.ORDER)

    def release_goods(self, uow: UnitOfWork, order_id: str, refund_id: str) -> None:
        """A rejected request gives the goods back to the order, so the customer may ask again."""
        uow.update(OrderRecord(order_id=order_id), [OrderRecord.merch_refund.remove()],
                   condition=OrderRecord.merch_refund == refund_id, tag=Tag.ORDER)

    @staticmethod
    def _settling(order: Order, finish: OrderStatus | None, at: datetime,
                  receipt_due: datetime | None = None) -> tuple[list[Any], Any]:
        """Refund bookkeeping applies to the order as read (its status and refunds in flight), so
        that the status it settles in (`finish`, when none is left in flight) is the right one. A
        shipped order that comes back to SHIPPED waits for its receipt again."""
        actions: list[Any] = []
        if finish is not None:
            actions = [*_status_actions(order.order_id, finish, at, "refunds"), OrderRecord.before_refund.remove()]
        if finish is OrderStatus.SHIPPED and receipt_due is not None:
            actions += [OrderRecord.awaiting_receipt.set(index_key("shipped", order.order_id)),
                        OrderRecord.receipt_due_at.set(stored_time(receipt_due))]
        condition = (OrderRecord.status == order.status.value) & (
            OrderRecord.refunds_in_flight == order.refunds_in_flight if order.refunds_in_flight
            else OrderRecord.refunds_in_flight.does_not_exist() | (OrderRecord.refunds_in_flight == 0))
        return actions, condition

    def settle_refund(self, uow: UnitOfWork, order: Order, amount: int, finish: OrderStatus | None,
                      at: datetime) -> None:
        """WeChat confirmed a refund in flight: the money reached the customer."""
        actions, condition = self._settling(order, finish, at)
        uow.update(OrderRecord(order_id=order.order_id),
                   [OrderRecord.refunded_total.add(amount), OrderRecord.refunds_in_flight.add(-1), *actions],
                   condition=condition & (OrderRecord.refunds_in_flight >= 1), tag=Tag.ORDER)

    def release_refund(self, uow: UnitOfWork, order: Order, refund_id: str, amount: int, held_goods: bool,
                       finish: OrderStatus | None, at: datetime, receipt_due: datetime | None = None) -> None:
        """A refund failed: nothing moved, so its amount (and the goods it claimed) are free for
        a retry or a new request."""
        actions, condition = self._settling(order, finish, at, receipt_due)
        actions += [OrderRecord.refund_committed.add(-amount), OrderRecord.refunds_in_flight.add(-1)]
        condition &= (OrderRecord.refunds_in_flight >= 1) & (OrderRecord.refund_committed >= amount)
        if held_goods:
            actions.append(OrderRecord.merch_refund.remove())
            condition &= OrderRecord.merch_refund == refund_id
        uow.update(OrderRecord(order_id=order.order_id), actions, condition=condition, tag=Tag.ORDER)

    def settle_released_refund(self, uow: UnitOfWork, order: Order, refund_id: str, amount: int, held_goods: bool,
                               goods_returned: bool, finish: OrderStatus | None, at: datetime) -> None:
        """WeChat confirms, late, a refund we had released as failed: it is claimed again and
        settled at once, never beyond what was paid, and never for goods shipped meanwhile."""
        actions, condition = self._settling(order, finish, at)
        actions += [OrderRecord.refund_committed.add(amount), OrderRecord.refunded_total.add(amount)]
        condition &= OrderRecord.refund_committed.does_not_exist() | (
            OrderRecord.refund_committed <= order.total - amount)
        if held_goods:
            actions.append(OrderRecord.merch_refund.set(refund_id))
            condition &= OrderRecord.merch_refund.does_not_exist() | (OrderRecord.merch_refund == refund_id)
            if not goods_returned:
                condition &= OrderRecord.shipment.does_not_exist()
        uow.update(OrderRecord(order_id=order.order_id), actions, condition=condition, tag=Tag.ORDER)

    # ------------------------------------------------------------------ reads
    def from_raw(self, item: dict[str, Any]) -> Order:
        return self._from(OrderRecord.from_raw_data(item))

    def get(self, order_id: str) -> tuple[Order, set[str]] | None:
        """The order and the products whose purchase limit counted it."""
        record = get_or_none(OrderRecord, order_id)
        if record is None:
            return None
        return self._from(record), {
            line["product_id"] for line in map(plain, record.lines) if line.get("limit_counted")}

    def many(self, order_ids: Iterable[str]) -> dict[str, Order]:
        """Orders by id, a hundred per BatchGetItem (those that exist)."""
        return {order_id: self._from(record) for order_id, record in batch_get_many(OrderRecord, order_ids).items()}

    def _load(self, keys: list[str]) -> list[Order]:
        """The orders behind an index page, read whole (the indexes hold keys), in its order."""
        found = batch_get_many(OrderRecord, keys)
        return [self._from(found[k]) for k in keys if k in found]

    def for_customer(self, user_id: str, limit: int, cursor: str | None) -> Page:
        keys = page_of(lambda start: OrderRecord.customer_index.query(
            user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start),
            cursor, {"order_id", "user_id", "created_at"}, lambda r: r.order_id, pinned={"user_id": user_id})
        return Page(self._load(keys.items), keys.next)

    def search(self, status: str | None, text: str | None, limit: int, cursor: str | None) -> Page:
        """Staff search: by status, or among all orders, newest first; the product name filters
        in the index. Both indexes are spread over shards, read together and merged."""
        condition = OrderRecord.search_text.contains(text.lower()) if text else None
        index, key_of = ((OrderRecord.status_index, index_keys(status)) if status
                         else (OrderRecord.all_orders_index, index_keys("order")))

        def shard(key: str, before: str | None, count: int) -> Any:
            return index.query(key, OrderRecord.listed_at < before if before else None,
                               filter_condition=condition, scan_index_forward=False, limit=count)
        rows, next_cursor = fanned_page(shard, key_of, "listed_at", limit, cursor, descending=True)
        return Page(self._load([r.order_id for r in rows]), next_cursor)

    @staticmethod
    def _due(index: Any, value: str, due_attribute: Any, due_name: str, now: datetime, limit: int) -> list[str]:
        """The earliest-due orders of a sparse, spread index: each shard's first `limit`, merged."""
        shards = each_shard(lambda key: index.query(key, due_attribute <= stored_time(now), limit=limit),
                            index_keys(value))
        due = sorted((getattr(r, due_name), r.order_id) for rows in shards for r in rows)
        return [order_id for _, order_id in due[:limit]]

    def pending_expired(self, now: datetime, limit: int) -> list[str]:
        """Orders awaiting payment past their expiry, from the sparse index (no Scan)."""
        return self._due(OrderRecord.pending_expiry_index, "pending", OrderRecord.expires_at, "expires_at",
                         now, limit)

    def forget_receipt(self, order_id: str) -> None:
        """An order no longer shipped leaves the receipt-due index (it never waits for one again)."""
        OrderRecord(order_id=order_id).update(
            actions=[OrderRecord.awaiting_receipt.remove(), OrderRecord.receipt_due_at.remove()],
            condition=OrderRecord.status != OrderStatus.SHIPPED.value)

    def receipt_due(self, now: datetime, limit: int) -> list[str]:
        """Shipped orders whose customer never confirmed receipt, due for automatic completion."""
        return self._due(OrderRecord.receipt_due_index, "shipped", OrderRecord.receipt_due_at, "receipt_due_at",
                         now, limit)

    def by_phone(self, phone: str, limit: int) -> list[Order]:
        keys = [r.order_id for r in OrderRecord.phone_lookup_index.query(
            self.phone_index(phone), scan_index_forward=False, limit=limit)]
        return self._load(keys)
