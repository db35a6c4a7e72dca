"""The back office's storage: operational alerts (`adapters.alert_log`: one per id, tag
"alert"), the figures' counters (`adapters.aggregate_store`: a marker per change counted,
`counted:<change id>`, and an ADD per bucket, `bucket:<bucket>`), the sale a refund belongs to
(`adapters.change_stream.SaleLookup`) and each day's reconciliation."""
from __future__ import annotations

import copy
import json
import random
import secrets
from datetime import datetime
from typing import Any

from chalicelib.domain.back_office import Alert
from chalicelib.domain.model import Order, awaiting_shipment
from chalicelib.domain.reconciliation import NOT_RUN, Reconciliation
from chalicelib.domain.figure_facts import AppliedPromotion, OrderFacts, SaleLine
from chalicelib.domain.figures import Figures, single_shard
from chalicelib.domain.timeutil import to_storage
from chalicelib.service_layer.ports import Page
from chalicelib.service_layer.tags import ItemTag, Tag

from . import paging
from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent

ALERTS, AGGREGATES, RECONCILIATIONS = "alerts", "aggregates", "reconciliations"


class FakeAlerts:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @staticmethod
    def new_id(at: datetime) -> str:
        return f"A{to_storage(at)}#{secrets.token_hex(4)}"

    @staticmethod
    def _stored(alert: Alert) -> Alert:
        return Alert(alert_id=alert.alert_id, kind=alert.kind, severity=alert.severity, message=alert.message,
                     created_at=alert.created_at,
                     details=json.loads(json.dumps(alert.details, ensure_ascii=False, default=str)))

    def add(self, uow: FakeUnitOfWork, alert: Alert) -> None:
        stored = self._stored(alert)
        uow.add(ALERTS, alert.alert_id, Tag.ALERT, absent, lambda _: stored)

    def add_once(self, alert: Alert) -> bool:
        table = self.db.table(ALERTS)
        if alert.alert_id in table:
            return False
        table[alert.alert_id] = self._stored(alert)
        return True

    def page(self, limit: int, cursor: str | None) -> Page:
        return paging.page(self.db.table(ALERTS).values(), lambda a: [to_storage(a.created_at), a.alert_id], limit,
                           cursor, descending=True)

    def of_kind(self, kind: str) -> list[Alert]:
        """Alerts kept, oldest first (tests' view)."""
        return sorted((a for a in self.db.table(ALERTS).values() if a.kind == kind),
                      key=lambda a: to_storage(a.created_at))


class FakeAggregates:
    def __init__(self, db: FakeDatabase, shards: int = 4) -> None:
        self.db = db
        self.shards = shards

    def count(self, uow: FakeUnitOfWork, change_ids: list[str], figures: Figures, at: datetime) -> None:
        for change_id in change_ids:
            uow.add(AGGREGATES, (f"counted#{change_id}", 0), ItemTag.COUNTED.of(change_id), absent,
                    lambda _: {"marker": 1})
        shard = random.randrange(self.shards)
        for bucket in sorted(figures.buckets()):
            counts = {name: n for (b, name), n in figures.counts.items() if b == bucket and n}
            labels = {name: text for (b, name), text in figures.labels.items() if b == bucket}
            if counts:
                def apply(item: dict[str, Any] | None, counts: dict[str, int] = counts,
                          labels: dict[str, str] = labels) -> dict[str, Any]:
                    item = item or {}
                    for name, n in counts.items():
                        item[name] = item.get(name, 0) + n
                    item.update(labels)
                    return item
                uow.add(AGGREGATES, (bucket, 0 if single_shard(bucket) else shard), ItemTag.BUCKET.of(bucket),
                        apply=apply)

    def read(self, buckets: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {b: {} for b in buckets}
        for (bucket, _), item in self.db.table(AGGREGATES).items():
            if bucket in found:
                for name, value in item.items():
                    if isinstance(value, int):
                        found[bucket][name] = found[bucket].get(name, 0) + value
                    else:
                        found[bucket].setdefault(name, value)
        return found


def order_facts(order: Order) -> OrderFacts:
    """What the figures read of an order (adapters.change_stream.order_facts)."""
    lines = tuple(SaleLine(product_id=l.product_id, product_name=l.product_name, sku_id=l.sku_id,
                           sku_name=l.sku_name, category=l.category or "", kind=l.kind.value, units=l.quantity,
                           amount=l.paid, session_start=l.session.start if l.session else None,
                           discount=l.discount)
                  for l in order.lines)
    waiting = awaiting_shipment(order.status, order.fulfillment.value if order.fulfillment else None,
                                order.shipment is not None, order.merch_refund is not None)
    # A coupon step counts under its template (stored as `coupon_id` beside the user coupon's `id`).
    promotions = tuple(AppliedPromotion(p.kind, (getattr(p, "coupon_id", None) or p.id) if p.kind == "coupon" else p.id,
                                        p.name, p.amount) for p in order.promotions)
    return OrderFacts(order_id=order.order_id, paid_at=order.paid_at, lines=lines, awaiting_shipment=waiting,
                      user_id=order.user_id, promotions=promotions, refunded=order.refunded_total > 0)


class FakeSales:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def sales(self, order_ids: list[str]) -> dict[str, OrderFacts]:
        table = self.db.table("orders")
        return {o: order_facts(table[o].view()) for o in order_ids if o in table}


class FakeReconciliations:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def save(self, result: Reconciliation) -> None:
        self.db.table(RECONCILIATIONS)[result.day] = copy.deepcopy(result)

    def of_day(self, day: str) -> Reconciliation:
        found = self.db.table(RECONCILIATIONS).get(day)
        return copy.deepcopy(found) if found is not None else Reconciliation(day=day, status=NOT_RUN)
