"""Orders and what placing one writes beside them, as `adapters.order_repository` and
`adapters.order_placement` keep them: every state change is conditional on the order as read
(tag "order"), the purchase limit is the counter's condition (`limit:<product_id>`), the unpaid
holds the customer's item's (`unpaid`), an Idempotency-Key is remembered once (`idempotency`).

Attributes that DynamoDB may lack (an order's refund counts before any refund, its issued
tickets before payment) are kept as None, because the adapters' conditions tell a missing
attribute from a zero."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from chalicelib.domain.model import HistoryEntry, Order, OrderStatus
from chalicelib.domain.ordering import UnpaidLimits
from chalicelib.domain.timeutil import to_storage
from chalicelib.service_layer.ports import IdempotentReply, Page, PlacementSnapshot
from chalicelib.service_layer.tags import ItemTag, Tag

from . import paging
from chalicelib.domain.figures import spend_bucket

from .back_office import AGGREGATES
from .catalog import FakeCatalog
from .promotions import USER_COUPONS
from .stock import FakeStock
from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent

ORDERS, COUNTERS, IDEMPOTENCY = "orders", "purchase-counters", "idempotency"


@dataclass
class OrderItem:
    order: Order
    counted: frozenset[str]                  # products whose purchase limit counted it
    refund_committed: int | None = None
    in_flight: int | None = None
    refunded: int | None = None
    issued: int | None = None
    receipt_due_at: datetime | None = None   # in the receipt-due index while set

    def view(self) -> Order:
        order = copy.deepcopy(self.order)
        order.refunds_in_flight, order.refunded_total = self.in_flight or 0, self.refunded or 0
        order.tickets_issued = self.issued or 0
        return order


def _plus(value: int | None, by: int) -> int:
    """DynamoDB's ADD: a missing number counts as 0."""
    return (value or 0) + by


def _ge(value: int | None, bound: int) -> bool:
    """A comparison with a missing attribute is false."""
    return value is not None and value >= bound


