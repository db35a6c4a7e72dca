"""Repositories: map domain objects to DynamoDB items and back. Reads happen here; writes are
added to a UnitOfWork so that each use case commits once, all or nothing."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from pynamodb.exceptions import DoesNotExist, PutError, QueryError, UpdateError
from pynamodb.expressions.condition import Condition

from ..domain import timeutil
from ..domain.errors import InvalidInput
from ..domain.model import (Address, Fulfillment, HistoryEntry, Kind, Order, OrderLine, OrderStatus,
                            Product, ProductStatus, Session, Sku, Visitor)
from .dynamo import UnitOfWork, batch_get, decode_cursor, encode_cursor
from .security import FieldCipher
from .tables import (AuditRecord, CustomerRecord, IdempotencyRecord, LoginThrottleRecord, MovementRecord,
                     OrderRecord, ProductRecord, PurchaseCounterRecord, SkuRecord, StaffRecord)


def _t(value: datetime | None) -> str | None:
    return timeutil.to_storage(value) if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return timeutil.from_storage(value) if value else None


def _plain(value: Any) -> dict[str, Any]:
    """A list-of-maps element as a dict, whichever form pynamodb deserialized it into."""
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)


def history_entry(status: OrderStatus, at: datetime, by: str) -> dict[str, Any]:
    """An order's `history` element as stored, whoever changes the order's status."""
    return {"status": status.value, "at": _t(at), "by": by}


def _stamp(at: datetime) -> str:
    """A sortable unique key part: the UTC time plus randomness for writes in the same microsecond."""
    return f"{timeutil.to_storage(at)}#{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next: str | None


def _page(result: Any, convert: Any) -> Page:
    items = [convert(r) for r in result]
    return Page(items, encode_cursor(result.last_evaluated_key))


def _query_errors_as_input(error: QueryError) -> InvalidInput:
    # A cursor whose values were altered by the client is rejected by DynamoDB as a bad start key.
    return InvalidInput("cursor is not valid", code="INVALID_CURSOR", field="cursor")


# ---------------------------------------------------------------- catalog

def product_from(record: ProductRecord) -> Product:
    return Product(
        product_id=record.product_id, kind=Kind(record.kind), name=record.name,
        description=record.description or "", category=record.category, tags=list(record.tags or []),
        status=ProductStatus(record.status), list_at=_dt(record.list_at), delist_at=_dt(record.delist_at),
        purchase_limit=int(record.purchase_limit) if record.purchase_limit is not None else None,
        real_name=bool(record.real_name), fulfillment=[Fulfillment(f) for f in record.fulfillment or []],
        sku_ids=list(record.sku_ids or []), created_at=_dt(record.created_at), version=record.updated_at)


def sku_from(record: SkuRecord) -> Sku:
    session = None
    if record.session_start and record.session_end:
        session = Session(timeutil.from_storage(record.session_start), timeutil.from_storage(record.session_end))
    return Sku(sku_id=record.sku_id, product_id=record.product_id, name=record.name, price=int(record.price),
               available=int(record.available), reserved=int(record.reserved or 0), sold=int(record.sold or 0),
               low_stock_threshold=int(record.low_stock_threshold or 0), session=session,
               valid_from=_dt(record.valid_from), valid_until=_dt(record.valid_until),
               attributes=dict(record.attributes.as_dict() if record.attributes else {}))


class CatalogRepository:
    def add_product(self, uow: UnitOfWork, product: Product, now: datetime) -> None:
        record = ProductRecord(
            product_id=product.product_id, kind=product.kind.value, name=product.name,
            description=product.description, category=product.category, tags=product.tags,
            status=product.status.value, list_at=_t(product.list_at), delist_at=_t(product.delist_at),
            purchase_limit=product.purchase_limit, real_name=product.real_name,
            fulfillment=[f.value for f in product.fulfillment], sku_ids=product.sku_ids,
            created_at=_t(now), updated_at=_t(now),
            catalog="listed" if product.may_become_visible else None)
        uow.put(record, condition=ProductRecord.product_id.does_not_exist(), tag="product")

    def add_sku_to_product(self, uow: UnitOfWork, product_id: str, sku_id: str, now: datetime) -> None:
        uow.update(ProductRecord(product_id=product_id),
                   [ProductRecord.sku_ids.set(ProductRecord.sku_ids.append([sku_id])),
                    ProductRecord.updated_at.set(_t(now))],
                   condition=ProductRecord.product_id.exists(), tag="product")

    def update_product(self, uow: UnitOfWork, before: Product, after: Product, changed: Iterable[str],
                       now: datetime) -> None:
        """Writes the changed fields, conditional on the product still being as it was read, so
        two editors cannot silently overwrite each other."""
        actions = [ProductRecord.updated_at.set(_t(now))]
        for name in changed:
            value = getattr(after, name)
            attribute = getattr(ProductRecord, name)
            if name in ("list_at", "delist_at"):
                value = _t(value)
            elif name == "status":
                value = value.value
            elif name == "fulfillment":
                value = [f.value for f in value]
            actions.append(attribute.remove() if value is None else attribute.set(value))
        actions.append(ProductRecord.catalog.set("listed") if after.may_become_visible
                       else ProductRecord.catalog.remove())
        uow.update(ProductRecord(product_id=before.product_id), actions,
                   condition=ProductRecord.updated_at == before.version, tag="product")

    def product(self, product_id: str) -> Product | None:
        try:
            record = ProductRecord.get(product_id, consistent_read=True)
        except DoesNotExist:
            return None
        return product_from(record)

    def skus(self, sku_ids: Iterable[str]) -> dict[str, Sku]:
        ids = list(sku_ids)
        found: dict[str, Sku] = {}
        for start in range(0, len(ids), 100):
            records = batch_get({SkuRecord: ids[start:start + 100]})[SkuRecord]
            found.update({k: sku_from(v) for k, v in records.items()})  # type: ignore[arg-type]
        return found

    def catalog_page(self, limit: int, cursor: str | None, kind: str | None, category: str | None,
                     tag: str | None) -> Page:
        condition: Condition | None = None
        for part in (ProductRecord.kind == kind if kind else None,
                     ProductRecord.category == category if category else None,
                     ProductRecord.tags.contains(tag) if tag else None):
            if part is not None:
                condition = part if condition is None else condition & part
        start = decode_cursor(cursor, {"product_id", "catalog", "created_at"})
        try:
            result = ProductRecord.catalog_index.query(
                "listed", filter_condition=condition, scan_index_forward=False, limit=limit,
                last_evaluated_key=start)
            return _page(result, product_from)
        except QueryError as error:
            raise _query_errors_as_input(error) from error


# ---------------------------------------------------------------- stock

class StockLedger:
    """Every change of a SKU's `available` is a conditional update plus a movement in the same
    transaction, so the ledger of a SKU always sums to its stock."""

    def _movement(self, uow: UnitOfWork, sku_id: str, delta: int, reason: str, at: datetime,
                  actor: str | None = None, order_id: str | None = None) -> None:
        uow.put(MovementRecord(sku_id=sku_id, movement_id=_stamp(at), delta=delta, reason=reason,
                               actor=actor, order_id=order_id, at=_t(at)),
                condition=MovementRecord.movement_id.does_not_exist(), tag=f"movement:{sku_id}")

    def add_sku(self, uow: UnitOfWork, sku: Sku, at: datetime, actor: str) -> None:
        uow.put(SkuRecord(
            sku_id=sku.sku_id, product_id=sku.product_id, name=sku.name, price=sku.price,
            available=sku.available, reserved=0, sold=0, low_stock_threshold=sku.low_stock_threshold,
            session_start=_t(sku.session.start) if sku.session else None,
            session_end=_t(sku.session.end) if sku.session else None,
            valid_from=_t(sku.valid_from), valid_until=_t(sku.valid_until), attributes=sku.attributes),
            condition=SkuRecord.sku_id.does_not_exist(), tag=f"sku:{sku.sku_id}")
        if sku.available:
            self._movement(uow, sku.sku_id, sku.available, "initial_stock", at, actor=actor)

    def adjust(self, uow: UnitOfWork, sku_id: str, delta: int, reason: str, at: datetime, actor: str) -> None:
        condition = SkuRecord.sku_id.exists()
        if delta < 0:
            condition &= SkuRecord.available >= -delta
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.available.add(delta)], condition=condition,
                   tag=f"sku:{sku_id}")
        self._movement(uow, sku_id, delta, reason, at, actor=actor)

    def count(self, uow: UnitOfWork, sku_id: str, expected: int, counted: int, reason: str, at: datetime,
              actor: str) -> None:
        """A stocktake line: applies only if nothing moved since `expected` was read."""
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.available.set(counted)],
                   condition=SkuRecord.available == expected, tag=f"sku:{sku_id}")
        if counted != expected:
            self._movement(uow, sku_id, counted - expected, reason, at, actor=actor)

    def reserve(self, uow: UnitOfWork, sku_id: str, quantity: int, order_id: str, at: datetime) -> None:
        uow.update(SkuRecord(sku_id=sku_id),
                   [SkuRecord.available.add(-quantity), SkuRecord.reserved.add(quantity)],
                   condition=SkuRecord.sku_id.exists() & (SkuRecord.available >= quantity),
                   tag=f"sku:{sku_id}")
        self._movement(uow, sku_id, -quantity, "order_reserved", at, order_id=order_id)

    def sell(self, uow: UnitOfWork, sku_id: str, quantity: int) -> None:
        """Payment turns reserved units into sold ones; `available` does not move, so no movement."""
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.reserved.add(-quantity), SkuRecord.sold.add(quantity)],
                   condition=SkuRecord.reserved >= quantity, tag=f"sku:{sku_id}")

    def give_back_sold(self, uow: UnitOfWork, sku_id: str, quantity: int, refund_id: str, at: datetime) -> None:
        """A refund returns sold units to sale, once: the caller's transaction is conditional on
        the refund's state."""
        uow.update(SkuRecord(sku_id=sku_id), [SkuRecord.available.add(quantity), SkuRecord.sold.add(-quantity)],
                   condition=SkuRecord.sold >= quantity, tag=f"sku:{sku_id}")
        self._movement(uow, sku_id, quantity, f"refunded {refund_id}", at)

    def release(self, uow: UnitOfWork, sku_id: str, quantity: int, order_id: str, reason: str,
                at: datetime) -> None:
        uow.update(SkuRecord(sku_id=sku_id),
                   [SkuRecord.available.add(quantity), SkuRecord.reserved.add(-quantity)],
                   condition=SkuRecord.reserved >= quantity, tag=f"sku:{sku_id}")
        self._movement(uow, sku_id, quantity, reason, at, order_id=order_id)

    def inventory_page(self, limit: int, cursor: str | None, below_threshold: bool) -> Page:
        start = decode_cursor(cursor, {"sku_id", "inventory"})
        condition = SkuRecord.available < SkuRecord.low_stock_threshold if below_threshold else None
        try:
            return _page(SkuRecord.inventory_index.query("sku", filter_condition=condition, limit=limit,
                                                         last_evaluated_key=start), sku_from)
        except QueryError as error:
            raise _query_errors_as_input(error) from error

    def movements_page(self, sku_id: str, limit: int, cursor: str | None) -> Page:
        start = decode_cursor(cursor, {"sku_id", "movement_id"})
        if start is not None and start["sku_id"] != {"S": sku_id}:
            raise InvalidInput("cursor is not valid", code="INVALID_CURSOR", field="cursor")
        try:
            result = MovementRecord.query(sku_id, limit=limit, last_evaluated_key=start)
            return _page(result, lambda r: {
                "delta": int(r.delta), "reason": r.reason, "actor": r.actor, "order_id": r.order_id,
                "at": timeutil.from_storage(r.at)})
        except QueryError as error:
            raise _query_errors_as_input(error) from error

    def all_movements(self, sku_id: str) -> list[int]:
        return [int(r.delta) for r in MovementRecord.query(sku_id, consistent_read=True)]


