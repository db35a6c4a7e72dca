"""After-sales (售后) in DynamoDB, one table of two kinds of item:

- an after-sale, keyed by its id, with its order (the `order-index`: an order's after-sales)
  and, spread over shards, `<status>|<type>#<shard>` (the `status-shard-index`, keys only:
  staff's queue of a status, of one type or both, paged like refunds, never a Scan);
- `units#<order_id>#<sku_id>`: the units of an order line under after-sales (`taken`), added to
  in a request's own transaction, conditional on staying within what was bought, so that two
  requests racing for the same units cannot both pass. Such items have no order or status and
  so stay out of both indexes.

Every move of an after-sale is conditional on the status it was read in."""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.after_sales import AfterSale, AfterSaleEntry, AfterSaleStatus, AfterSaleType, LineUnits
from ..service_layer.ports import Page
from ..service_layer.tags import ItemTag, Tag
from .dynamo import batch_get_many, fanned_page, get_or_none, plain, spread, spread_keys, stored_time, table_meta
from .unit_of_work import UnitOfWork

AFTER_SALE_INDEX_SHARDS = 4
UNITS = "units#"
# Fields a move may set, and how each is stored.
_FIELDS = ("return_shipment", "reject_reason", "restocked", "receive_note", "refund_id", "amount",
           "replacement_shares", "shipment")


def status_key(status: str, kind: str, after_sale_id: str) -> str:
    return spread(f"{status}|{kind}", after_sale_id, AFTER_SALE_INDEX_SHARDS)


def units_key(order_id: str, sku_id: str) -> str:
    return f"{UNITS}{order_id}#{sku_id}"


class AfterSaleStatusIndex(GlobalSecondaryIndex["AfterSaleRecord"]):
    class Meta:
        index_name = "status-shard-index"
        projection = KeysOnlyProjection()
    status_key = UnicodeAttribute(hash_key=True)
    listed_at = UnicodeAttribute(range_key=True)


class AfterSaleOrderIndex(GlobalSecondaryIndex["AfterSaleRecord"]):
    class Meta:
        index_name = "order-index"
        projection = AllProjection()
    order_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class AfterSaleRecord(Model):
    Meta = table_meta("after-sales", streamed=True)   # its changes feed the after-sales report
    after_sale_id = UnicodeAttribute(hash_key=True)     # or units#<order_id>#<sku_id>
    taken = NumberAttribute(null=True)                  # units#: units under after-sales
    refunded = NumberAttribute(null=True)               # units#: of those, refunded by returns
    restocked = NumberAttribute(null=True)              # units#: of those, back in stock
    order_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    type = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    status_key = UnicodeAttribute(null=True)
    listed_at = UnicodeAttribute(null=True)             # <created_at>#<id>: unique, newest first
    lines = ListAttribute(of=MapAttribute, null=True)   # [{sku_id, quantity}]
    reason = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    exchange_sku_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    history = ListAttribute(of=MapAttribute, null=True)  # [{status, at, by}]
    return_shipment = MapAttribute(null=True)
    reject_reason = UnicodeAttribute(null=True)
    restocked = BooleanAttribute(null=True)
    receive_note = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    amount = NumberAttribute(null=True)
    replacement_shares = MapAttribute(null=True)        # {bucket: units}
    shipment = MapAttribute(null=True)
    status_index = AfterSaleStatusIndex()
    order_index = AfterSaleOrderIndex()


def _entry(e: AfterSaleEntry) -> dict[str, str]:
    return {"status": e.status.value, "at": stored_time(e.at) or "", "by": e.by}


def _stored(name: str, value: Any) -> Any:
    if name == "replacement_shares":
        return {str(b): u for b, u in value.items()}
    return value


def after_sale_from(r: AfterSaleRecord) -> AfterSale:
    return AfterSale(
        after_sale_id=r.after_sale_id, order_id=r.order_id or "", user_id=r.user_id or "",
        type=AfterSaleType(r.type), status=AfterSaleStatus(r.status),
        lines=[(m["sku_id"], int(m["quantity"])) for m in map(plain, r.lines or [])], reason=r.reason or "",
        created_at=timeutil.from_storage(r.created_at), description=r.description,
        exchange_sku_id=r.exchange_sku_id,
        history=[AfterSaleEntry(AfterSaleStatus(h["status"]), timeutil.from_storage(h["at"]), h["by"])
                 for h in map(plain, r.history or [])],
        return_shipment=plain(r.return_shipment) if r.return_shipment else None, reject_reason=r.reject_reason,
        restocked=r.restocked, receive_note=r.receive_note, refund_id=r.refund_id,
        amount=int(r.amount) if r.amount is not None else None,
        replacement_shares={int(b): int(u) for b, u in plain(r.replacement_shares).items()}
        if r.replacement_shares else {},
        shipment=plain(r.shipment) if r.shipment else None)


