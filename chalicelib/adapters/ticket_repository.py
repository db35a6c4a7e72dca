"""Tickets and pickup codes in DynamoDB, and the one-request redemption."""
from __future__ import annotations

from datetime import datetime
from enum import Enum
from functools import reduce
from typing import Any, Iterable

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.constants import UPDATE_ITEM
from pynamodb.exceptions import PutError, UpdateError, VerboseClientError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.model import Session
from ..domain.redemption import AnyOf, Compare, ConflictKind, Present, Rule, Scan, ScanConflict
from ..domain.tickets import CodeKind, Revocation, Ticket, TicketStatus
from ..service_layer.ports import FieldCipher, RedeemAttempt
from ..service_layer.tags import ItemTag
from .dynamo import (batch_get_many, connection, each_shard, get_or_none, read_time, spread, spread_keys,
                     stored_time, table_meta)
from .unit_of_work import UnitOfWork

# Revoked codes are keyed by "revoked", which every refund's codes would share: spread by code.
REVOKED_SHARDS = 8


def revoked_key(code: str) -> str:
    return spread("revoked", code, REVOKED_SHARDS)


class OrderTicketsIndex(GlobalSecondaryIndex["TicketRecord"]):
    """Keys only, like the ticket-id index: a scan updates its ticket, and a copy here would be
    rewritten by every scan; the tickets are read whole by their codes instead."""
    class Meta:
        index_name = "order-tickets-keys-index"
        projection = KeysOnlyProjection()
    order_id = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute(range_key=True)


class TicketIdIndex(GlobalSecondaryIndex["TicketRecord"]):
    class Meta:
        index_name = "ticket-id-keys-index"
        projection = KeysOnlyProjection()
    ticket_id = UnicodeAttribute(hash_key=True)


class RevokedIndex(GlobalSecondaryIndex["TicketRecord"]):
    """Sparse: revoked codes only (revoked#<shard>), by the end of their validity, for the
    scanners' offline pack: a code past it cannot be admitted anyway, so the pack reads only
    the revocations of codes still live, whatever the history holds."""
    class Meta:
        index_name = "revoked-shard-index"
        projection = IncludeProjection(["ticket_id", "revoked_at"])
    revoked = UnicodeAttribute(hash_key=True)
    valid_until = UnicodeAttribute(range_key=True)


class TicketRecord(Model):
    """Admission tickets and pickup codes, keyed by the code so that every scan is one keyed write."""
    Meta = table_meta("tickets", streamed=True)
    code = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    order_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    sku_id = UnicodeAttribute(default="")
    product_name = UnicodeAttribute()
    sku_name = UnicodeAttribute()
    session_start = UnicodeAttribute(null=True)
    session_end = UnicodeAttribute(null=True)
    valid_from = UnicodeAttribute()
    valid_until = UnicodeAttribute()
    visitor = UnicodeAttribute(null=True)          # encrypted JSON: name, ID type, masked ID number
    status = UnicodeAttribute()
    qr = UnicodeAttribute()
    issued_at = UnicodeAttribute()
    redeemed_at = UnicodeAttribute(null=True)
    redeemed_scanned_at = UnicodeAttribute(null=True)
    redeemed_gate = UnicodeAttribute(null=True)
    redeemed_device = UnicodeAttribute(null=True)
    redeemed_by = UnicodeAttribute(null=True)
    redeem_nonce = UnicodeAttribute(null=True)
    revoked = UnicodeAttribute(null=True)          # revoked#<shard> once revoked
    revoked_by = UnicodeAttribute(null=True)       # the refund that took it back
    revoked_at = UnicodeAttribute(null=True)       # when that refund was approved
    admitted_offline_at = UnicodeAttribute(null=True)   # let in offline after it was taken back
    paid = NumberAttribute(null=True)              # what its unit paid after promotions (what it refunds)
    reschedules = NumberAttribute(null=True)       # 改签 its customer made (absent: none), carried over
    rescheduled_from = UnicodeAttribute(null=True) # the ticket this one replaced
    visitor_key = UnicodeAttribute(null=True)      # blind index of the visitor's ID type and number
    order_tickets_index = OrderTicketsIndex()
    ticket_id_index = TicketIdIndex()
    revoked_index = RevokedIndex()