# ---------------------------------------------------------------- orders

class OrderRepository:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def phone_index(self, phone: str) -> str:
        return self._cipher.blind_index(phone)

    def add(self, uow: UnitOfWork, order: Order, counted_products: set[str]) -> None:
        record = OrderRecord(
            order_id=order.order_id, user_id=order.user_id, status=order.status.value, total=order.total,
            lines=[self._line_to_map(line, line.product_id in counted_products) for line in order.lines],
            created_at=_t(order.created_at), updated_at=_t(order.created_at), expires_at=_t(order.expires_at),
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
        entry = HistoryEntry(target, at, by)
        actions = [OrderRecord.shipment.set(shipment)] if shipment else []
        actions += [OrderRecord.status.set(target.value), OrderRecord.updated_at.set(_t(at)),
                   OrderRecord.history.set(OrderRecord.history.append([history_entry(entry.status, entry.at, entry.by)]))]
        if order.status is OrderStatus.PENDING_PAYMENT:
            actions.append(OrderRecord.pending.remove())
        uow.update(OrderRecord(order_id=order.order_id), actions,
                   condition=OrderRecord.status == order.status.value, tag="order")
        order.status = target
        order.history.append(entry)

    def mark_paid(self, uow: UnitOfWork, order: Order, transaction_id: str, amount: int, at: datetime,
                  tickets_total: int, tickets_now: int, pickup_code: str | None) -> None:
        """PENDING_PAYMENT -> PAID, conditional on the order still pending at the amount paid;
        the old item comes back on failure to tell a duplicate from a late payment."""
        entry = HistoryEntry(OrderStatus.PAID, at, "wechatpay")
        actions = [OrderRecord.status.set(OrderStatus.PAID.value), OrderRecord.updated_at.set(_t(at)),
                   OrderRecord.history.set(OrderRecord.history.append([history_entry(entry.status, entry.at, entry.by)])),
                   OrderRecord.pending.remove(), OrderRecord.transaction_id.set(transaction_id),
                   OrderRecord.paid_at.set(_t(at)), OrderRecord.tickets_total.set(tickets_total),
                   OrderRecord.tickets_issued.set(tickets_now)]
        if pickup_code:
            actions.append(OrderRecord.pickup_code.set(pickup_code))
        uow.update(OrderRecord(order_id=order.order_id), actions,
                   condition=(OrderRecord.status == OrderStatus.PENDING_PAYMENT.value) & (OrderRecord.total == amount),
                   tag="order", return_old_on_failure=True)
        order.status, order.transaction_id, order.paid_at = OrderStatus.PAID, transaction_id, at
        order.tickets_total, order.tickets_issued, order.pickup_code = tickets_total, tickets_now, pickup_code
        order.history.append(entry)

    def advance_issuance(self, uow: UnitOfWork, order_id: str, issued_before: int, issued_after: int) -> None:
        """A further batch of a large order's tickets; conditional on the count it continues from,
        so two resumptions cannot issue the same tickets twice."""
        uow.update(OrderRecord(order_id=order_id), [OrderRecord.tickets_issued.set(issued_after)],
                   condition=OrderRecord.tickets_issued == issued_before, tag="order")

    def from_raw(self, item: dict[str, Any]) -> Order:
        return self._from_record(OrderRecord.from_raw_data(item))

    def get(self, order_id: str) -> tuple[Order, set[str]] | None:
        """The order and the products whose purchase limit counted it."""
        try:
            record = OrderRecord.get(order_id, consistent_read=True)
        except DoesNotExist:
            return None
        return self._from_record(record), {
            line["product_id"] for line in map(_plain, record.lines) if line.get("limit_counted")}

    def for_customer(self, user_id: str, limit: int, cursor: str | None) -> Page:
        start = decode_cursor(cursor, {"order_id", "user_id", "created_at"})
        if start is not None and start["user_id"] != {"S": user_id}:
            raise InvalidInput("cursor is not valid", code="INVALID_CURSOR", field="cursor")
        try:
            result = OrderRecord.customer_index.query(user_id, scan_index_forward=False, limit=limit,
                                                      last_evaluated_key=start)
            return _page(result, self._from_record)
        except QueryError as error:
            raise _query_errors_as_input(error) from error

    def search(self, status: str | None, text: str | None, limit: int, cursor: str | None) -> Page:
        """Staff search: by status through its index, product name as a filter on it (or on all
        orders), newest first."""
        condition = OrderRecord.search_text.contains(text.lower()) if text else None
        try:
            if status:
                start = decode_cursor(cursor, {"order_id", "status", "created_at"})
                result = OrderRecord.status_index.query(status, filter_condition=condition,
                                                        scan_index_forward=False, limit=limit,
                                                        last_evaluated_key=start)
            else:
                start = decode_cursor(cursor, {"order_id", "all_orders", "created_at"})
                result = OrderRecord.all_orders_index.query("order", filter_condition=condition,
                                                            scan_index_forward=False, limit=limit,
                                                            last_evaluated_key=start)
            return _page(result, self._from_record)
        except QueryError as error:
            raise _query_errors_as_input(error) from error

    def pending_expired(self, now: datetime, limit: int) -> list[str]:
        """Orders awaiting payment past their expiry, from the sparse index (no Scan)."""
        return [r.order_id for r in OrderRecord.pending_expiry_index.query(
            "pending", OrderRecord.expires_at <= _t(now), limit=limit)]

    def by_phone(self, phone: str, limit: int) -> list[Order]:
        keys = [r.order_id for r in OrderRecord.phone_lookup_index.query(
            self.phone_index(phone), scan_index_forward=False, limit=limit)]
        found = batch_get({OrderRecord: keys[:100]})[OrderRecord] if keys else {}
        orders = [self._from_record(found[k]) for k in keys if k in found]  # type: ignore[arg-type]
        return orders

    @staticmethod
    def _line_to_map(line: OrderLine, limit_counted: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sku_id": line.sku_id, "product_id": line.product_id, "product_name": line.product_name,
            "sku_name": line.sku_name, "kind": line.kind.value, "unit_price": line.unit_price,
            "quantity": line.quantity, "limit_counted": limit_counted}
        if line.session:
            data["session_start"], data["session_end"] = _t(line.session.start), _t(line.session.end)
        if line.valid_from and line.valid_until:
            data["valid_from"], data["valid_until"] = _t(line.valid_from), _t(line.valid_until)
        return data


    def _from_record(self, record: OrderRecord) -> Order:
        lines = []
        for raw in record.lines:
            m = _plain(raw)
            session = (Session(timeutil.from_storage(m["session_start"]), timeutil.from_storage(m["session_end"]))
                       if m.get("session_start") else None)
            lines.append(OrderLine(
                sku_id=m["sku_id"], product_id=m["product_id"], product_name=m["product_name"],
                sku_name=m["sku_name"], kind=Kind(m["kind"]), unit_price=int(m["unit_price"]),
                quantity=int(m["quantity"]), session=session, valid_from=_dt(m.get("valid_from")),
                valid_until=_dt(m.get("valid_until"))))
        visitors = []
        for raw in record.visitors or []:
            v = _plain(raw)
            visitors.append(Visitor(v["name"], v["id_type"], self._cipher.decrypt(v["id_number"]), v["sku_id"]))
        history = []
        for raw in record.history:
            h = _plain(raw)
            history.append(HistoryEntry(OrderStatus(h["status"]), timeutil.from_storage(h["at"]), h["by"]))
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
                     paid_at=_dt(record.paid_at), tickets_total=int(record.tickets_total or 0),
                     tickets_issued=int(record.tickets_issued or 0), pickup_code=record.pickup_code,
                     refunded_total=int(record.refunded_total or 0),
                     refunds_in_flight=int(record.refunds_in_flight or 0), merch_refund=record.merch_refund)


