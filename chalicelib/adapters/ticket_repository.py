"""Tickets and pickup codes in DynamoDB, and the one-request redemption."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.constants import UPDATE_ITEM
from pynamodb.exceptions import DoesNotExist, PutError, VerboseClientError

from ..domain import timeutil
from ..domain.model import Session
from ..domain.redemption import Scan
from ..domain.tickets import CodeKind, Ticket, TicketStatus
from .dynamo import UnitOfWork, connection
from .repository import _plain, _t
from .tables import ScanConflictRecord, TicketRecord


def ticket_from(record: TicketRecord) -> Ticket:
    session = None
    if record.session_start and record.session_end:
        session = Session(timeutil.from_storage(record.session_start), timeutil.from_storage(record.session_end))
    return Ticket(
        code=record.code, ticket_id=record.ticket_id, kind=CodeKind(record.kind), order_id=record.order_id,
        user_id=record.user_id, sku_id=record.sku_id or "", product_name=record.product_name,
        sku_name=record.sku_name, valid_from=timeutil.from_storage(record.valid_from),
        valid_until=timeutil.from_storage(record.valid_until), issued_at=timeutil.from_storage(record.issued_at),
        session=session, visitor=_plain(record.visitor) if record.visitor else None,
        status=TicketStatus(record.status), qr=record.qr,
        redeemed_at=timeutil.from_storage(record.redeemed_at) if record.redeemed_at else None,
        redeemed_gate=record.redeemed_gate, redeemed_device=record.redeemed_device,
        redeemed_by=record.redeemed_by, redeem_nonce=record.redeem_nonce,
        extra={"scanned_at": record.redeemed_scanned_at or ""})


@dataclass(frozen=True)
class RedeemAttempt:
    """What the one conditional write found: `accepted`, and the ticket as it was before."""
    accepted: bool
    before: Ticket | None


class TicketRepository:
    def add(self, uow: UnitOfWork, ticket: Ticket) -> None:
        uow.put(TicketRecord(
            code=ticket.code, ticket_id=ticket.ticket_id, kind=ticket.kind.value, order_id=ticket.order_id,
            user_id=ticket.user_id, sku_id=ticket.sku_id, product_name=ticket.product_name,
            sku_name=ticket.sku_name, session_start=_t(ticket.session.start) if ticket.session else None,
            session_end=_t(ticket.session.end) if ticket.session else None, valid_from=_t(ticket.valid_from),
            valid_until=_t(ticket.valid_until), visitor=ticket.visitor, status=ticket.status.value, qr=ticket.qr,
            issued_at=_t(ticket.issued_at)),
            condition=TicketRecord.code.does_not_exist(), tag=f"ticket:{ticket.ticket_id}")

    def by_code(self, code: str) -> Ticket | None:
        try:
            return ticket_from(TicketRecord.get(code, consistent_read=True))
        except DoesNotExist:
            return None

    def by_ticket_id(self, ticket_id: str) -> Ticket | None:
        for record in TicketRecord.ticket_id_index.query(ticket_id, limit=1):
            return ticket_from(record)
        return None

    def of_order(self, order_id: str) -> list[Ticket]:
        return [ticket_from(r) for r in TicketRecord.order_tickets_index.query(order_id)]

    def revoked(self) -> list[Ticket]:
        return [ticket_from(r) for r in TicketRecord.revoked_index.query("revoked")]

    def redeem(self, code: str, scan: Scan, now: datetime, expected_ticket_id: str | None,
               earliest_wins: bool = False) -> RedeemAttempt:
        """ONE UpdateItem, accepted or not. It applies only to a valid ticket within its validity
        at the scan's time; the old item comes back either way (ALL_OLD on success, and
        ReturnValuesOnConditionCheckFailure on failure), so the caller can say why.

        With `earliest_wins` (offline uploads), an earlier scan also takes over a redemption
        recorded from a later one; the displaced scan is in `before`."""
        at = _t(scan.at)
        ready = (TicketRecord.valid_from <= at) & (TicketRecord.valid_until > at)
        if expected_ticket_id is not None:
            ready &= TicketRecord.ticket_id == expected_ticket_id
        condition = TicketRecord.code.exists() & (TicketRecord.status == TicketStatus.VALID.value) & ready
        if earliest_wins:
            condition |= (TicketRecord.code.exists() & (TicketRecord.status == TicketStatus.REDEEMED.value)
                          & (TicketRecord.redeemed_scanned_at > at) & ready)
        actions = [TicketRecord.status.set(TicketStatus.REDEEMED.value), TicketRecord.redeemed_at.set(_t(now)),
                   TicketRecord.redeemed_scanned_at.set(at), TicketRecord.redeemed_gate.set(scan.gate),
                   TicketRecord.redeemed_device.set(scan.device_id), TicketRecord.redeemed_by.set(scan.staff)]
        actions.append(TicketRecord.redeem_nonce.set(scan.nonce) if scan.nonce else TicketRecord.redeem_nonce.remove())
        kwargs = TicketRecord(code=code).get_update_kwargs_from_instance(
            actions=actions, condition=condition, return_values_on_condition_failure="ALL_OLD")
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

    @staticmethod
    def _raw(item: dict[str, Any] | None) -> Ticket | None:
        return ticket_from(TicketRecord.from_raw_data(item)) if item else None

    def record_conflict(self, ticket: Ticket, scan: Scan, winner_scanned_at: datetime, winner_gate: str,
                        now: datetime) -> bool:
        """Once per losing scan (keyed by its time and nonce), so a re-uploaded batch adds none."""
        record = ScanConflictRecord(
            code=ticket.code, conflict_id=f"{_t(scan.at)}#{scan.nonce or scan.device_id}", ticket_id=ticket.ticket_id,
            scanned_at=_t(scan.at), gate=scan.gate, device_id=scan.device_id, staff=scan.staff, nonce=scan.nonce,
            winner_scanned_at=_t(winner_scanned_at), winner_gate=winner_gate, recorded_at=_t(now))
        try:
            record.save(condition=ScanConflictRecord.conflict_id.does_not_exist())
        except PutError:
            return False
        return True
