"""Refunds, as `adapters.refund_repository.RefundRepository` keeps them: every state change is
conditional on the state it was read in (status, WeChat number, held by WeChat or not) and on
not having been taken over, tag "refund"; taking a failed refund over is `superseded:<id>`."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable

from chalicelib.domain.payments import bill_day
from chalicelib.domain.reconciliation import OurRefund
from chalicelib.domain.refunds import HELD_BY_WECHAT, Refund, RefundStatus
from chalicelib.domain.timeutil import to_storage
from chalicelib.service_layer.ports import Page
from chalicelib.service_layer.tags import ItemTag, Tag

from . import paging
from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent

REFUNDS = "refunds"
# What a removed attribute reads as (refund_repository.refund_from).
_REMOVED = {"goods_returned": False, "claims_goods": False, "queries": 0, "unsettled": False}


@dataclass
class RefundItem:
    refund: Refund
    listed_at: str                       # <created_at>#<refund_id>
    updated_at: datetime
    query_due: bool = False              # in the sparse query-due index
    accepted_no: str | None = None
    accepted_at: datetime | None = None


def _waits_for_wechat(target: RefundStatus, gateway_status: object) -> bool:
    return target is RefundStatus.PROCESSING or (target is RefundStatus.FAILED and gateway_status == HELD_BY_WECHAT)


def _as_read(refund: Refund) -> Callable[[RefundItem], bool]:
    status, number, held = refund.status, refund.out_refund_no, refund.gateway_status == HELD_BY_WECHAT
    return lambda item: (item.refund.status is status and item.refund.out_refund_no == number
                         and (item.refund.gateway_status == HELD_BY_WECHAT) == held)


class FakeRefunds:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def _update(self, uow: FakeUnitOfWork, refund_id: str, condition: Callable[[RefundItem], bool],
                apply: Callable[[RefundItem], None], tag: str = Tag.REFUND) -> None:
        def applied(item: RefundItem | None) -> RefundItem:
            assert item is not None
            apply(item)
            return item
        uow.add(REFUNDS, refund_id, tag, lambda item: item is not None and condition(item), applied)

    @staticmethod
    def _set(refund: Refund, fields: dict[str, Any]) -> None:
        for name, value in fields.items():
            if not hasattr(refund, name):
                raise AttributeError(f"a refund has no attribute {name}")
            if value is None:
                value = refund.refund_id if name == "out_refund_no" else _REMOVED.get(name)
            setattr(refund, name, value)

    # ------------------------------------------------------------------ writes
    def add(self, uow: FakeUnitOfWork, refund: Refund, at: datetime) -> None:
        stored = Refund(refund_id=refund.refund_id, order_id=refund.order_id, amount=refund.amount, total=refund.total,
                        status=refund.status, reason=refund.reason, source=refund.source,
                        created_at=refund.created_at, user_id=refund.user_id, transaction_id=refund.transaction_id,
                        ticket_codes=list(refund.ticket_codes), stock_lines=list(refund.stock_lines),
                        decided_by=refund.decided_by, out_refund_no=refund.out_refund_no,
                        claims_goods=refund.claims_goods, review_reasons=list(refund.review_reasons),
                        out_trade_no=refund.out_trade_no,
                        items=list(refund.items) if refund.items is not None else None, contact=refund.contact)
        item = RefundItem(stored, f"{to_storage(refund.created_at)}#{refund.refund_id}", at)
        uow.add(REFUNDS, refund.refund_id, Tag.REFUND, absent, lambda _: item)

    def move(self, uow: FakeUnitOfWork, refund: Refund, target: RefundStatus, at: datetime, **fields: Any) -> None:
        as_read = _as_read(refund)

        def apply(item: RefundItem) -> None:
            item.refund.status, item.updated_at = target, at
            item.query_due = _waits_for_wechat(target, fields.get("gateway_status"))
            self._set(item.refund, fields)
        self._update(uow, refund.refund_id, lambda item: as_read(item) and item.refund.superseded_by is None, apply)

    def ask_again(self, uow: FakeUnitOfWork, refund: Refund, queries: int, next_query_at: datetime) -> None:
        as_read = _as_read(refund)

        def apply(item: RefundItem) -> None:
            item.refund.queries, item.refund.next_query_at = queries, next_query_at
        self._update(uow, refund.refund_id, lambda item: as_read(item) and item.query_due, apply)

    def paid_unsettled(self, uow: FakeUnitOfWork, refund: Refund, at: datetime, gateway_status: str,
                       note: str) -> None:
        def apply(item: RefundItem) -> None:
            item.refund.status, item.updated_at, item.query_due = RefundStatus.SUCCEEDED, at, False
            item.refund.next_query_at, item.refund.unsettled = None, True
            item.refund.gateway_status, item.refund.last_error = gateway_status, note
        self._update(uow, refund.refund_id, _as_read(refund), apply)

    def supersede(self, uow: FakeUnitOfWork, refund_id: str, by: str, at: datetime) -> None:
        def apply(item: RefundItem) -> None:
            item.refund.superseded_by, item.updated_at, item.query_due = by, at, False
        self._update(uow, refund_id, lambda item: item.refund.status is RefundStatus.FAILED
                     and item.refund.superseded_by is None and item.refund.gateway_status != HELD_BY_WECHAT,
                     apply, tag=ItemTag.SUPERSEDED.of(refund_id))

    def accepted(self, refund: Refund, at: datetime) -> None:
        """Once per attempt, and only while the attempt is the latest (a direct, conditional write)."""
        item = self.db.table(REFUNDS).get(refund.refund_id)
        if item is None or item.refund.out_refund_no != refund.out_refund_no \
                or item.accepted_no == refund.out_refund_no:
            return
        item.accepted_no, item.accepted_at = refund.out_refund_no, at

    # ------------------------------------------------------------------ reads
    def get(self, refund_id: str) -> Refund | None:
        item = self.db.table(REFUNDS).get(refund_id)
        return copy.deepcopy(item.refund) if item else None

    def _items(self) -> list[RefundItem]:
        return list(self.db.table(REFUNDS).values())

    def of_order(self, order_id: str) -> list[Refund]:
        return [copy.deepcopy(i.refund) for i in sorted((i for i in self._items() if i.refund.order_id == order_id),
                                                         key=lambda i: i.listed_at)]

    def page(self, status: str, limit: int, cursor: str | None) -> Page:
        return paging.page([i for i in self._items() if i.refund.status.value == status], lambda i: i.listed_at,
                           limit, cursor, descending=True, convert=lambda i: copy.deepcopy(i.refund))

    def processing_due(self, now: datetime, limit: int) -> list[Refund]:
        due = sorted(((to_storage(i.refund.next_query_at), i.refund.refund_id), i) for i in self._items()
                     if i.query_due and i.refund.next_query_at is not None and i.refund.next_query_at <= now)
        return [copy.deepcopy(i.refund) for _, i in due[:limit]]

    def approved_before(self, cutoff: datetime) -> list[Refund]:
        ids = sorted(i.refund.refund_id for i in self._items()
                     if i.refund.status is RefundStatus.APPROVED and i.listed_at < to_storage(cutoff))
        return [copy.deepcopy(self.db.table(REFUNDS)[r].refund) for r in ids[:100]]

    def accepted_on(self, day: date) -> list[OurRefund]:
        return [_our(i, i.accepted_no) for i in self._items()
                if i.accepted_no and i.accepted_at is not None and bill_day(i.accepted_at) == day]

    def for_reconciliation(self, refund_ids: Iterable[str]) -> dict[str, OurRefund]:
        table = self.db.table(REFUNDS)
        return {r: _our(table[r], table[r].refund.out_refund_no) for r in set(refund_ids) if r in table}


def _our(item: RefundItem, number: str) -> OurRefund:
    r = item.refund
    return OurRefund(refund_id=r.refund_id, out_refund_no=number, out_trade_no=r.out_trade_no, amount=r.amount,
                     status=r.status.value)
