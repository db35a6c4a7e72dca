"""Daily reconciliation with WeChat Pay's bill (对账): download the bill of a day, compare it with
the payments and refunds micromall recorded, store the result, and raise an alert on any
difference. The schedule does yesterday once the bill is ready (after 10:00); finance may run
any day again at will."""
from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from ..domain.error_codes import ErrorCode
from ..domain.errors import InvalidInput, Unavailable
from ..domain.reconciliation import DIFFERENCES, NOT_RUN, Reconciliation, reconcile, refund_id_of
from ..domain.wechat_bill import Bill, BillUnreadable, parse_trade_bill
from . import ports
from .ports import Reconciliations
from .context import Actor
from .publishing import Publishing, send_alert

log = logging.getLogger("micromall.reconciliation")
RETRY_BILL_AFTER = timedelta(hours=1)


class Reconciling(Publishing, Protocol):
    payment_ledger: ports.PaymentRecords
    refunds: ports.RefundStore
    reconciliations: Reconciliations
    audit: ports.AuditTrail
    venue_timezone: str
    reconcile_after_hour: int

    @property
    def wechat_pay(self) -> ports.PaymentGateway: ...


def reconciliation_of(ctx: Reconciling, day: date) -> Reconciliation:
    return ctx.reconciliations.of_day(day.isoformat())


def run_reconciliation(ctx: Reconciling, day: date, actor: Actor | None = None) -> Reconciliation:
    now = ctx.clock()
    if day > now.astimezone(ZoneInfo(ctx.venue_timezone)).date():
        raise InvalidInput("there is no bill for a day still to come", field="date")
    bill = _bill(ctx, day)
    sent = ctx.refunds.accepted_on(day)
    known = ctx.refunds.for_reconciliation({refund_id_of(r.out_refund_no) for r in bill.refunds})
    known.update({r.refund_id: r for r in sent})
    result = reconcile(day.isoformat(), bill, ctx.payment_ledger.paid_on(day), sent, known, now)
    ctx.reconciliations.save(result)
    if actor is not None:
        ctx.audit.record(actor.name, "reconciliation_run", now, target=day.isoformat(), source_ip=actor.source_ip,
                         details={"status": result.status, "differences": result.differences_total})
    ctx.metrics.count("ReconciliationDifferences", result.differences_total)
    if result.status == DIFFERENCES:
        kinds = sorted({d.kind for d in result.differences})
        send_alert(ctx, "reconciliation", f"{day.isoformat()}: {result.differences_total} differences with "
                   f"WeChat Pay's bill ({', '.join(kinds)})", severity="critical", day=day.isoformat(),
                   differences=result.differences_total)
    return result


def _bill(ctx: Reconciling, day: date) -> Bill:
    try:
        text = ctx.wechat_pay.trade_bill(day)
    except ports.NoBill:
        return Bill((), ())                  # WeChat has no bill for a day without trades
    except ports.PaymentGatewayError as error:
        log.warning("trade bill of %s not available: %s", day, error)
        raise Unavailable("WeChat Pay's bill could not be fetched; try again later",
                          code=ErrorCode.BILL_UNAVAILABLE) from None
    try:
        return parse_trade_bill(text.decode("utf-8-sig"))
    except (BillUnreadable, UnicodeDecodeError) as error:
        log.error("trade bill of %s unreadable: %s", day, error)
        raise Unavailable("WeChat Pay's bill could not be read", code=ErrorCode.BILL_UNREADABLE) from None


def reconcile_if_due(ctx: Reconciling) -> int:
    """Yesterday's bill, once, after the hour WeChat has it ready (venue time). A bill that cannot
    be fetched or read is tried again an hour later (not every tick), and finance hears of it
    once that day, not once an hour."""
    now = ctx.clock().astimezone(ZoneInfo(ctx.venue_timezone))
    if now.hour < ctx.reconcile_after_hour:
        return 0
    yesterday = now.date() - timedelta(days=1)
    current = ctx.reconciliations.of_day(yesterday.isoformat())
    if current.status != NOT_RUN or (current.failed_at is not None and now - current.failed_at < RETRY_BILL_AFTER):
        return 0
    try:
        run_reconciliation(ctx, yesterday)
    except Unavailable as error:
        ctx.reconciliations.save(Reconciliation(day=yesterday.isoformat(), status=NOT_RUN, failure=error.code,
                                                failed_at=now))
        if current.failed_at is None:
            send_alert(ctx, "reconciliation", f"{yesterday.isoformat()}: {error.message} ({error.code}); "
                       "tried again every hour", severity="critical", day=yesterday.isoformat(), failure=error.code)
        return 0
    return 1