class PurchaseCounters:
    """Units per customer and product in live orders. The limit is the write's condition, so two
    orders placed at once cannot both slip under it."""

    @staticmethod
    def key(user_id: str, product_id: str) -> str:
        return f"{user_id}#{product_id}"

    def hold(self, uow: UnitOfWork, user_id: str, product_id: str, quantity: int, limit: int) -> None:
        uow.update(PurchaseCounterRecord(counter_id=self.key(user_id, product_id)),
                   [PurchaseCounterRecord.quantity.add(quantity)],
                   condition=PurchaseCounterRecord.quantity.does_not_exist()
                   | (PurchaseCounterRecord.quantity <= limit - quantity),
                   tag=f"limit:{product_id}")

    def give_back(self, uow: UnitOfWork, user_id: str, product_id: str, quantity: int) -> None:
        uow.update(PurchaseCounterRecord(counter_id=self.key(user_id, product_id)),
                   [PurchaseCounterRecord.quantity.add(-quantity)],
                   condition=PurchaseCounterRecord.quantity >= quantity, tag=f"limit:{product_id}")


# ---------------------------------------------------------------- the order path's one read

@dataclass(frozen=True)
class PlacementSnapshot:
    skus: dict[str, Sku]
    products: dict[str, Product]
    purchased: dict[str, int]
    idempotent_reply: IdempotencyRecord | None


