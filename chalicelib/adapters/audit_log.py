"""The audit log in DynamoDB: one partition per UTC day, newest first."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.back_office import AuditEntry
from ..service_layer.ports import Page
from .dynamo import UnitOfWork, page_of, stamp, stored_time, table_meta


class AuditRecord(Model):
    Meta = table_meta("audit")
    day = UnicodeAttribute(hash_key=True)            # venue-independent UTC date
    entry_id = UnicodeAttribute(range_key=True)      # <UTC time>#<random>
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)
    details = UnicodeAttribute(default="{}")         # JSON, never personal data
    at = UnicodeAttribute()


def _entry_from(r: AuditRecord) -> AuditEntry:
    return AuditEntry(actor=r.actor, action=r.action, at=timeutil.from_storage(r.at), target=r.target,
                      source_ip=r.source_ip, details=json.loads(r.details or "{}"))


class AuditLog:
    """Who did what, when and from where. Staff changes are audited in the change's own
    transaction; logins are written on their own."""

    def record(self, actor: str, action: str, at: datetime, target: str | None = None,
               source_ip: str | None = None, details: dict[str, Any] | None = None,
               uow: UnitOfWork | None = None) -> None:
        record = AuditRecord(day=at.strftime("%Y-%m-%d"), entry_id=stamp(at), actor=actor, action=action,
                             target=target, source_ip=source_ip,
                             details=json.dumps(details or {}, ensure_ascii=False, default=str), at=stored_time(at))
        if uow is None:
            record.save()
        else:
            uow.put(record, tag="audit")

    def page(self, day: str, limit: int, cursor: str | None) -> Page:
        return page_of(lambda start: AuditRecord.query(day, scan_index_forward=False, limit=limit,
                                                       last_evaluated_key=start),
                       cursor, {"day", "entry_id"}, _entry_from, pinned={"day": day})