class AfterSaleStore:
    def add(self, uow: UnitOfWork, a: AfterSale) -> None:
        uow.put(AfterSaleRecord(
            after_sale_id=a.after_sale_id, order_id=a.order_id, user_id=a.user_id, type=a.type.value,
            status=a.status.value, status_key=status_key(a.status.value, a.type.value, a.after_sale_id),
            listed_at=f"{stored_time(a.created_at)}#{a.after_sale_id}",
            lines=[{"sku_id": s, "quantity": q} for s, q in a.lines], reason=a.reason, description=a.description,
            exchange_sku_id=a.exchange_sku_id, created_at=stored_time(a.created_at),
            history=[_entry(e) for e in a.history]),
            condition=AfterSaleRecord.after_sale_id.does_not_exist(), tag=Tag.AFTER_SALE)

    def take_units(self, uow: UnitOfWork, order_id: str, sku_id: str, quantity: int, bought: int) -> None:
        """`quantity` more units of the line under after-sales, never beyond `bought`: the
        condition, not a read, decides, so two racing requests cannot both have the last units."""
        uow.update(AfterSaleRecord(after_sale_id=units_key(order_id, sku_id)), [AfterSaleRecord.taken.add(quantity)],
                   condition=AfterSaleRecord.taken.does_not_exist() | (AfterSaleRecord.taken <= bought - quantity),
                   tag=ItemTag.UNITS.of(sku_id))

    def give_units(self, uow: UnitOfWork, order_id: str, sku_id: str, quantity: int) -> None:
        """A request rejected or cancelled leaves its units to be asked for again."""
        uow.update(AfterSaleRecord(after_sale_id=units_key(order_id, sku_id)), [AfterSaleRecord.taken.add(-quantity)],
                   condition=AfterSaleRecord.taken >= quantity, tag=ItemTag.UNITS.of(sku_id))

    def move(self, uow: UnitOfWork, a: AfterSale, entry: AfterSaleEntry, **fields: Any) -> None:
        """To `entry.status`, conditional on the status it was read in; the entry joins the
        history; `fields` are set (None removes one)."""
        actions = [AfterSaleRecord.status.set(entry.status.value),
                   AfterSaleRecord.status_key.set(status_key(entry.status.value, a.type.value, a.after_sale_id)),
                   AfterSaleRecord.history.set(AfterSaleRecord.history.append([_entry(entry)]))]
        for name, value in fields.items():
            assert name in _FIELDS, name
            attribute = getattr(AfterSaleRecord, name)
            actions.append(attribute.remove() if value is None else attribute.set(_stored(name, value)))
        uow.update(AfterSaleRecord(after_sale_id=a.after_sale_id), actions,
                   condition=AfterSaleRecord.status == a.status.value, tag=Tag.AFTER_SALE)

    def get(self, after_sale_id: str) -> AfterSale | None:
        record = get_or_none(AfterSaleRecord, after_sale_id)
        return after_sale_from(record) if record is not None and record.status else None

    def of_order(self, order_id: str) -> list[AfterSale]:
        return [after_sale_from(r) for r in AfterSaleRecord.order_index.query(order_id)]

    def line_units(self, order_id: str, sku_id: str) -> LineUnits:
        record = get_or_none(AfterSaleRecord, units_key(order_id, sku_id))
        if record is None:
            return LineUnits()
        return LineUnits(int(record.taken or 0), int(record.refunded or 0), int(record.restocked or 0))

    def count_back(self, uow: UnitOfWork, order_id: str, sku_id: str, read: LineUnits, refunded: int,
                   restocked: int) -> None:
        """A receipt's units refunded and restocked, conditional on both counts as `read`: two
        receipts of one line that read the same offsets cannot both be written (their units would
        refund the same shares of `paid`, or go back to the same bucket)."""
        def as_read(attribute: Any, value: int) -> Any:
            return attribute.does_not_exist() | (attribute == value) if value == 0 else attribute == value
        uow.update(AfterSaleRecord(after_sale_id=units_key(order_id, sku_id)),
                   [AfterSaleRecord.refunded.set(read.refunded + refunded),
                    AfterSaleRecord.restocked.set(read.restocked + restocked)],
                   condition=AfterSaleRecord.taken.exists() & as_read(AfterSaleRecord.refunded, read.refunded)
                   & as_read(AfterSaleRecord.restocked, read.restocked), tag=ItemTag.UNITS.of(sku_id))

    def none_taken(self, uow: UnitOfWork, order_id: str, sku_id: str) -> None:
        """A check that no unit of the line is under after-sales (a refund of the goods taken up
        again must not give back units a return already brought back)."""
        uow.check(AfterSaleRecord, units_key(order_id, sku_id),
                  AfterSaleRecord.taken.does_not_exist() | (AfterSaleRecord.taken == 0), tag=ItemTag.UNITS.of(sku_id))

    def page(self, status: str, kind: str | None, limit: int, cursor: str | None) -> Page:
        """Staff's queue of one status (and type, or both), newest first: the shards read together."""
        kinds = [kind] if kind else [t.value for t in AfterSaleType]
        keys = [k for t in kinds for k in spread_keys(f"{status}|{t}", AFTER_SALE_INDEX_SHARDS)]
        rows, next_cursor = fanned_page(
            lambda key, before, count: AfterSaleRecord.status_index.query(
                key, AfterSaleRecord.listed_at < before if before else None, scan_index_forward=False, limit=count),
            keys, "listed_at", limit, cursor, descending=True)
        ids = [r.after_sale_id for r in rows]
        found = batch_get_many(AfterSaleRecord, ids)
        return Page([after_sale_from(found[i]) for i in ids if i in found], next_cursor)

