"""The orders table: its PynamoDB model, indexes, and the mapping between stored items and
domain orders (personal data encrypted on the way in, decrypted on the way out)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.pricing import Promotion
from ..domain.model import (Address, Fulfillment, HistoryEntry, Kind, Order, OrderLine, OrderStatus, Session,
                            Visitor)
from ..service_layer.ports import FieldCipher
from .dynamo import plain, read_time, spread, spread_keys, stored_time, table_meta


# Orders indexes whose key every order would share ("order", a status, "pending", "shipped")
# are spread over this many partitions by the order id; reads fan out and merge. Each takes
# 1,000 write units a second, so the shop's order rate scales with it (docs/CAPACITY.md).
ORDER_INDEX_SHARDS = 16


class CustomerIndex(GlobalSecondaryIndex["OrderRecord"]):
    """Keys only: the page's orders are then read in one BatchGetItem, so an order's many
    updates (payment, tickets, refunds) never rewrite a copy of it here."""
    class Meta:
        index_name = "customer-index"
        projection = KeysOnlyProjection()
    user_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class StatusIndex(GlobalSecondaryIndex["OrderRecord"]):
    """Staff's search by status, spread: `status_key` is <status>#<shard>. Carries the search
    text (written once) so that the name filter runs in the index."""
    class Meta:
        index_name = "status-shard-index"
        projection = IncludeProjection(["search_text"])
    status_key = UnicodeAttribute(hash_key=True)
    listed_at = UnicodeAttribute(range_key=True)


class AllOrdersIndex(GlobalSecondaryIndex["OrderRecord"]):
    """Every order, newest first, spread: `all_orders` is order#<shard>."""
    class Meta:
        index_name = "all-orders-shard-index"
        projection = IncludeProjection(["search_text"])
    all_orders = UnicodeAttribute(hash_key=True)
    listed_at = UnicodeAttribute(range_key=True)


class PhoneIndex(GlobalSecondaryIndex["OrderRecord"]):
    """Support finds orders by the contact's phone through a keyed hash, never the number."""
    class Meta:
        index_name = "phone-index"
        projection = KeysOnlyProjection()
    phone_index = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class PendingExpiryIndex(GlobalSecondaryIndex["OrderRecord"]):
    """Sparse: only orders awaiting payment carry `pending` (pending#<shard>), so the expiry job
    reads just those."""
    class Meta:
        index_name = "pending-expiry-shard-index"
        projection = KeysOnlyProjection()
    pending = UnicodeAttribute(hash_key=True)
    expires_at = UnicodeAttribute(range_key=True)


class ReceiptDueIndex(GlobalSecondaryIndex["OrderRecord"]):
    """Sparse: shipped orders waiting for the customer's receipt (shipped#<shard>), by when it
    is assumed."""
    class Meta:
        index_name = "receipt-due-shard-index"
        projection = KeysOnlyProjection()
    awaiting_receipt = UnicodeAttribute(hash_key=True)
    receipt_due_at = UnicodeAttribute(range_key=True)


def index_key(value: str, order_id: str) -> str:
    """The shard of a shared index key that holds this order."""
    return spread(value, order_id, ORDER_INDEX_SHARDS)


def index_keys(value: str) -> list[str]:
    return spread_keys(value, ORDER_INDEX_SHARDS)


class OrderRecord(Model):
    Meta = table_meta("orders", streamed=True)
    order_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    status = UnicodeAttribute()
    status_key = UnicodeAttribute()              # <status>#<shard>, for the status index
    total = NumberAttribute()
    lines = ListAttribute(of=MapAttribute)
    created_at = UnicodeAttribute()
    listed_at = UnicodeAttribute()               # <created_at>#<order_id>: staff lists' unique sort key
    updated_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    contact_name = UnicodeAttribute()            # encrypted
    contact_phone = UnicodeAttribute()           # encrypted
    phone_index = UnicodeAttribute()
    visitors = ListAttribute(of=MapAttribute, default=list)  # names and ID numbers encrypted
    fulfillment = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)        # encrypted JSON
    history = ListAttribute(of=MapAttribute)
    shipment = MapAttribute(null=True)
    search_text = UnicodeAttribute(default="")   # lower-cased product names for staff search
    all_orders = UnicodeAttribute()
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
    before_refund = UnicodeAttribute(null=True)      # the status a REFUNDING order goes back to
    shipped_at = UnicodeAttribute(null=True)
    awaiting_receipt = UnicodeAttribute(null=True)
    receipt_due_at = UnicodeAttribute(null=True)
    promotions = ListAttribute(of=MapAttribute, null=True)   # [{kind, id, name, amount}]: the discount's steps
    coupon_id = UnicodeAttribute(null=True)          # the user coupon the order holds
    cancel_reason = UnicodeAttribute(null=True)      # why the system (not its customer) ended it unpaid
    holds_unpaid = BooleanAttribute(null=True)       # counted in its customer's unpaid holds while pending
    attempt = NumberAttribute(null=True)             # its payment attempt (absent: the first, out_trade_no = id)
    changes = NumberAttribute(null=True)             # changes made while unpaid (改单)
    customer_index = CustomerIndex()
    status_index = StatusIndex()
    all_orders_index = AllOrdersIndex()
    phone_lookup_index = PhoneIndex()
    pending_expiry_index = PendingExpiryIndex()
    receipt_due_index = ReceiptDueIndex()


