"""Payments: the payment records (`adapters.payment_ledger`: one per WeChat transaction, tag
"payment") and a scriptable WeChat Pay, the world the payment use cases ask.

The fake gateway keeps WeChat's view of every trade and refund. Tests move it the way WeChat
would (`customer_pays`, `set_trade`, `refund_ends`), make it answer refunds as they need
(`refund_answer`: SUCCESS, PROCESSING, ABNORMAL, CLOSED) and take it down (`down`: every call,
or named ones, raises PaymentGatewayError, as an unreachable WeChat does)."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Mapping

from chalicelib.domain.payments import PaymentNotice, RefundNotice, RefundResult, TradeState, bill_day
from chalicelib.domain.reconciliation import OurPayment
from chalicelib.service_layer.ports import NoBill, NotificationRejected, PaymentGatewayError, TradeAlreadyPaid
from chalicelib.service_layer.tags import Tag

from .unit_of_work import FakeDatabase, FakeUnitOfWork, absent

PAYMENTS = "payments"
SIGNED = {"Wechatpay-Signature": "fake-signature"}


@dataclass(frozen=True)
class PaymentRecord:
    transaction_id: str
    order_id: str
    amount: int
    outcome: str                     # paid | refund_due
    notification_id: str
    received_at: datetime
    paid_at: datetime


class FakePaymentRecords:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def record(self, uow: FakeUnitOfWork, transaction_id: str, order_id: str, amount: int, outcome: str,
               notification_id: str, at: datetime, paid_at: datetime) -> None:
        record = PaymentRecord(transaction_id, order_id, amount, outcome, notification_id, at, paid_at)
        uow.add(PAYMENTS, transaction_id, Tag.PAYMENT, absent, lambda _: record)

    def paid_on(self, day: date) -> list[OurPayment]:
        return [OurPayment(r.order_id, r.transaction_id, r.amount) for r in self.db.table(PAYMENTS).values()
                if bill_day(r.paid_at) == day and r.amount]

    def of(self, transaction_id: str) -> PaymentRecord | None:
        return self.db.table(PAYMENTS).get(transaction_id)


@dataclass
class Trade:
    order_id: str
    amount: int
    state: str = "NOTPAY"           # NOTPAY, USERPAYING, SUCCESS, CLOSED, REFUND, PAYERROR
    transaction_id: str | None = None
    success_time: datetime | None = None
    voucher: int = 0                # what a WeChat voucher paid of `amount` (payer_total = amount - voucher)


@dataclass
class FakeGateway:
    clock: Callable[[], datetime]
    trades: dict[str, Trade] = field(default_factory=dict)
    refunds: dict[str, RefundResult] = field(default_factory=dict)     # what WeChat knows, by out_refund_no
    refund_calls: list[tuple[str, str, int]] = field(default_factory=list)   # (out_refund_no, order, amount)
    refund_answers: dict[str, str] = field(default_factory=dict)      # scripted per out_refund_no
    default_refund_answer: str = "PROCESSING"
    closed: list[str] = field(default_factory=list)
    bills: dict[date, bytes] = field(default_factory=dict)
    _down: dict[str, int | None] = field(default_factory=dict)        # method (or "*") -> calls left to fail

    # ------------------------------------------------------------------ scripting
    def down(self, *methods: str, times: int | None = None) -> None:
        """WeChat cannot be reached: `methods` (all of them when none is named) raise
        PaymentGatewayError, `times` calls each or until `up()`."""
        for method in methods or ("*",):
            self._down[method] = times

    def up(self) -> None:
        self._down.clear()

    def _reach(self, method: str) -> None:
        for name in (method, "*"):
            if name in self._down:
                left = self._down[name]
                if left is not None:
                    if left <= 1:
                        del self._down[name]
                    else:
                        self._down[name] = left - 1
                raise PaymentGatewayError(f"WeChat Pay unreachable ({method})")

    def customer_pays(self, order_id: str, amount: int | None = None, transaction_id: str | None = None,
                      voucher: int = 0) -> PaymentNotice:
        """The customer pays the trade (the amount due unless said otherwise, of which a WeChat
        voucher pays `voucher`); the notice WeChat then sends."""
        trade = self.trades.setdefault(order_id, Trade(order_id, amount or 0))
        trade.state, trade.transaction_id = "SUCCESS", transaction_id or "42" + secrets.token_hex(12)
        trade.success_time = self.clock()
        paid = trade.amount if amount is None else amount
        trade.amount, trade.voucher = paid, voucher
        return PaymentNotice(notification_id="N" + secrets.token_hex(8), nonce=secrets.token_hex(8),
                             event_type="TRANSACTION.SUCCESS", out_trade_no=order_id,
                             transaction_id=trade.transaction_id, trade_state="SUCCESS", amount=paid,
                             payer_openid="o-payer", success_time=trade.success_time, payer_total=paid - voucher)

    def set_trade(self, order_id: str, state: str) -> None:
        trade = self.trades.setdefault(order_id, Trade(order_id, 0))
        trade.state = state

    def refund_ends(self, out_refund_no: str, status: str, amount: int | None = None) -> RefundNotice:
        """WeChat decides a refund (SUCCESS, CLOSED, ABNORMAL); the REFUND.* notice it sends (of
        the amount it was asked for, unless said otherwise)."""
        known = self.refunds.get(out_refund_no)
        self.refunds[out_refund_no] = RefundResult(out_refund_no, status, known.accepted_at if known else self.clock())
        if amount is None:
            amount = next((a for n, _, a in reversed(self.refund_calls) if n == out_refund_no), 0)
        order = next((o for n, o, _ in reversed(self.refund_calls) if n == out_refund_no), "")
        return RefundNotice(notification_id="N" + secrets.token_hex(8), event_type=f"REFUND.{status}",
                            out_refund_no=out_refund_no, out_trade_no=order, refund_status=status, amount=amount)

    @staticmethod
    def notification(notice: PaymentNotice | RefundNotice, signed: bool = True) -> tuple[dict[str, str], str]:
        """The HTTP request WeChat makes with a notice (headers, body)."""
        kind = "payment" if isinstance(notice, PaymentNotice) else "refund"
        data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in notice.__dict__.items()}
        return (dict(SIGNED) if signed else {}), json.dumps({"kind": kind, "notice": data})

    # ------------------------------------------------------------------ the port
    def prepay(self, order_id: str, description: str, amount: int, payer_openid: str, created_at: datetime,
               expires_at: datetime) -> dict[str, str]:
        self._reach("prepay")
        self.trades.setdefault(order_id, Trade(order_id, amount))
        return {"appId": "wx-fake", "timeStamp": str(int(created_at.timestamp())), "nonceStr": secrets.token_hex(8),
                "package": f"prepay_id=fake-{order_id}", "signType": "RSA", "paySign": "fake"}

    def close(self, order_id: str) -> None:
        self._reach("close")
        trade = self.trades.setdefault(order_id, Trade(order_id, 0))
        if trade.state in ("SUCCESS", "REFUND"):
            raise TradeAlreadyPaid(f"trade {order_id} was paid")
        trade.state = "CLOSED"
        self.closed.append(order_id)

    def query(self, order_id: str) -> TradeState | None:
        self._reach("query")
        trade = self.trades.get(order_id)
        if trade is None:
            return None
        paid = trade.transaction_id is not None
        return TradeState(order_id, trade.state, trade.transaction_id, trade.amount if paid else None,
                          trade.success_time, trade.amount - trade.voucher if paid else None)

    def refund(self, out_refund_no: str, order_id: str, amount: int, total: int, reason: str) -> RefundResult:
        self._reach("refund")
        self.refund_calls.append((out_refund_no, order_id, amount))
        if out_refund_no not in self.refunds:          # WeChat keeps one refund per number
            status = self.refund_answers.get(out_refund_no, self.default_refund_answer)
            self.refunds[out_refund_no] = RefundResult(out_refund_no, status, self.clock())
        return self.refunds[out_refund_no]

    def query_refund(self, out_refund_no: str) -> RefundResult | None:
        self._reach("query_refund")
        return self.refunds.get(out_refund_no)

    def parse_notification(self, headers: Mapping[str, str], body: str, now: float) -> PaymentNotice | RefundNotice:
        if headers.get("Wechatpay-Signature") != SIGNED["Wechatpay-Signature"]:
            raise NotificationRejected("bad signature")
        try:
            data = json.loads(body)
            fields = dict(data["notice"])
        except (ValueError, KeyError, TypeError):
            raise NotificationRejected("malformed") from None
        if data["kind"] == "refund":
            return RefundNotice(**fields)
        if fields.get("success_time"):
            fields["success_time"] = datetime.fromisoformat(fields["success_time"])
        return PaymentNotice(**fields)

    def trade_bill(self, day: date) -> bytes:
        self._reach("trade_bill")
        if day not in self.bills:
            raise NoBill(f"no bill for {day}")
        return self.bills[day]
