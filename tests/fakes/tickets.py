"""Tickets and pickup codes, as `adapters.ticket_repository.TicketRepository` keeps them: keyed by
code, a scan is one conditional write judged by the gate's rule (the domain's `holds`, which
is what the adapter turns into the write's condition), a refund revokes a code conditionally
(tag `ticket:<code>`, the code as it was returned on failure), an issued code is new
(`ticket:<ticket_id>`)."""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from chalicelib.domain.redemption import ConflictKind, Rule, Scan, ScanConflict, holds
from chalicelib.domain.tickets import CodeKind, Revocation, Ticket, TicketStatus
from chalicelib.domain.timeutil import to_storage
from chalicelib.service_layer.ports import RedeemAttempt
from chalicelib.service_layer.tags import ItemTag

from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent

TICKETS, CONFLICTS = "tickets", "scan-conflicts"


@dataclass(frozen=True)
class ConflictRecord:
    code: str
    ticket_id: str
    scanned_at: datetime
    gate: str
    device_id: str
    staff: str
    nonce: str | None
    winner_scanned_at: datetime | None
    winner_gate: str | None
    recorded_at: datetime
    kind: str
    refund_id: str | None


class FakeTickets:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add(self, uow: FakeUnitOfWork, ticket: Ticket) -> None:
        stored = copy.deepcopy(ticket)
        uow.add(TICKETS, ticket.code, ItemTag.TICKET.of(ticket.ticket_id), absent, lambda _: stored)

    def revoke(self, uow: FakeUnitOfWork, code: str, refund_id: str, at: datetime,
               take_over_from: Iterable[str] = (), goods_returned: bool = False,
               visitor_as_read: Ticket | None = None) -> None:
        previous = set(take_over_from)
        read_key = visitor_as_read.visitor_key if visitor_as_read is not None else None

        def condition(t: Ticket | None) -> bool:
            if t is None:
                return False
            if visitor_as_read is not None and t.visitor_key != read_key:
                return False
            return t.status is TicketStatus.VALID or (
                bool(previous) and t.status is TicketStatus.REVOKED and t.revoked_by in previous
                and t.admitted_offline_at is None) or (
                goods_returned and t.status is TicketStatus.REDEEMED and t.kind is CodeKind.PICKUP)

        def apply(t: Ticket | None) -> Ticket:
            assert t is not None
            t.status, t.revoked_by, t.revoked_at = TicketStatus.REVOKED, refund_id, at
            return t
        uow.add(TICKETS, code, ItemTag.TICKET.of(code), condition, apply, return_old=True)

    def change_visitor(self, uow: FakeUnitOfWork, code: str, visitor: dict[str, str], visitor_key: str) -> None:
        def apply(t: Ticket | None) -> Ticket:
            assert t is not None
            t.visitor, t.visitor_key = dict(visitor), visitor_key
            return t
        uow.add(TICKETS, code, ItemTag.TICKET.of(code), lambda t: t is not None and t.status is TicketStatus.VALID,
                apply, return_old=True)

    def not_admitted_since_revoked(self, uow: FakeUnitOfWork, code: str) -> None:
        uow.check(TICKETS, code, ItemTag.TICKET.of(code), lambda t: t is None or t.admitted_offline_at is None)

    def admitted_offline(self, ticket: Ticket, at: datetime) -> bool:
        stored = self.db.table(TICKETS).get(ticket.code)
        if stored is None or stored.status is not TicketStatus.REVOKED or stored.revoked_by != ticket.revoked_by \
                or stored.admitted_offline_at is not None:
            return False
        stored.admitted_offline_at = at
        return True

    def from_raw(self, item: Any) -> Ticket:
        assert isinstance(item, Ticket), "an old item of the fake tickets"
        return copy.deepcopy(item)

    def by_code(self, code: str) -> Ticket | None:
        return self.db.get(TICKETS, code)

    def by_ticket_id(self, ticket_id: str) -> Ticket | None:
        return next((copy.deepcopy(t) for t in self.db.table(TICKETS).values() if t.ticket_id == ticket_id), None)

    def of_order(self, order_id: str) -> list[Ticket]:
        table = self.db.table(TICKETS)
        return sorted((copy.deepcopy(table[code]) for code in self._codes_of(order_id)), key=lambda t: t.ticket_id)

    def _codes_of(self, order_id: str) -> list[str]:
        """The order's codes, as the adapter's index of tickets by order finds them: codes are only
        ever added (an order's never change), so the tables' new keys are indexed as they come, and
        a session of 20,000 tickets does not make every read of one order go through all of them."""
        table = self.db.table(TICKETS)
        index: dict[str, list[str]] = self.__dict__.setdefault("_by_order", {})
        indexed = self.__dict__.get("_indexed", 0)
        if len(table) < indexed:            # a test took codes away: index them all again
            index.clear()
            indexed = 0
        if len(table) != indexed:
            for code in itertools.islice(table.keys(), indexed, None):
                index.setdefault(table[code].order_id, []).append(code)
            self.__dict__["_indexed"] = len(table)
        return [code for code in index.get(order_id, []) if code in table]

    def revocations(self, live_at: datetime, recorded_after: datetime | None = None) -> list[Revocation]:
        return [Revocation(t.ticket_id, t.revoked_at, t.valid_until)
                for t in sorted(self.db.table(TICKETS).values(), key=lambda t: to_storage(t.valid_until))
                if t.revoked_at is not None and t.valid_until > live_at
                and (recorded_after is None or t.revoked_at > recorded_after)]

    def redeem(self, code: str, scan: Scan, now: datetime, rule: Rule) -> RedeemAttempt:
        """ONE write, accepted or not; the ticket as it was comes back either way."""
        stored = self.db.table(TICKETS).get(code)
        if stored is None:
            return RedeemAttempt(False, None)
        before = copy.deepcopy(stored)
        if not holds(rule, stored):
            return RedeemAttempt(False, before)
        stored.status, stored.redeemed_at, stored.redeemed_scanned_at = TicketStatus.REDEEMED, now, scan.at
        stored.redeemed_gate, stored.redeemed_device, stored.redeemed_by = scan.gate, scan.device_id, scan.staff
        stored.redeem_nonce = scan.nonce or None
        return RedeemAttempt(True, before)

    def record_conflict(self, ticket: Ticket, scan: Scan, conflict: ScanConflict, now: datetime) -> bool:
        """Once per scan to review (its time and nonce)."""
        key = (ticket.code, f"{to_storage(scan.at)}#{scan.nonce or scan.device_id}")
        table = self.db.table(CONFLICTS)
        if key in table:
            return False
        table[key] = ConflictRecord(
            code=ticket.code, ticket_id=ticket.ticket_id, scanned_at=scan.at, gate=scan.gate,
            device_id=scan.device_id, staff=scan.staff, nonce=scan.nonce, winner_scanned_at=conflict.winner_scanned_at,
            winner_gate=conflict.winner_gate, recorded_at=now,
            kind=conflict.kind.value if conflict.kind is not ConflictKind.EARLIER_SCAN else "earlier_scan",
            refund_id=conflict.refund_id)
        return True

    def conflicts(self, code: str | None = None) -> list[ConflictRecord]:
        """The scans kept for review (tests' view)."""
        return [r for (c, _), r in sorted(self.db.table(CONFLICTS).items()) if code is None or c == code]