def history_entry(status: OrderStatus, at: datetime, by: str) -> dict[str, Any]:
    """An order's `history` element as stored, whoever changes the order's status."""
    return {"status": status.value, "at": stored_time(at), "by": by}


def line_to_map(line: OrderLine, limit_counted: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sku_id": line.sku_id, "product_id": line.product_id, "product_name": line.product_name,
        "sku_name": line.sku_name, "kind": line.kind.value, "unit_price": line.unit_price,
        "quantity": line.quantity, "limit_counted": limit_counted, "category": line.category}
    if line.session:
        data["session_start"], data["session_end"] = stored_time(line.session.start), stored_time(line.session.end)
    if line.discount:
        data["discount"] = line.discount
    if line.stock_shares:
        data["stock_shares"] = {str(bucket): units for bucket, units in line.stock_shares.items()}
    if line.valid_from and line.valid_until:
        data["valid_from"], data["valid_until"] = stored_time(line.valid_from), stored_time(line.valid_until)
    return data

def order_from(record: OrderRecord, cipher: FieldCipher) -> Order:
    lines = []
    for m in map(plain, record.lines):
        session = (Session(timeutil.from_storage(m["session_start"]), timeutil.from_storage(m["session_end"]))
                   if m.get("session_start") else None)
        lines.append(OrderLine(
            sku_id=m["sku_id"], product_id=m["product_id"], product_name=m["product_name"],
            sku_name=m["sku_name"], kind=Kind(m["kind"]), unit_price=int(m["unit_price"]),
            quantity=int(m["quantity"]), session=session, valid_from=read_time(m.get("valid_from")),
            valid_until=read_time(m.get("valid_until")), category=m.get("category") or "",
            stock_shares={int(b): int(u) for b, u in plain(m.get("stock_shares") or {}).items()},
            discount=int(m.get("discount") or 0)))
    visitors = [Visitor(cipher.decrypt(v["name"]), v["id_type"], cipher.decrypt(v["id_number"]), v["sku_id"])
                for v in map(plain, record.visitors or [])]
    history = [HistoryEntry(OrderStatus(h["status"]), timeutil.from_storage(h["at"]), h["by"])
               for h in map(plain, record.history)]
    address = None
    if record.address:
        address = Address(**cipher.decrypt_json(record.address))  # type: ignore[arg-type]
    shipment = record.shipment.as_dict() if record.shipment else None
    return Order(order_id=record.order_id, user_id=record.user_id, status=OrderStatus(record.status),
                 lines=lines, created_at=timeutil.from_storage(record.created_at),
                 expires_at=timeutil.from_storage(record.expires_at), contact_name=cipher.decrypt(record.contact_name),
                 contact_phone=cipher.decrypt(record.contact_phone), visitors=visitors,
                 fulfillment=Fulfillment(record.fulfillment) if record.fulfillment else None,
                 address=address, history=history, shipment=shipment, transaction_id=record.transaction_id,
                 paid_at=read_time(record.paid_at), tickets_total=int(record.tickets_total or 0),
                 tickets_issued=int(record.tickets_issued or 0), pickup_code=record.pickup_code,
                 refunded_total=int(record.refunded_total or 0),
                 refunds_in_flight=int(record.refunds_in_flight or 0), merch_refund=record.merch_refund,
                 before_refund=OrderStatus(record.before_refund) if record.before_refund else None,
                 shipped_at=read_time(record.shipped_at), cancel_reason=record.cancel_reason,
                 holds_unpaid=bool(record.holds_unpaid),
                 promotions=[Promotion(p["kind"], p["id"], p["name"], int(p["amount"]), p.get("coupon_id"))
                             for p in map(plain, record.promotions or [])],
                 coupon_id=record.coupon_id, attempt=int(record.attempt or 1), changes=int(record.changes or 0))