def placement_snapshot(sku_ids: list[str], product_ids: list[str], user_id: str,
                       idempotency_key: str | None) -> PlacementSnapshot:
    """SKUs, their products, the customer's purchase counters and any earlier reply to the same
    Idempotency-Key, in ONE BatchGetItem."""
    keys: dict[Any, list[str]] = {
        SkuRecord: sku_ids, ProductRecord: product_ids,
        PurchaseCounterRecord: [PurchaseCounters.key(user_id, p) for p in product_ids]}
    if idempotency_key:
        keys[IdempotencyRecord] = [idempotency_key]
    found = batch_get(keys)
    counters = found[PurchaseCounterRecord]
    purchased = {p: int(counters[PurchaseCounters.key(user_id, p)].quantity)  # type: ignore[attr-defined]
                 for p in product_ids if PurchaseCounters.key(user_id, p) in counters}
    reply = found.get(IdempotencyRecord, {}).get(idempotency_key or "")
    return PlacementSnapshot(
        skus={k: sku_from(v) for k, v in found[SkuRecord].items()},  # type: ignore[arg-type]
        products={k: product_from(v) for k, v in found[ProductRecord].items()},  # type: ignore[arg-type]
        purchased=purchased, idempotent_reply=reply)  # type: ignore[arg-type]


