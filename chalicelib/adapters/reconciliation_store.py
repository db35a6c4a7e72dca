"""The result of each day's reconciliation, one item per day (a new run replaces it)."""
from __future__ import annotations

import json

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..domain.reconciliation import NOT_RUN, Difference, Reconciliation
from .dynamo import get_or_none, plain, read_time, stored_time, table_meta


class ReconciliationRecord(Model):
    Meta = table_meta("reconciliations")
    day = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    checked_at = UnicodeAttribute(null=True)
    failure = UnicodeAttribute(null=True)
    failed_at = UnicodeAttribute(null=True)
    bill = MapAttribute(default=dict)
    differences = UnicodeAttribute(default="[]")     # JSON: at most MAX_STORED_DIFFERENCES
    differences_total = NumberAttribute(default=0)


class ReconciliationStore:
    def save(self, result: Reconciliation) -> None:
        ReconciliationRecord(day=result.day, status=result.status,
                             checked_at=stored_time(result.checked_at) if result.checked_at else None,
                             failure=result.failure,
                             failed_at=stored_time(result.failed_at) if result.failed_at else None,
                             bill=dict(result.bill), differences_total=result.differences_total,
                             differences=json.dumps([d.as_dict() for d in result.differences],
                                                    ensure_ascii=False)).save()

    def of_day(self, day: str) -> Reconciliation:
        record = get_or_none(ReconciliationRecord, day)
        if record is None:
            return Reconciliation(day=day, status=NOT_RUN)
        return Reconciliation(
            day=day, status=record.status, checked_at=read_time(record.checked_at) if record.checked_at else None,
            failure=record.failure, failed_at=read_time(record.failed_at) if record.failed_at else None,
            bill={k: int(v) for k, v in plain(record.bill).items()},
            differences=[Difference(d["kind"], d["out_trade_no"], d.get("out_refund_no"), d.get("ours"), d.get("theirs"))
                         for d in json.loads(record.differences or "[]")],
            differences_total=int(record.differences_total or 0))
