"""What placing an order reads and writes besides the order itself: purchase-limit counters,
Idempotency-Key replies, and the one batched read of the order path."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..domain.ordering import UnpaidLimits
from ..service_layer.ports import IdempotentReply, PlacementSnapshot
from ..service_layer.tags import ItemTag, Tag
from ..domain.figures import spend_bucket
from .aggregate_store import AggregateRecord, counters_of
from .catalog_repository import ProductRecord, product_from
from .coupon_repository import UserCouponRecord, user_coupon_from
from .dynamo import batch_get, get_or_none, table_meta
from .unit_of_work import UnitOfWork
from .stock_records import SkuRecord, sku_from


class PurchaseCounterRecord(Model):
    """Units of a product a customer holds in live orders; the purchase limit is a condition on it."""
    Meta = table_meta("purchase-counters")
    counter_id = UnicodeAttribute(hash_key=True)     # <user_id>#<product_id>
    quantity = NumberAttribute(default=0)


class IdempotencyRecord(Model):
    """Which order an Idempotency-Key placed. No personal data: the reply is rebuilt from the
    order, as it was when placed."""
    Meta = table_meta("idempotency")
    key = UnicodeAttribute(hash_key=True)            # <user_id>#<Idempotency-Key>
    fingerprint = UnicodeAttribute()                 # keyed hash of the request body
    order_id = UnicodeAttribute()
    expires = TTLAttribute()


def _counter_key(user_id: str, product_id: str) -> str:
    return f"{user_id}#{product_id}"


class PurchaseCounters:
    """Units per customer and product in live orders. The limit is the write's condition, so two
    orders placed at once cannot both slip under it."""

    def hold(self, uow: UnitOfWork, user_id: str, product_id: str, quantity: int, limit: int) -> None:
        uow.update(PurchaseCounterRecord(counter_id=_counter_key(user_id, product_id)),
                   [PurchaseCounterRecord.quantity.add(quantity)],
                   condition=PurchaseCounterRecord.quantity.does_not_exist()
                   | (PurchaseCounterRecord.quantity <= limit - quantity),
                   tag=ItemTag.LIMIT.of(product_id))

    def give_back(self, uow: UnitOfWork, user_id: str, product_id: str, quantity: int) -> None:
        uow.update(PurchaseCounterRecord(counter_id=_counter_key(user_id, product_id)),
                   [PurchaseCounterRecord.quantity.add(-quantity)],
                   condition=PurchaseCounterRecord.quantity >= quantity, tag=ItemTag.LIMIT.of(product_id))


def _unpaid_key(user_id: str) -> str:
    return f"{user_id}#unpaid"


def _holds_update(user_id: str, orders: int, units: dict[str, int], values: dict[str, Any]) -> dict[str, Any]:
    """ADD `orders` to the customer's unpaid orders and each SKU's units (#u<i>, in SKU order)."""
    names = {"#o": "quantity", **{f"#u{i}": f"u#{sku_id}" for i, sku_id in enumerate(sorted(units))}}
    values = {**values, ":o": {"N": str(orders)},
              **{f":q{i}": {"N": str(units[sku_id])} for i, sku_id in enumerate(sorted(units))}}
    adds = ["#o :o"] + [f"#u{i} :q{i}" for i in range(len(units))]
    return {"TableName": PurchaseCounterRecord.Meta.table_name, "Key": {"counter_id": {"S": _unpaid_key(user_id)}},
            "UpdateExpression": "ADD " + ", ".join(adds), "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values}


class UnpaidHolds:
    """What a customer holds in unpaid orders: one item per customer in the purchase-counters
    table (its `quantity` the number of unpaid orders, `u#<sku_id>` the units of each SKU).
    Placing an order adds to it under the limits as its condition, in the order's own
    transaction; the payment or the end of the order takes its part back in theirs."""

    def __init__(self, limits: UnpaidLimits) -> None:
        self.limits = limits

    def hold(self, uow: UnitOfWork, user_id: str, units: dict[str, int]) -> None:
        limits = {":orders": {"N": str(self.limits.orders)}}
        conditions = ["(attribute_not_exists(#o) OR #o < :orders)"]
        for i, quantity in enumerate(units[s] for s in sorted(units)):
            limits[f":m{i}"] = {"N": str(self.limits.units_per_sku - quantity)}
            conditions.append(f"(attribute_not_exists(#u{i}) OR #u{i} <= :m{i})")
        uow.raw("Update", {**_holds_update(user_id, 1, units, limits), "ConditionExpression": " AND ".join(conditions)},
                tag=Tag.UNPAID)

    def adjust(self, uow: UnitOfWork, user_id: str, deltas: dict[str, int]) -> None:
        """An unpaid order's units changed (改单): the same order still held, each SKU's units moved
        by its delta; a SKU that grows must stay within the limit."""
        limits: dict[str, Any] = {}
        conditions = []
        for i, delta in enumerate(deltas[s] for s in sorted(deltas)):
            if delta > 0:
                limits[f":m{i}"] = {"N": str(self.limits.units_per_sku - delta)}
                conditions.append(f"(attribute_not_exists(#u{i}) OR #u{i} <= :m{i})")
        request = _holds_update(user_id, 0, deltas, limits)
        if conditions:
            request["ConditionExpression"] = " AND ".join(conditions)
        uow.raw("Update", request, tag=Tag.UNPAID)

    def release(self, uow: UnitOfWork, user_id: str, units: dict[str, int]) -> None:
        """Unconditional: the order's own conditional write decides that it ends once, and the
        payment or the end of an order must never fail on this."""
        uow.raw("Update", _holds_update(user_id, -1, {s: -q for s, q in units.items()}, {}), tag=Tag.UNPAID)

    def of(self, user_id: str) -> tuple[int, dict[str, int]]:
        """Unpaid orders and units by SKU, as a customer's holds stand now (staff's view)."""
        item = PurchaseCounterRecord._get_connection().get_item(_unpaid_key(user_id), consistent_read=True)
        raw = item.get("Item") or {}
        units = {name[2:]: int(value["N"]) for name, value in raw.items()
                 if name.startswith("u#") and int(value["N"]) > 0}
        return int((raw.get("quantity") or {}).get("N") or 0), units


class IdempotencyStore:
    TTL_SECONDS = 24 * 3600

    def remember(self, uow: UnitOfWork, key: str, fingerprint: str, order_id: str, now: datetime) -> None:
        uow.put(IdempotencyRecord(key=key, fingerprint=fingerprint, order_id=order_id,
                                  expires=now + timedelta(seconds=self.TTL_SECONDS)),
                condition=IdempotencyRecord.key.does_not_exist(), tag=Tag.IDEMPOTENCY)

    def get(self, key: str) -> IdempotentReply | None:
        record = get_or_none(IdempotencyRecord, key)
        return IdempotentReply(record.fingerprint, record.order_id) if record else None


class PlacementReads:
    """The order path's one read."""

    def snapshot(self, sku_ids: list[str], product_ids: list[str], user_id: str,
                 idempotency_key: str | None, user_coupon_id: str | None = None,
                 with_spend: bool = False) -> PlacementSnapshot:
        """SKUs, their products, the customer's purchase counters and any earlier reply to the same
        Idempotency-Key, the user coupon asked for and the customer's spend bucket (what their
        member tier follows), in ONE BatchGetItem. The SKUs and products are read eventually
        consistently: on release day every order reads the hot session's SKU item, and a
        consistent read of it costs a whole read unit on one partition (3,000 a second). What
        they give (price, sale window, session, shard count, stock as a first answer) may lag a
        change by about a second; the order's conditional writes still decide the stock and
        the listing exactly."""
        keys: dict[Any, list[str]] = {
            SkuRecord: sku_ids, ProductRecord: product_ids,
            PurchaseCounterRecord: [_counter_key(user_id, p) for p in product_ids]}
        if idempotency_key:
            keys[IdempotencyRecord] = [idempotency_key]
        if user_coupon_id:
            keys[UserCouponRecord] = [user_coupon_id]
        spend_key = (spend_bucket(user_id), 0)
        found = batch_get(keys, eventually=(SkuRecord, ProductRecord),
                          ranged={AggregateRecord: [spend_key]} if with_spend else None)
        coupon = found.get(UserCouponRecord, {}).get(user_coupon_id or "")
        spend = found.get(AggregateRecord, {}).get(spend_key)
        counters = found[PurchaseCounterRecord]
        purchased = {p: int(counters[_counter_key(user_id, p)].quantity)  # type: ignore[attr-defined]
                     for p in product_ids if _counter_key(user_id, p) in counters}
        reply = found.get(IdempotencyRecord, {}).get(idempotency_key or "")
        return PlacementSnapshot(
            skus={k: sku_from(v) for k, v in found[SkuRecord].items()},  # type: ignore[arg-type]
            products={k: product_from(v) for k, v in found[ProductRecord].items()},  # type: ignore[arg-type]
            purchased=purchased,
            idempotent_reply=IdempotentReply(reply.fingerprint, reply.order_id) if reply else None,  # type: ignore[attr-defined]
            user_coupon=user_coupon_from(coupon) if coupon else None,  # type: ignore[arg-type]
            spend_counters=counters_of(spend) if spend else {})