class IdempotencyStore:
    TTL_SECONDS = 24 * 3600

    def remember(self, uow: UnitOfWork, key: str, fingerprint: str, status_code: int, response: Any,
                 now: datetime) -> None:
        uow.put(IdempotencyRecord(key=key, fingerprint=fingerprint, status_code=status_code,
                                  response=json.dumps(response, ensure_ascii=False),
                                  expires=now + timedelta(seconds=self.TTL_SECONDS)),
                condition=IdempotencyRecord.key.does_not_exist(), tag="idempotency")

    def get(self, key: str) -> IdempotencyRecord | None:
        try:
            return IdempotencyRecord.get(key, consistent_read=True)
        except DoesNotExist:
            return None


# ---------------------------------------------------------------- people

@dataclass(frozen=True)
class StaffMember:
    username: str
    password_hash: str
    roles: frozenset[str]


class PeopleRepository:
    def staff(self, username: str) -> StaffMember | None:
        try:
            r = StaffRecord.get(username, consistent_read=True)
        except DoesNotExist:
            return None
        return StaffMember(r.username, r.password_hash, frozenset(r.roles))

    def add_staff(self, uow: UnitOfWork, username: str, password_hash: str, roles: list[str], by: str,
                  now: datetime) -> None:
        uow.put(StaffRecord(username=username, password_hash=password_hash, roles=set(roles),
                            created_at=_t(now), created_by=by),
                condition=StaffRecord.username.does_not_exist(), tag="staff")

    def user_id_for(self, openid: str, now: datetime) -> str:
        """The customer's stable user id, created at first login."""
        try:
            return CustomerRecord.get(openid, consistent_read=True).user_id
        except DoesNotExist:
            pass
        record = CustomerRecord(openid=openid, user_id="U" + secrets.token_hex(8), created_at=_t(now))
        try:
            record.save(condition=CustomerRecord.openid.does_not_exist())
            return record.user_id
        except PutError:
            return CustomerRecord.get(openid, consistent_read=True).user_id


