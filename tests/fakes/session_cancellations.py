"""Session cancellations as `adapters.session_cancellation_store` keeps them: one partition per
session (progress, refund links, notices, deferred orders), the same conditions and tags."""
from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from chalicelib.domain.session_cancellation import Affected, CancellationStatus, SessionCancellation
from chalicelib.service_layer.ports import WriteRefused
from chalicelib.service_layer.tags import Tag

from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent, present

TABLE = "session-cancellations"
PROGRESS, REFUND, NOTICE, DEFERRED = "progress", "refund#", "notice#", "deferred#"


class FakeSessionCancellations:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def _entries(self, sku_id: str, prefix: str) -> list[tuple[str, Any]]:
        return sorted((entry, item) for (sku, entry), item in self.db.table(TABLE).items()
                      if sku == sku_id and entry.startswith(prefix))

    def start(self, uow: FakeUnitOfWork, c: SessionCancellation) -> None:
        uow.add(TABLE, (c.sku_id, PROGRESS), Tag.CANCELLATION, absent, lambda _: copy.deepcopy(c))

    def get(self, sku_id: str) -> SessionCancellation | None:
        found = self.db.table(TABLE).get((sku_id, PROGRESS))
        return copy.deepcopy(found) if found is not None else None

    def advance(self, c: SessionCancellation, bucket: int, after: str | None, done: bool, at: datetime) -> bool:
        def apply(item: SessionCancellation) -> SessionCancellation:
            item.bucket, item.after, item.version = bucket, after, item.version + 1
            if done:
                item.status, item.finished_at = CancellationStatus.DONE, at
            return item
        uow = self.db.unit_of_work()
        uow.add(TABLE, (c.sku_id, PROGRESS), Tag.CANCELLATION,
                lambda item: item is not None and item.version == c.version, apply)
        try:
            uow.commit()
        except WriteRefused as refused:
            if refused.failed:
                return False
            raise
        return True

    def _count(self, uow: FakeUnitOfWork, sku_id: str, **adds: int) -> None:
        def apply(item: SessionCancellation) -> SessionCancellation:
            for name, by in adds.items():
                setattr(item, name, getattr(item, name) + by)
            return item
        uow.add(TABLE, (sku_id, PROGRESS), Tag.CANCELLATION, present, apply)

    def link_refund(self, uow: FakeUnitOfWork, sku_id: str, refund_id: str) -> None:
        uow.add(TABLE, (sku_id, REFUND + refund_id), Tag.CANCELLATION, absent, lambda _: {})
        self._count(uow, sku_id, refunds_requested=1)

    def record_affected(self, sku_id: str, order_id: str, user_id: str, kind: Affected, tickets: int,
                        at: datetime) -> bool:
        uow = self.db.unit_of_work()
        uow.add(TABLE, (sku_id, NOTICE + order_id), Tag.NOTICE, absent,
                lambda _: {"event": "session_cancelled", "user_id": user_id, "kind": kind.value, "tickets": tickets,
                           "at": at})
        counter = "orders_cancelled" if kind is Affected.CANCELLED else "orders_refunded"
        self._count(uow, sku_id, **{counter: 1, "tickets_refunded": tickets})
        try:
            uow.commit()
        except WriteRefused as refused:
            if Tag.NOTICE in refused.failed:
                return False
            raise
        return True

    def notices(self, sku_id: str) -> dict[str, tuple[str, int]]:
        return {entry[len(NOTICE):]: (item["kind"], item["tickets"]) for entry, item in self._entries(sku_id, NOTICE)}

    def refund_ids(self, sku_id: str) -> list[str]:
        return [entry[len(REFUND):] for entry, _ in self._entries(sku_id, REFUND)]

    def defer(self, sku_id: str, order_id: str) -> None:
        self.db.put_now(TABLE, (sku_id, DEFERRED + order_id), {})

    def undefer(self, sku_id: str, order_id: str) -> None:
        self.db.table(TABLE).pop((sku_id, DEFERRED + order_id), None)

    def deferred(self, sku_id: str, limit: int, after: str | None = None) -> list[str]:
        found = [entry[len(DEFERRED):] for entry, _ in self._entries(sku_id, DEFERRED)]
        return [order_id for order_id in found if after is None or order_id > after][:limit]
