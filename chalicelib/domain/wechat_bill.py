"""WeChat Pay's daily trade bill (交易账单), read as WeChat documents it: a header line naming the
columns (read by name: WeChat says their order may change), one line per payment (交易状态
SUCCESS) or refund (REFUND), every field prefixed with a backtick so that Excel keeps long
numbers as text, amounts in yuan with two decimals, and at the end a summary header and line.

A payment's amounts, as WeChat defines them: 订单金额 is the trade's total (what micromall asked,
its order's total); 代金券金额 what WeChat Pay's vouchers (代金券/优惠券 of WeChat's marketing, funded
by WeChat or by the merchant) paid of it; 应结订单金额 what WeChat settles to the merchant: the
total less the vouchers of the free-of-charge kind (免充值型, NOCASH), and the whole total with
vouchers of the recharged kind (充值型, CASH) only. A payment is compared by its total: a voucher
paid part of it, the customer the rest, and the order was paid in full."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

SUMMARY_FIRST_COLUMN = "总交易单数"
REQUIRED = ("交易时间", "商户订单号", "交易状态")


class BillUnreadable(ValueError):
    """The file is not a trade bill as WeChat writes it."""


@dataclass(frozen=True)
class BillTrade:
    out_trade_no: str
    transaction_id: str
    amount: int                     # fen: 订单金额, the trade's total, vouchers included
    at: str                         # as the bill shows it, Beijing time
    voucher: int = 0                # fen: 代金券金额, what WeChat's vouchers paid of `amount`
    settlement: int | None = None   # fen: 应结订单金额 (None: the bill has no such column, so `amount`)

    @property
    def settled(self) -> int:
        return self.amount if self.settlement is None else self.settlement


@dataclass(frozen=True)
class BillRefund:
    out_refund_no: str
    out_trade_no: str
    amount: int                     # fen
    status: str                     # SUCCESS | PROCESSING | FAIL | CHANGE (the bill's words)


@dataclass(frozen=True)
class Bill:
    trades: tuple[BillTrade, ...]
    refunds: tuple[BillRefund, ...]

    @property
    def summary(self) -> dict[str, int]:
        """`amount` sums the trades' totals (订单金额), the figure micromall's payments are held
        to; `voucher` what WeChat's vouchers paid of it and `settlement` what WeChat settles
        (应结订单金额), so that finance sees a day's vouchers without them being a difference."""
        return {"trades": len(self.trades), "amount": sum(t.amount for t in self.trades),
                "refunds": len(self.refunds), "refunded": sum(r.amount for r in self.refunds),
                "voucher": sum(t.voucher for t in self.trades), "settlement": sum(t.settled for t in self.trades)}


def fen(yuan: str, column: str) -> int:
    """'12.34' -> 1234 exactly (no float on the way); more than two decimals is not money."""
    try:
        value = Decimal(yuan.strip() or "0") * 100
    except InvalidOperation:
        raise BillUnreadable(f"{column}: {yuan!r} is not an amount") from None
    if value != value.to_integral_value():
        raise BillUnreadable(f"{column}: {yuan!r} has more than two decimals")
    return int(value)


def _fields(line: str) -> list[str]:
    """A data line is split where a field begins (",`"), not at every comma: a product name in
    商品名称 may hold commas (micromall joins several with ", "). Header lines have no backticks."""
    line = line.strip()
    if line.startswith("`"):
        return [field.strip() for field in line[1:].split(",`")]
    return [field.strip() for field in next(csv.reader([line]))]


def parse_trade_bill(text: str) -> Bill:
    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        raise BillUnreadable("the bill is empty")
    header = _fields(lines[0])
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BillUnreadable(f"the header lacks {', '.join(missing)}")
    summary_at = next((i for i, line in enumerate(lines) if _fields(line)[0] == SUMMARY_FIRST_COLUMN), None)
    if summary_at is None or summary_at + 1 >= len(lines):
        raise BillUnreadable("the summary lines are missing")
    column = {name: i for i, name in enumerate(header)}

    def value(row: list[str], *names: str) -> str:
        for name in names:                     # the first column the bill has, of those that mean it
            if name in column and column[name] < len(row):
                return row[column[name]]
        return ""
    trades: list[BillTrade] = []
    refunds: list[BillRefund] = []
    for number, line in enumerate(lines[1:summary_at], start=2):
        row = _fields(line)
        if len(row) != len(header):
            raise BillUnreadable(f"line {number} has {len(row)} fields, the header names {len(header)}")
        state = value(row, "交易状态")
        if state == "SUCCESS":
            # A bill of WeChat's early format (merchants who never enabled 免充值 vouchers) has no
            # 订单金额, 应结订单金额 or 代金券金额 but 总金额 and 企业红包金额, and without 免充值
            # vouchers what is settled is the total.
            trades.append(BillTrade(
                value(row, "商户订单号"), value(row, "微信订单号"),
                fen(value(row, "订单金额", "应结订单金额", "总金额"), "订单金额"), value(row, "交易时间"),
                voucher=fen(value(row, "代金券金额", "企业红包金额"), "代金券金额"),
                settlement=fen(value(row, "应结订单金额"), "应结订单金额") if "应结订单金额" in column else None))
        elif state == "REFUND":
            refunds.append(BillRefund(value(row, "商户退款单号"), value(row, "商户订单号"),
                                      fen(value(row, "申请退款金额", "退款金额"), "退款金额"), value(row, "退款状态")))
    bill = Bill(tuple(trades), tuple(refunds))
    summary = dict(zip(_fields(lines[summary_at]), _fields(lines[summary_at + 1])))
    count = summary.get(SUMMARY_FIRST_COLUMN, "")
    if not (count.isascii() and count.isdigit()):
        raise BillUnreadable(f"the summary's {SUMMARY_FIRST_COLUMN} is {count!r}, not a count")
    stated = int(count)
    if stated != len(trades) + len(refunds):
        raise BillUnreadable(f"the summary counts {stated} lines, the bill holds {len(trades) + len(refunds)}")
    return bill

