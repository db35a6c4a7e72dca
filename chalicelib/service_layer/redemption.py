"""Redemption (核销) at the gates: online scans, offline uploads, and the scanners' offline pack."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ..domain.commands import OfflineScan, ScanRequest
from ..domain.error_codes import ErrorCode
from ..domain.errors import InvalidInput
from ..domain.redemption import (ConflictKind, Reason, Scan, ScanConflict, admission_checks, admission_condition,
                                 admitted_before_refund, admitted_while_revoked, is_repeat_of_first_scan, refused_because,
                                 scan_time_allowed)
from ..domain.tickets import Revocation, Ticket, looks_like_qr, normalize_manual_code
from . import ports
from .context import Actor
from .publishing import Publishing, announce_redemption, send_alert

MAX_CLOCK_AHEAD = timedelta(minutes=5)       # a scanner's clock this far ahead is forgiven, no further
# A pack's `next` lies this far behind its generation: a revocation is stamped with its use case's
# clock before its transaction commits (within a Lambda's 30 s) and reaches the revoked index a
# moment later, so one stamped just before the mark may still be on its way. Listed twice is harmless.
PACK_MARK_LAG = timedelta(seconds=60)
PACK_MARK_PREFIX = "rv1."


class Gate(Publishing, Protocol):
    """What the gate touches: tickets and the QR keys."""
    @property
    def tickets(self) -> ports.TicketStore: ...
    @property
    def qr(self) -> ports.QrSigner: ...
    @property
    def offline_scan_max_age(self) -> timedelta: ...


@dataclass(frozen=True)
class Redemption:
    """The gate's answer: admitted (with the ticket and when and where), or the reason why not
    (with the ticket where there is one, and for already_redeemed when and where it first was).
    `conflict` names what an offline scan that was refused conflicts with, for review."""
    ticket: Ticket | None
    reason: Reason | None = None
    redeemed_at: datetime | None = None
    gate: str | None = None
    conflict: ConflictKind | None = None

    @property
    def admitted(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class OfflinePack:
    keys: list[dict[str, str]]
    revoked: list[Revocation]                # ticket ids, each with the end of its validity
    generated_at: datetime
    next: str                                # ask with ?since= for what changed after this pack


def redeem(ctx: Gate, actor: Actor, request: ScanRequest, offline: bool = False) -> Redemption:
    """Ordered checks, one conditional write. A QR is verified by signature before anything is
    read; a manual code goes straight to its keyed ticket."""
    now = ctx.clock()
    # An offline scan is judged at the time it happened, which must be a time it can have happened
    # (no older than the allowed age, not ahead of the server's clock beyond a scanner's skew, and,
    # in the write's condition, not before the code was issued); an online one, now.
    at = request.scanned_at if offline and request.scanned_at else now
    scan = Scan(gate=request.gate, device_id=request.device_id, staff=actor.name, at=at, nonce=request.nonce)
    on_time = scan_time_allowed(at, now, ctx.offline_scan_max_age, MAX_CLOCK_AHEAD)
    expected_ticket_id = None
    if looks_like_qr(request.code):
        claims = ctx.qr.verify(request.code)
        code = claims.code if claims else None
        expected_ticket_id = claims.ticket_id if claims else None
    else:
        code = normalize_manual_code(request.code)
    if code is None:
        outcome = Redemption(None, Reason.INVALID)
    elif not on_time:
        outcome = _out_of_time(ctx, code, expected_ticket_id, scan, now)
    else:
        checks = admission_checks(at, expected_ticket_id, earliest_wins=offline)
        attempt = ctx.tickets.redeem(code, scan, now, admission_condition(checks))
        outcome = _outcome(ctx, attempt, checks, scan, now, offline)
    ctx.metrics.count("Redemptions", result=outcome.reason.value if outcome.reason else "ok", gate=scan.gate)
    if not outcome.admitted:
        ctx.metrics.count("RedemptionsRejected")      # one series across gates, for the spike alarm
    return outcome


def _outcome(ctx: Gate, attempt: ports.RedeemAttempt, checks: list[Any], scan: Scan, now: datetime,
             offline: bool) -> Redemption:
    before = attempt.before
    if attempt.accepted and before is not None:
        if before.redeemed_at is not None and before.redeemed_gate is not None:
            # An earlier offline scan took over: the later one it displaced is a conflict.
            displaced = Scan(before.redeemed_gate, before.redeemed_device or "", before.redeemed_by or "",
                             _scanned_at(before), before.redeem_nonce)
            if ctx.tickets.record_conflict(before, displaced, ScanConflict(ConflictKind.EARLIER_SCAN, scan.at, scan.gate),
                                           now):
                _conflict_alert(ctx, before, displaced, scan.gate)
        announce_redemption(ctx, before.order_id)
        return Redemption(before, redeemed_at=now, gate=scan.gate)
    if is_repeat_of_first_scan(before, scan):
        assert before is not None and before.redeemed_at is not None
        return Redemption(before, redeemed_at=before.redeemed_at, gate=before.redeemed_gate or scan.gate)
    reason = refused_because(before, checks)
    if reason is Reason.INVALID_TIME and before is not None:
        return _invalid_time(ctx, before, scan, now)
    if offline and reason is Reason.ALREADY_REDEEMED and before is not None:
        # An offline scan that lost to an earlier one: kept for review, from the same write's answer.
        conflict = ScanConflict(ConflictKind.EARLIER_SCAN, _scanned_at(before), before.redeemed_gate or "")
        if ctx.tickets.record_conflict(before, scan, conflict, now):
            _conflict_alert(ctx, before, scan, before.redeemed_gate or "")
        return Redemption(before, reason, conflict=conflict.kind)
    if offline and reason is Reason.REVOKED and admitted_before_refund(before, scan):
        assert before is not None
        conflict = ScanConflict(ConflictKind.ADMITTED_THEN_REFUNDED, refund_id=before.revoked_by)
        ctx.tickets.admitted_offline(before, scan.at)     # inside: never paid back by a retry or takeover
        if ctx.tickets.record_conflict(before, scan, conflict, now):
            _admitted_then_refunded_alert(ctx, before, scan)
        return Redemption(before, reason, conflict=conflict.kind)
    if offline and reason is Reason.REVOKED and admitted_while_revoked(before, scan):
        assert before is not None
        conflict = ScanConflict(ConflictKind.ADMITTED_WHILE_REVOKED, refund_id=before.revoked_by)
        ctx.tickets.admitted_offline(before, scan.at)
        if ctx.tickets.record_conflict(before, scan, conflict, now):
            _admitted_while_revoked_alert(ctx, before, scan)
        return Redemption(before, reason, conflict=conflict.kind)
    return Redemption(before if reason is not Reason.INVALID else None, reason)


def _out_of_time(ctx: Gate, code: str, expected_ticket_id: str | None, scan: Scan, now: datetime) -> Redemption:
    """An offline scan too old, or too far ahead, to be judged: the code is not touched, but read
    (one GetItem) so that the scan is kept for review against its ticket."""
    ticket = ctx.tickets.by_code(code)
    if ticket is None or (expected_ticket_id is not None and ticket.ticket_id != expected_ticket_id):
        return Redemption(None, Reason.INVALID)
    return _invalid_time(ctx, ticket, scan, now)


def _invalid_time(ctx: Gate, ticket: Ticket, scan: Scan, now: datetime) -> Redemption:
    """A scan dated when it cannot have happened (before the code was issued, older than the
    allowed age, or ahead of our clock): refused, kept for review, counted and raised once."""
    conflict = ScanConflict(ConflictKind.INVALID_TIME)
    if ctx.tickets.record_conflict(ticket, scan, conflict, now):
        ctx.metrics.count("OfflineScansInvalidTime", gate=scan.gate)
        send_alert(ctx, "scan_invalid_time",
                   f"ticket {ticket.ticket_id}: an offline scan at {scan.gate} dated {scan.at.isoformat()} was refused "
                   "(before the ticket was issued, too old, or ahead of the server's clock)",
                   ticket_id=ticket.ticket_id, order_id=ticket.order_id, gate=scan.gate, device_id=scan.device_id,
                   scanned_at=scan.at.isoformat(), issued_at=ticket.issued_at.isoformat(),
                   uploaded_at=now.isoformat())
    return Redemption(ticket, Reason.INVALID_TIME, conflict=conflict.kind)


def _scanned_at(ticket: Ticket) -> datetime:
    return ticket.redeemed_scanned_at or ticket.redeemed_at  # type: ignore[return-value]


@dataclass(frozen=True)
class BatchResult:
    nonce: Any
    outcome: Redemption


def redeem_batch(ctx: Gate, actor: Actor, scans: list[OfflineScan]) -> list[BatchResult]:
    """Offline uploads: processed earliest scan first, so the earliest scan of a code wins;
    a scan that loses to an earlier one is recorded as a conflict for review, never dropped."""
    now = ctx.clock()
    results: dict[int, BatchResult] = {}
    for index, scan in sorted(enumerate(scans), key=lambda s: (s[1].request.scanned_at or now) if s[1].request else now):
        results[index] = BatchResult(scan.nonce, Redemption(None, Reason.INVALID) if scan.request is None
                                     else redeem(ctx, actor, scan.request, offline=True))
    return [results[i] for i in range(len(scans))]


def _conflict_alert(ctx: Gate, ticket: Ticket, losing: Scan, winner_gate: str) -> None:
    """Two gates admitted the same code while offline: someone should look."""
    ctx.metrics.count("OfflineScanConflicts", gate=losing.gate)
    send_alert(ctx, "scan_conflict", f"ticket {ticket.ticket_id} was scanned at {losing.gate} and {winner_gate} "
               "while offline", ticket_id=ticket.ticket_id, losing_gate=losing.gate, winning_gate=winner_gate,
               order_id=ticket.order_id)


def _admitted_then_refunded_alert(ctx: Gate, ticket: Ticket, scan: Scan) -> None:
    """A gate let a visitor in while offline, and the ticket was refunded after that: the venue
    admitted someone it paid back. Critical: the money may still be recovered, or the visitor
    found."""
    ctx.metrics.count("AdmittedThenRefunded", gate=scan.gate)
    send_alert(ctx, "admitted_then_refunded",
               f"ticket {ticket.ticket_id} was admitted at {scan.gate} while offline, and then refunded by "
               f"{ticket.revoked_by}", severity="critical", ticket_id=ticket.ticket_id, refund_id=ticket.revoked_by,
               gate=scan.gate, scanned_at=scan.at.isoformat(), order_id=ticket.order_id,
               refund_approved_at=ticket.revoked_at.isoformat() if ticket.revoked_at else None)


def _admitted_while_revoked_alert(ctx: Gate, ticket: Ticket, scan: Scan) -> None:
    """A gate working offline on an out-of-date pack let in a visitor whose ticket had been
    taken back by a refund: if that refund pays, the venue admitted someone it paid back.
    Critical: the refund may still be stopped (it is not sent again, nor taken over), or the
    money recovered."""
    ctx.metrics.count("AdmittedWhileRevoked", gate=scan.gate)
    send_alert(ctx, "admitted_while_revoked",
               f"ticket {ticket.ticket_id} was admitted at {scan.gate} while offline after refund "
               f"{ticket.revoked_by} had taken it back (the gate's offline pack was out of date)", severity="critical",
               ticket_id=ticket.ticket_id, refund_id=ticket.revoked_by, gate=scan.gate,
               scanned_at=scan.at.isoformat(), order_id=ticket.order_id,
               refund_approved_at=ticket.revoked_at.isoformat() if ticket.revoked_at else None)


def offline_pack(ctx: Gate, since: str | None = None) -> OfflinePack:
    """The signing keys, and the codes taken back that could still be admitted: all of them, or,
    `since` the `next` of an earlier pack, those taken back after it. What is past its validity
    is left out either way, so the pack follows what is on sale, not the history of refunds; a
    gate drops an entry itself once its `valid_until` has passed."""
    now = ctx.clock()
    after = read_pack_mark(since, now) if since is not None else None
    revoked = sorted(ctx.tickets.revocations(now, recorded_after=after), key=lambda r: r.ticket_id)
    return OfflinePack(ctx.qr.public_keys(), revoked, now, pack_mark(now - PACK_MARK_LAG))


def pack_mark(at: datetime) -> str:
    """An opaque `next`: the time from which the following pack must list revocations."""
    return PACK_MARK_PREFIX + str(int(at.timestamp() * 1000))


def read_pack_mark(value: str, now: datetime) -> datetime:
    """A `since` as only `pack_mark` writes it, and no later than now: anything else is a 400."""
    digits = value[len(PACK_MARK_PREFIX):] if value.startswith(PACK_MARK_PREFIX) else ""
    at = datetime.fromtimestamp(int(digits) / 1000, tz=timezone.utc) \
        if digits.isascii() and digits.isdigit() and len(digits) <= 13 else None
    if at is None or at > now:
        raise InvalidInput("since must be the next of an earlier offline pack", code=ErrorCode.INVALID_CURSOR,
                           field="since")
    return at