class FakeOrders:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def _update(self, uow: FakeUnitOfWork, order_id: str, condition: Callable[[OrderItem], bool],
                apply: Callable[[OrderItem], None], return_old: bool = False) -> None:
        def applied(item: OrderItem | None) -> OrderItem:
            assert item is not None
            apply(item)
            return item
        uow.add(ORDERS, order_id, Tag.ORDER, lambda item: item is not None and condition(item), applied, return_old)

    @staticmethod
    def _status(item: OrderItem, status: OrderStatus, at: datetime, by: str) -> None:
        item.order.status = status
        item.order.history.append(HistoryEntry(status, at, by))

    # ------------------------------------------------------------------ writes
    def add(self, uow: FakeUnitOfWork, order: Order, counted_products: set[str]) -> None:
        stored = Order(order_id=order.order_id, user_id=order.user_id, status=order.status,
                       lines=list(order.lines), created_at=order.created_at, expires_at=order.expires_at,
                       contact_name=order.contact_name, contact_phone=order.contact_phone,
                       visitors=list(order.visitors), fulfillment=order.fulfillment, address=order.address,
                       history=list(order.history), holds_unpaid=order.holds_unpaid,
                       promotions=list(order.promotions), coupon_id=order.coupon_id, attempt=order.attempt,
                       changes=order.changes)
        item = OrderItem(copy.deepcopy(stored), frozenset(l.product_id for l in order.lines
                                                          if l.product_id in counted_products))
        uow.add(ORDERS, order.order_id, Tag.ORDER, absent, lambda _: item)

    def transition(self, uow: FakeUnitOfWork, order: Order, target: OrderStatus, at: datetime, by: str,
                   shipment: dict[str, str] | None = None, receipt_due: datetime | None = None,
                   reason: str | None = None) -> None:
        read, attempt = order.status, order.attempt

        def condition(item: OrderItem) -> bool:
            return item.order.status is read and (read is not OrderStatus.PENDING_PAYMENT
                                                  or item.order.attempt == attempt) and (
                not shipment or (item.order.merch_refund is None and item.order.shipment is None))

        def apply(item: OrderItem) -> None:
            self._status(item, target, at, by)
            if reason:
                item.order.cancel_reason = reason
            if shipment:
                item.order.shipment, item.order.shipped_at = dict(shipment), at
            if receipt_due:
                item.receipt_due_at = receipt_due
            if read is OrderStatus.SHIPPED:
                item.receipt_due_at = None
        self._update(uow, order.order_id, condition, apply)
        if reason:
            order.cancel_reason = reason
        if shipment:
            order.shipped_at = at
        order.status = target
        order.history.append(HistoryEntry(target, at, by))

    def mark_paid(self, uow: FakeUnitOfWork, order: Order, transaction_id: str, amount: int, at: datetime,
                  tickets_total: int, tickets_now: int, pickup_code: str | None) -> None:
        def apply(item: OrderItem) -> None:
            self._status(item, OrderStatus.PAID, at, "wechatpay")
            item.order.transaction_id, item.order.paid_at = transaction_id, at
            item.order.tickets_total, item.issued = tickets_total, tickets_now
            if pickup_code:
                item.order.pickup_code = pickup_code
        attempt = order.attempt
        self._update(uow, order.order_id, lambda item: item.order.status is OrderStatus.PENDING_PAYMENT
                     and item.order.total == amount and item.order.attempt == attempt, apply, return_old=True)
        order.status, order.transaction_id, order.paid_at = OrderStatus.PAID, transaction_id, at
        order.tickets_total, order.tickets_issued, order.pickup_code = tickets_total, tickets_now, pickup_code
        order.history.append(HistoryEntry(OrderStatus.PAID, at, "wechatpay"))

    def change(self, uow: FakeUnitOfWork, before: Order, after: Order, counted_products: set[str],
               at: datetime) -> None:
        attempt, changed = before.attempt, copy.deepcopy(after)

        def apply(item: OrderItem) -> None:
            for name in ("lines", "visitors", "promotions", "coupon_id", "fulfillment", "attempt", "changes"):
                setattr(item.order, name, copy.deepcopy(getattr(changed, name)))
            item.counted = frozenset(l.product_id for l in changed.lines if l.product_id in counted_products)
        self._update(uow, before.order_id, lambda item: item.order.status is OrderStatus.PENDING_PAYMENT
                     and item.order.attempt == attempt, apply)

    def open_attempt(self, uow: FakeUnitOfWork, order: Order) -> None:
        attempt = order.attempt

        def apply(item: OrderItem) -> None:
            item.order.attempt = attempt + 1
        self._update(uow, order.order_id, lambda item: item.order.status is OrderStatus.PENDING_PAYMENT
                     and item.order.attempt == attempt, apply)

    def advance_issuance(self, uow: FakeUnitOfWork, order_id: str, issued_before: int, issued_after: int,
                         last: bool = False) -> None:
        def apply(item: OrderItem) -> None:
            item.issued = issued_after
        self._update(uow, order_id, lambda item: item.issued is not None and item.issued == issued_before, apply)

    def claim_refund(self, uow: FakeUnitOfWork, order: Order, refund_id: str, amount: int, claims_goods: bool,
                     goods_returned: bool, at: datetime, by: str) -> None:
        read, total = order.status, order.total

        def condition(item: OrderItem) -> bool:
            ok = item.order.status is read and (item.refund_committed is None or item.refund_committed <= total - amount)
            if claims_goods:
                ok = ok and item.order.merch_refund in (None, refund_id) and (
                    goods_returned or item.order.shipment is None)
            return ok

        def apply(item: OrderItem) -> None:
            self._status(item, OrderStatus.REFUNDING, at, by)
            item.refund_committed, item.in_flight = _plus(item.refund_committed, amount), _plus(item.in_flight, 1)
            item.order.before_refund = item.order.before_refund or read
            if read is OrderStatus.SHIPPED:
                item.receipt_due_at = None
            if claims_goods:
                item.order.merch_refund = refund_id
        self._update(uow, order.order_id, condition, apply, return_old=True)

    def claim_goods(self, uow: FakeUnitOfWork, order_id: str, refund_id: str) -> None:
        def apply(item: OrderItem) -> None:
            item.order.merch_refund = refund_id
        self._update(uow, order_id, lambda item: item.order.merch_refund is None, apply)

    def goods_unclaimed(self, uow: FakeUnitOfWork, order_id: str) -> None:
        uow.check(ORDERS, order_id, Tag.ORDER, lambda item: item is not None and item.order.merch_refund is None)

    def release_goods(self, uow: FakeUnitOfWork, order_id: str, refund_id: str) -> None:
        def apply(item: OrderItem) -> None:
            item.order.merch_refund = None
        self._update(uow, order_id, lambda item: item.order.merch_refund == refund_id, apply)

    @staticmethod
    def _settling(order: Order, finish: OrderStatus | None, at: datetime, receipt_due: datetime | None = None
                  ) -> tuple[Callable[[OrderItem], bool], Callable[[OrderItem], None]]:
        read, in_flight = order.status, order.refunds_in_flight

        def condition(item: OrderItem) -> bool:
            return item.order.status is read and (
                item.in_flight == in_flight if in_flight else item.in_flight in (None, 0))

        def apply(item: OrderItem) -> None:
            if finish is not None:
                FakeOrders._status(item, finish, at, "refunds")
                item.order.before_refund = None
            if finish is OrderStatus.SHIPPED and receipt_due is not None:
                item.receipt_due_at = receipt_due
        return condition, apply

    def settle_refund(self, uow: FakeUnitOfWork, order: Order, amount: int, finish: OrderStatus | None,
                      at: datetime) -> None:
        settling, settle = self._settling(order, finish, at)

        def apply(item: OrderItem) -> None:
            item.refunded, item.in_flight = _plus(item.refunded, amount), _plus(item.in_flight, -1)
            settle(item)
        self._update(uow, order.order_id, lambda item: settling(item) and _ge(item.in_flight, 1), apply)

    def release_refund(self, uow: FakeUnitOfWork, order: Order, refund_id: str, amount: int, held_goods: bool,
                       finish: OrderStatus | None, at: datetime, receipt_due: datetime | None = None) -> None:
        settling, settle = self._settling(order, finish, at, receipt_due)

        def condition(item: OrderItem) -> bool:
            return settling(item) and _ge(item.in_flight, 1) and _ge(item.refund_committed, amount) and (
                not held_goods or item.order.merch_refund == refund_id)

        def apply(item: OrderItem) -> None:
            settle(item)
            item.refund_committed, item.in_flight = _plus(item.refund_committed, -amount), _plus(item.in_flight, -1)
            if held_goods:
                item.order.merch_refund = None
        self._update(uow, order.order_id, condition, apply)

    def settle_released_refund(self, uow: FakeUnitOfWork, order: Order, refund_id: str, amount: int,
                               held_goods: bool, goods_returned: bool, finish: OrderStatus | None,
                               at: datetime) -> None:
        settling, settle = self._settling(order, finish, at)
        total = order.total

        def condition(item: OrderItem) -> bool:
            ok = settling(item) and (item.refund_committed is None or item.refund_committed <= total - amount)
            if held_goods:
                ok = ok and item.order.merch_refund in (None, refund_id) and (
                    goods_returned or item.order.shipment is None)
            return ok

        def apply(item: OrderItem) -> None:
            settle(item)
            item.refund_committed, item.refunded = _plus(item.refund_committed, amount), _plus(item.refunded, amount)
            if held_goods:
                item.order.merch_refund = refund_id
        self._update(uow, order.order_id, condition, apply)

    def forget_receipt(self, order_id: str) -> None:
        item = self.db.table(ORDERS).get(order_id)
        if item is not None and item.order.status is not OrderStatus.SHIPPED:
            item.receipt_due_at = None

    # ------------------------------------------------------------------ reads
    def from_raw(self, item: Any) -> Order:
        assert isinstance(item, OrderItem), "an old item of the fake orders"
        return item.view()

    def get(self, order_id: str) -> tuple[Order, set[str]] | None:
        item = self.db.table(ORDERS).get(order_id)
        return (item.view(), set(item.counted)) if item is not None else None

    def many(self, order_ids: Iterable[str]) -> dict[str, Order]:
        table = self.db.table(ORDERS)
        return {i: table[i].view() for i in dict.fromkeys(order_ids) if i in table}

    def _items(self) -> list[OrderItem]:
        return list(self.db.table(ORDERS).values())

    @staticmethod
    def _listed(item: OrderItem) -> str:
        return f"{to_storage(item.order.created_at)}#{item.order.order_id}"

    def for_customer(self, user_id: str, limit: int, cursor: str | None) -> Page:
        if cursor and paging.decode(cursor)[0] != user_id:
            raise paging.invalid_cursor()           # another customer's cursor
        return paging.page([i for i in self._items() if i.order.user_id == user_id],
                           lambda i: [user_id, self._listed(i)], limit, cursor, descending=True,
                           convert=OrderItem.view)

    def search(self, status: str | None, text: str | None, limit: int, cursor: str | None) -> Page:
        def matches(item: OrderItem) -> bool:
            names = " ".join(sorted({line.product_name.lower() for line in item.order.lines}))
            return (status is None or item.order.status.value == status) and (not text or text.lower() in names)
        return paging.page([i for i in self._items() if matches(i)], self._listed, limit, cursor, descending=True,
                           convert=OrderItem.view)

    def pending_expired(self, now: datetime, limit: int) -> list[str]:
        due = sorted((to_storage(i.order.expires_at), i.order.order_id) for i in self._items()
                     if (i.order.status is OrderStatus.PENDING_PAYMENT or (i.order.status is OrderStatus.PAID
                                                                           and (i.issued or 0) < i.order.tickets_total))
                     and i.order.expires_at <= now)
        return [order_id for _, order_id in due[:limit]]

    def receipt_due(self, now: datetime, limit: int) -> list[str]:
        due = sorted((to_storage(i.receipt_due_at), i.order.order_id) for i in self._items()
                     if i.receipt_due_at is not None and i.receipt_due_at <= now)
        return [order_id for _, order_id in due[:limit]]

    def by_phone(self, phone: str, limit: int) -> list[Order]:
        found = sorted((i for i in self._items() if i.order.contact_phone == phone),
                       key=lambda i: to_storage(i.order.created_at), reverse=True)
        return [i.view() for i in found[:limit]]


