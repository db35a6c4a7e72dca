"""What WeChat Pay tells us, as plain values: payments (by notice or by query), refunds (by
their answer, notice or query) and the state of a trade.

WeChat's own promotions (代金券/优惠券 of WeChat Pay's marketing, paid for by WeChat or by the
merchant) are not micromall's: a customer who uses one pays less than the trade's `total`
(`amount.payer_total`, the rest listed in `promotion_detail`), yet the trade is paid in full.
`amount` is therefore always WeChat's `amount.total`, the figure compared with the order's
total; `payer_total` and `voucher` say how it was paid, and never decide whether it was."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))


def bill_day(instant: datetime) -> date:
    """The day of WeChat Pay's bill a payment or refund appears in: Beijing time, whatever the
    venue's zone."""
    return instant.astimezone(BEIJING).date()


@dataclass(frozen=True)
class PaymentNotice:
    """A payment WeChat reports: by its notice, or by a query when the notice never came."""
    notification_id: str
    nonce: str
    event_type: str
    out_trade_no: str
    transaction_id: str
    trade_state: str
    amount: int
    payer_openid: str | None
    success_time: datetime | None = None     # when WeChat took the money: the day of its bill
    payer_total: int | None = None           # what the customer paid of `amount`; None: WeChat did not say

    @property
    def voucher(self) -> int:
        return voucher_of(self.amount, self.payer_total)


def voucher_of(total: int, payer_total: int | None) -> int:
    """What WeChat's vouchers paid of a trade's total (`total - payer_total`): 0 when WeChat
    named no payer_total, and never negative (a payer_total above the total is no voucher)."""
    if payer_total is None:
        return 0
    return max(0, total - payer_total)


@dataclass(frozen=True)
class RefundNotice:
    notification_id: str
    event_type: str                 # REFUND.SUCCESS | REFUND.ABNORMAL | REFUND.CLOSED
    out_refund_no: str
    out_trade_no: str
    refund_status: str              # SUCCESS | ABNORMAL | CLOSED
    amount: int


@dataclass(frozen=True)
class RefundResult:
    out_refund_no: str
    status: str                     # SUCCESS | PROCESSING | ABNORMAL | CLOSED
    accepted_at: datetime | None = None      # WeChat's create_time: the day of its bill


@dataclass(frozen=True)
class TradeState:
    """WeChat's view of a trade: SUCCESS, NOTPAY, CLOSED, USERPAYING, REFUND, PAYERROR, REVOKED."""
    out_trade_no: str
    state: str
    transaction_id: str | None
    amount: int | None                       # amount.total: the trade's whole price, vouchers included
    success_time: datetime | None = None
    payer_total: int | None = None           # what the customer paid of it (less any voucher)

    @property
    def voucher(self) -> int:
        return voucher_of(self.amount, self.payer_total) if self.amount is not None else 0

    @property
    def paid(self) -> bool:
        # A trade already (partly) refunded was paid first: its money is real.
        return self.state in ("SUCCESS", "REFUND") and bool(self.transaction_id)