class LoginThrottle:
    """Failed staff logins per username in a window that starts with the first failure."""

    def __init__(self, max_failures: int = 5, window_seconds: int = 900) -> None:
        self.max_failures, self.window_seconds = max_failures, window_seconds

    def locked_until(self, username: str, now: datetime) -> datetime | None:
        try:
            r = LoginThrottleRecord.get(username, consistent_read=True)
        except DoesNotExist:
            return None
        ends = float(r.window_start) + self.window_seconds
        if r.failures >= self.max_failures and now.timestamp() < ends:
            return datetime.fromtimestamp(ends, tz=now.tzinfo)
        return None

    def record_failure(self, username: str, now: datetime) -> None:
        stamp = now.timestamp()
        record = LoginThrottleRecord(username=username)
        try:
            record.update(actions=[LoginThrottleRecord.failures.add(1)],
                          condition=LoginThrottleRecord.window_start > stamp - self.window_seconds)
        except UpdateError:  # no window yet, or it has passed: start a new one
            LoginThrottleRecord(username=username, failures=1, window_start=stamp,
                                expires=now + timedelta(seconds=self.window_seconds)).save()

    def clear(self, username: str) -> None:
        LoginThrottleRecord(username=username).delete()


class AuditLog:
    """Who did what, when and from where. Staff changes are audited in the change's own
    transaction; logins are written on their own."""

    def record(self, actor: str, action: str, at: datetime, target: str | None = None,
               source_ip: str | None = None, details: dict[str, Any] | None = None,
               uow: UnitOfWork | None = None) -> None:
        record = AuditRecord(day=at.strftime("%Y-%m-%d"), entry_id=_stamp(at), actor=actor, action=action,
                             target=target, source_ip=source_ip,
                             details=json.dumps(details or {}, ensure_ascii=False, default=str), at=_t(at))
        if uow is None:
            record.save()
        else:
            uow.put(record, tag="audit")

    def page(self, day: str, limit: int, cursor: str | None) -> Page:
        start = decode_cursor(cursor, {"day", "entry_id"})
        if start is not None and start["day"] != {"S": day}:
            raise InvalidInput("cursor is not valid", code="INVALID_CURSOR", field="cursor")
        try:
            result = AuditRecord.query(day, scan_index_forward=False, limit=limit, last_evaluated_key=start)
            return _page(result, lambda r: {
                "actor": r.actor, "action": r.action, "target": r.target, "source_ip": r.source_ip,
                "details": json.loads(r.details or "{}"), "at": timeutil.from_storage(r.at)})
        except QueryError as error:
            raise _query_errors_as_input(error) from error