# ------------------------------------------------------------------ what placing an order writes besides

def _counter(user_id: str, product_id: str) -> str:
    return f"{user_id}#{product_id}"


class FakeCounters:
    """Units per customer and product in live orders; the limit is the write's condition."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def _add(self, uow: FakeUnitOfWork, user_id: str, product_id: str, quantity: int,
             condition: Callable[[dict[str, int] | None], bool]) -> None:
        def apply(item: dict[str, int] | None) -> dict[str, int]:
            item = item or {}
            item["quantity"] = item.get("quantity", 0) + quantity
            return item
        uow.add(COUNTERS, _counter(user_id, product_id), ItemTag.LIMIT.of(product_id), condition, apply)

    def hold(self, uow: FakeUnitOfWork, user_id: str, product_id: str, quantity: int, limit: int) -> None:
        self._add(uow, user_id, product_id, quantity,
                  lambda item: item is None or "quantity" not in item or item["quantity"] <= limit - quantity)

    def give_back(self, uow: FakeUnitOfWork, user_id: str, product_id: str, quantity: int) -> None:
        self._add(uow, user_id, product_id, -quantity,
                  lambda item: item is not None and item.get("quantity", -1) >= quantity)

    def of(self, user_id: str, product_id: str) -> int | None:
        """The counter as stored (tests' view)."""
        item = self.db.table(COUNTERS).get(_counter(user_id, product_id))
        return item.get("quantity") if item else None


class FakeUnpaidHolds:
    """One item per customer: the number of unpaid orders (`quantity`) and units per SKU
    (`u#<sku_id>`), held under the limits as the write's condition, released unconditionally."""

    def __init__(self, db: FakeDatabase, limits: UnpaidLimits | None = None) -> None:
        self.db = db
        self.limits = limits or UnpaidLimits()

    @staticmethod
    def _key(user_id: str) -> str:
        return f"{user_id}#unpaid"

    @staticmethod
    def _adding(orders: int, units: dict[str, int]) -> Callable[[dict[str, int] | None], dict[str, int]]:
        def apply(item: dict[str, int] | None) -> dict[str, int]:
            item = item or {}
            item["quantity"] = item.get("quantity", 0) + orders
            for sku_id, quantity in units.items():
                item[f"u#{sku_id}"] = item.get(f"u#{sku_id}", 0) + quantity
            return item
        return apply

    def hold(self, uow: FakeUnitOfWork, user_id: str, units: dict[str, int]) -> None:
        limits = self.limits

        def within(item: dict[str, int] | None) -> bool:
            item = item or {}
            return ("quantity" not in item or item["quantity"] < limits.orders) and all(
                f"u#{s}" not in item or item[f"u#{s}"] <= limits.units_per_sku - q for s, q in units.items())
        uow.add(COUNTERS, self._key(user_id), Tag.UNPAID, within, self._adding(1, units))

    def adjust(self, uow: FakeUnitOfWork, user_id: str, deltas: dict[str, int]) -> None:
        limits = self.limits

        def within(item: dict[str, int] | None) -> bool:
            item = item or {}
            return all(f"u#{s}" not in item or item[f"u#{s}"] <= limits.units_per_sku - q
                       for s, q in deltas.items() if q > 0)
        uow.add(COUNTERS, self._key(user_id), Tag.UNPAID, within, self._adding(0, deltas))

    def release(self, uow: FakeUnitOfWork, user_id: str, units: dict[str, int]) -> None:
        uow.add(COUNTERS, self._key(user_id), Tag.UNPAID, apply=self._adding(-1, {s: -q for s, q in units.items()}))

    def of(self, user_id: str) -> tuple[int, dict[str, int]]:
        item = self.db.table(COUNTERS).get(self._key(user_id)) or {}
        return item.get("quantity", 0), {k[2:]: v for k, v in item.items() if k.startswith("u#") and v > 0}


@dataclass
class _Remembered:
    reply: IdempotentReply
    expires: datetime


class FakeIdempotency:
    TTL = timedelta(hours=24)

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def remember(self, uow: FakeUnitOfWork, key: str, fingerprint: str, order_id: str, now: datetime) -> None:
        record = _Remembered(IdempotentReply(fingerprint, order_id), now + self.TTL)
        uow.add(IDEMPOTENCY, key, Tag.IDEMPOTENCY, absent, lambda _: record)

    def get(self, key: str) -> IdempotentReply | None:
        found = self.db.table(IDEMPOTENCY).get(key)
        return found.reply if found else None


@dataclass
class FakePlacement:
    """The order path's one read: SKUs as their own items (a sharded SKU's stock unknown), their
    products, the customer's counters and an earlier reply to the Idempotency-Key."""
    db: FakeDatabase
    catalog: FakeCatalog
    stock: FakeStock
    reads: list[list[str]] = field(default_factory=list)

    def snapshot(self, sku_ids: list[str], product_ids: list[str], user_id: str,
                 idempotency_key: str | None, user_coupon_id: str | None = None,
                 with_spend: bool = False) -> PlacementSnapshot:
        self.reads.append(list(sku_ids))
        skus = {s: sku for s in dict.fromkeys(sku_ids) if (sku := self.stock.partial(s)) is not None}
        products = {p: product for p in dict.fromkeys(product_ids) if (product := self.catalog.product(p)) is not None}
        counters = self.db.table(COUNTERS)
        purchased = {p: counters[_counter(user_id, p)].get("quantity", 0) for p in product_ids
                     if _counter(user_id, p) in counters}
        found = self.db.table(IDEMPOTENCY).get(idempotency_key or "") if idempotency_key else None
        coupon = self.db.table(USER_COUPONS).get(user_coupon_id) if user_coupon_id else None
        spend = self.db.table(AGGREGATES).get((spend_bucket(user_id), 0)) if with_spend else None
        return PlacementSnapshot(skus, products, purchased, found.reply if found else None,
                                 copy.deepcopy(coupon), {k: v for k, v in (spend or {}).items() if isinstance(v, int)})