class ScanConflictRecord(Model):
    """An offline scan to review: it lost to an earlier scan of the same code, or it admitted
    a visitor whose ticket was refunded afterwards (kind admitted_then_refunded, with the refund)."""
    Meta = table_meta("scan-conflicts")
    code = UnicodeAttribute(hash_key=True)
    conflict_id = UnicodeAttribute(range_key=True)   # <UTC time>#<random>
    ticket_id = UnicodeAttribute()
    scanned_at = UnicodeAttribute()
    gate = UnicodeAttribute()
    device_id = UnicodeAttribute()
    staff = UnicodeAttribute()
    nonce = UnicodeAttribute(null=True)
    winner_scanned_at = UnicodeAttribute(null=True)
    winner_gate = UnicodeAttribute(null=True)
    recorded_at = UnicodeAttribute()
    kind = UnicodeAttribute(null=True)             # absent: earlier_scan
    refund_id = UnicodeAttribute(null=True)


def ticket_from(record: TicketRecord, cipher: FieldCipher) -> Ticket:
    session = None
    if record.session_start and record.session_end:
        session = Session(timeutil.from_storage(record.session_start), timeutil.from_storage(record.session_end))
    return Ticket(
        code=record.code, ticket_id=record.ticket_id, kind=CodeKind(record.kind), order_id=record.order_id,
        user_id=record.user_id, sku_id=record.sku_id or "", product_name=record.product_name,
        sku_name=record.sku_name, valid_from=timeutil.from_storage(record.valid_from),
        valid_until=timeutil.from_storage(record.valid_until), issued_at=timeutil.from_storage(record.issued_at),
        session=session, visitor=cipher.decrypt_json(record.visitor) if record.visitor else None,  # type: ignore[arg-type]
        status=TicketStatus(record.status), qr=record.qr, redeemed_at=read_time(record.redeemed_at),
        redeemed_gate=record.redeemed_gate, redeemed_device=record.redeemed_device,
        redeemed_by=record.redeemed_by, redeem_nonce=record.redeem_nonce,
        redeemed_scanned_at=read_time(record.redeemed_scanned_at), revoked_by=record.revoked_by,
        revoked_at=read_time(record.revoked_at), admitted_offline_at=read_time(record.admitted_offline_at),
        paid=int(record.paid) if record.paid is not None else None,
        reschedules=int(record.reschedules or 0), rescheduled_from=record.rescheduled_from,
        visitor_key=record.visitor_key)


def _stored(value: Any) -> Any:
    if isinstance(value, datetime):
        return stored_time(value)
    return value.value if isinstance(value, Enum) else value


def condition_of(rule: Rule) -> Condition:
    """The domain's rule as the condition of the write, over the ticket's stored attributes."""
    if isinstance(rule, Present):
        return getattr(TicketRecord, rule.field).exists()
    if isinstance(rule, Compare):
        attribute, value = getattr(TicketRecord, rule.field), _stored(rule.value)
        return {"==": attribute.__eq__, "!=": attribute.__ne__, "<": attribute.__lt__, "<=": attribute.__le__,
                ">": attribute.__gt__, ">=": attribute.__ge__}[rule.op](value)
    parts = [condition_of(part) for part in rule.parts]
    return reduce(lambda a, b: a | b, parts) if isinstance(rule, AnyOf) else reduce(lambda a, b: a & b, parts)


