"""The audit log in DynamoDB: one partition per UTC day, newest first."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.back_office import AuditEntry
from ..service_layer.ports import Page
from ..service_layer.tags import Tag
from .dynamo import decode_cursor, encode_cursor, invalid_cursor, stamp, stored_time, table_meta
from .unit_of_work import UnitOfWork


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
    expires = TTLAttribute(null=True)                # only records that need not stay (logins by no account)


def _entry_from(r: AuditRecord) -> AuditEntry:
    return AuditEntry(actor=r.actor, action=r.action, at=timeutil.from_storage(r.at), target=r.target,
                      source_ip=r.source_ip, details=json.loads(r.details or "{}"))


class AuditLog:
    """Who did what, when and from where. Staff changes are audited in the change's own
    transaction; logins are written on their own."""

    def record(self, actor: str, action: str, at: datetime, target: str | None = None,
               source_ip: str | None = None, details: dict[str, Any] | None = None,
               uow: UnitOfWork | None = None, expires: datetime | None = None) -> None:
        record = AuditRecord(day=at.strftime("%Y-%m-%d"), entry_id=stamp(at), actor=actor, action=action,
                             target=target, source_ip=source_ip,
                             details=json.dumps(details or {}, ensure_ascii=False, default=str), at=stored_time(at),
                             expires=expires)
        if uow is None:
            record.save()
        else:
            uow.put(record, tag=Tag.AUDIT)

    def search(self, days: list[str], start: datetime | None, end: datetime | None, actor: str | None,
               action: str | None, limit: int, cursor: str | None) -> Page:
        """Entries of the given UTC days (newest first), between two instants, by one actor or of
        one action. A page may end at a day's end; its cursor then starts the next day."""
        position = decode_cursor(cursor, {"day", "entry_id"})
        lo, hi = stored_time(start) if start else "0", (stored_time(end) + "#~") if end else "~"
        if position is not None:
            if any("S" not in value for value in position.values()) or position["day"]["S"] not in days:
                raise invalid_cursor()
            resumed = position["entry_id"]["S"]
            if resumed and not lo <= resumed <= hi:     # another search's cursor: DynamoDB would refuse it
                raise invalid_cursor()
        wanted = None
        if actor:
            wanted = AuditRecord.actor == actor
        if action:
            wanted = (AuditRecord.action == action) if wanted is None else wanted & (AuditRecord.action == action)
        first = days.index(position["day"]["S"]) if position else 0
        found: list[AuditEntry] = []
        for i, day in enumerate(days[first:], start=first):
            resume = position if position and i == first and position["entry_id"]["S"] else None
            result = AuditRecord.query(day, AuditRecord.entry_id.between(lo, hi), filter_condition=wanted,
                                       scan_index_forward=False, limit=limit - len(found), last_evaluated_key=resume)
            found.extend(_entry_from(r) for r in result)
            if result.last_evaluated_key:
                return Page(found, encode_cursor(result.last_evaluated_key))
            if len(found) >= limit:
                following = days[i + 1] if i + 1 < len(days) else None
                return Page(found, encode_cursor({"day": {"S": following}, "entry_id": {"S": ""}})
                            if following else None)
        return Page(found, None)