class TicketRepository:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def _from(self, record: TicketRecord) -> Ticket:
        return ticket_from(record, self._cipher)

    def add(self, uow: UnitOfWork, ticket: Ticket) -> None:
        uow.put(TicketRecord(
            code=ticket.code, ticket_id=ticket.ticket_id, kind=ticket.kind.value, order_id=ticket.order_id,
            user_id=ticket.user_id, sku_id=ticket.sku_id, product_name=ticket.product_name,
            sku_name=ticket.sku_name, session_start=stored_time(ticket.session.start) if ticket.session else None,
            session_end=stored_time(ticket.session.end) if ticket.session else None,
            valid_from=stored_time(ticket.valid_from), valid_until=stored_time(ticket.valid_until),
            visitor=self._cipher.encrypt_json(ticket.visitor) if ticket.visitor else None, status=ticket.status.value, qr=ticket.qr, issued_at=stored_time(ticket.issued_at),
            paid=ticket.paid, reschedules=ticket.reschedules or None, rescheduled_from=ticket.rescheduled_from,
            visitor_key=ticket.visitor_key),
            condition=TicketRecord.code.does_not_exist(), tag=ItemTag.TICKET.of(ticket.ticket_id))

    def change_visitor(self, uow: UnitOfWork, code: str, visitor: dict[str, str], visitor_key: str) -> None:
        """The real-name visitor of an unused code, conditional on it still being VALID (the old
        item comes back on failure, to say what it became). The QR does not name the visitor,
        so it stays as it was."""
        uow.update(TicketRecord(code=code),
                   [TicketRecord.visitor.set(self._cipher.encrypt_json(visitor)),
                    TicketRecord.visitor_key.set(visitor_key)],
                   condition=TicketRecord.code.exists() & (TicketRecord.status == TicketStatus.VALID.value),
                   tag=ItemTag.TICKET.of(code), return_old_on_failure=True)

    def revoke(self, uow: UnitOfWork, code: str, refund_id: str, at: datetime, take_over_from: Iterable[str] = (),
               goods_returned: bool = False, visitor_as_read: Ticket | None = None) -> None:
        """A refund takes a code back: an unused one; one a failed refund took back (`take_over_from`);
        or, once the goods came back, a pickup code already used. The old item comes back on
        failure, to tell a used code from one that changed otherwise. `visitor_as_read`: only if
        its visitor is still the one read (a 改签 copies the visitor to the new ticket)."""
        condition = TicketRecord.status == TicketStatus.VALID.value
        previous = sorted(set(take_over_from))
        if previous:
            condition |= ((TicketRecord.status == TicketStatus.REVOKED.value) & TicketRecord.revoked_by.is_in(*previous)
                          & TicketRecord.admitted_offline_at.does_not_exist())
        if goods_returned:
            condition |= (TicketRecord.status == TicketStatus.REDEEMED.value) & (TicketRecord.kind == "pickup")
        if visitor_as_read is not None:
            key = visitor_as_read.visitor_key
            condition &= (TicketRecord.visitor_key == key) if key else TicketRecord.visitor_key.does_not_exist()
        uow.update(TicketRecord(code=code),
                   [TicketRecord.status.set(TicketStatus.REVOKED.value),
                    TicketRecord.revoked.set(revoked_key(code)),
                    TicketRecord.revoked_by.set(refund_id), TicketRecord.revoked_at.set(stored_time(at))],
                   condition=TicketRecord.code.exists() & condition, tag=ItemTag.TICKET.of(code),
                   return_old_on_failure=True)

    def not_admitted_since_revoked(self, uow: UnitOfWork, code: str) -> None:
        """A refund sent again pays only for codes no offline gate let in after it took them back."""
        uow.check(TicketRecord, code, TicketRecord.admitted_offline_at.does_not_exist(),
                  tag=ItemTag.TICKET.of(code))

    def admitted_offline(self, ticket: Ticket, at: datetime) -> bool:
        """Marks a code taken back as used by an offline admission, once, while the refund that
        took it back still holds it (a takeover or retry racing it sees the mark or wins)."""
        try:
            TicketRecord(code=ticket.code).update(
                actions=[TicketRecord.admitted_offline_at.set(stored_time(at))],
                condition=(TicketRecord.status == TicketStatus.REVOKED.value)
                & (TicketRecord.revoked_by == ticket.revoked_by) & TicketRecord.admitted_offline_at.does_not_exist())
        except UpdateError:
            return False
        return True

    def from_raw(self, item: dict[str, Any]) -> Ticket:
        return self._from(TicketRecord.from_raw_data(item))

    def by_code(self, code: str) -> Ticket | None:
        record = get_or_none(TicketRecord, code)
        return self._from(record) if record else None

    def by_ticket_id(self, ticket_id: str) -> Ticket | None:
        key = next((r.code for r in TicketRecord.ticket_id_index.query(ticket_id, limit=1)), None)
        return self.by_code(key) if key else None

    def of_order(self, order_id: str) -> list[Ticket]:
        codes = [r.code for r in TicketRecord.order_tickets_index.query(order_id)]
        found = batch_get_many(TicketRecord, codes)
        return [self._from(found[c]) for c in codes if c in found]

    def revocations(self, live_at: datetime, recorded_after: datetime | None = None) -> list[Revocation]:
        """Codes taken back that would otherwise still admit at `live_at`: the index's shards
        read together, from `live_at` on; with `recorded_after`, only those taken back after it
        (a filter on the projected `revoked_at`: the read stays that of the live revocations,
        the answer only what changed)."""
        recent = TicketRecord.revoked_at > stored_time(recorded_after) if recorded_after is not None else None
        shards = each_shard(lambda key: TicketRecord.revoked_index.query(
            key, TicketRecord.valid_until > stored_time(live_at), filter_condition=recent),
            spread_keys("revoked", REVOKED_SHARDS))
        return [Revocation(r.ticket_id, read_time(r.revoked_at), timeutil.from_storage(r.valid_until))
                for rows in shards for r in rows]

    def redeem(self, code: str, scan: Scan, now: datetime, rule: Rule) -> RedeemAttempt:
        """ONE UpdateItem, accepted or not, conditional on the gate's rule. The old item comes
        back either way (ALL_OLD on success, ReturnValuesOnConditionCheckFailure on failure), so
        the caller can say why, or whom a taken-over scan displaced."""
        actions = [TicketRecord.status.set(TicketStatus.REDEEMED.value), TicketRecord.redeemed_at.set(stored_time(now)),
                   TicketRecord.redeemed_scanned_at.set(stored_time(scan.at)), TicketRecord.redeemed_gate.set(scan.gate),
                   TicketRecord.redeemed_device.set(scan.device_id), TicketRecord.redeemed_by.set(scan.staff)]
        actions.append(TicketRecord.redeem_nonce.set(scan.nonce) if scan.nonce else TicketRecord.redeem_nonce.remove())
        kwargs = TicketRecord(code=code).get_update_kwargs_from_instance(
            actions=actions, condition=condition_of(rule), return_values_on_condition_failure="ALL_OLD")
        kwargs["ReturnValues"] = "ALL_OLD"
        try:
            answer = connection().dispatch(UPDATE_ITEM, kwargs)
        except VerboseClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            # pynamodb keeps only the error code; the old item is on the botocore error it wraps.
            original = getattr(error.__cause__, "response", None) or {}
            return RedeemAttempt(False, self._raw(original.get("Item")))
        return RedeemAttempt(True, self._raw(answer.get("Attributes")))

    def _raw(self, item: dict[str, Any] | None) -> Ticket | None:
        return self.from_raw(item) if item else None

    def record_conflict(self, ticket: Ticket, scan: Scan, conflict: ScanConflict, now: datetime) -> bool:
        """Once per scan to review (keyed by its time and nonce), so a re-uploaded batch adds none."""
        record = ScanConflictRecord(
            code=ticket.code, conflict_id=f"{stored_time(scan.at)}#{scan.nonce or scan.device_id}",
            ticket_id=ticket.ticket_id, scanned_at=stored_time(scan.at), gate=scan.gate, device_id=scan.device_id,
            staff=scan.staff, nonce=scan.nonce, winner_scanned_at=stored_time(conflict.winner_scanned_at),
            winner_gate=conflict.winner_gate, recorded_at=stored_time(now),
            kind=None if conflict.kind is ConflictKind.EARLIER_SCAN else conflict.kind.value,
            refund_id=conflict.refund_id)
        try:
            record.save(condition=ScanConflictRecord.conflict_id.does_not_exist())
        except PutError:
            return False
        return True
