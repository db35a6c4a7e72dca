"""The daily trade bill as WeChat Pay serves it, written from the local sandbox's records."""
from __future__ import annotations

import hashlib
from datetime import date, datetime

from .payment_sandbox_amounts import voucher_refunded
from .payment_sandbox_records import CST, SandboxRecord


BILL_HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
               "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
               "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
BILL_SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
# The bill's refund status differs from the refund API's: ABNORMAL shows as CHANGE, CLOSED as FAIL.
_BILL_REFUND_STATUS = {"SUCCESS": "SUCCESS", "PROCESSING": "PROCESSING", "ABNORMAL": "CHANGE", "CLOSED": "FAIL"}


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _fee(fen: int) -> str:
    """0.6% commission, in yuan with five decimals, as the bill shows it."""
    return f"{fen * 6 / 100000:.5f}"


def trade_bill_text(day: date, settings: dict[str, str]) -> str:
    """The ALL trade bill of a day (venue time, UTC+8) from the sandbox's records, in WeChat's
    documented format: a header, one row per payment (by its success time) and per refund (by
    the time WeChat accepted it), every field prefixed with a backtick, amounts in yuan, and the
    summary header and line at the end.

    A payment a WeChat voucher paid part of: 订单金额 is the trade's total, 代金券金额 the voucher,
    and 应结订单金额 (what WeChat settles to the merchant) the total less the voucher, as the
    sandbox's vouchers are 免充值型 (NOCASH: the merchant funds them; a 充值型 voucher would leave
    应结订单金额 at the total). The commission is charged on what is settled. A refund of such a
    payment: 申请退款金额 is what micromall asked for, 退款金额 (settled) that less the share that
    goes back to the voucher; 充值券退款金额 stays 0, being for 充值型 vouchers only."""
    start = datetime(day.year, day.month, day.day, tzinfo=CST).timestamp()
    end = start + 86400
    rows: list[list[str]] = []
    ordered_total = settled_total = refund_total = asked_total = fee_total = 0
    every_trade = {t.key: t for t in SandboxRecord.query("trade", consistent_read=True)}
    trades = [t for t in every_trade.values()
              if t.paid_at is not None and start <= float(t.paid_at) < end and t.transaction_id]
    for t in sorted(trades, key=lambda r: float(r.paid_at)):
        amount, voucher = int(t.amount), int(t.voucher or 0)
        settled = amount - voucher
        ordered_total, settled_total = ordered_total + amount, settled_total + settled
        fee_total += settled * 6
        rows.append([datetime.fromtimestamp(float(t.paid_at), CST).strftime("%Y-%m-%d %H:%M:%S"), settings["appid"],
                     settings["mchid"], "0", "", t.transaction_id or "", t.key, "sandbox-payer", "JSAPI", "SUCCESS",
                     "OTHERS", "CNY", _yuan(settled), _yuan(voucher), "0", "0", "0.00", "0.00", "", "",
                     t.description or "", "", _fee(settled), "0.60%", _yuan(amount), "0.00", ""])
    refunds = [r for r in SandboxRecord.query("refund", consistent_read=True) if start <= float(r.created_at) < end]
    for r in sorted(refunds, key=lambda x: float(x.created_at)):
        asked = int(r.amount)
        trade = every_trade.get(r.order_id)
        settled = asked - (voucher_refunded(int(trade.voucher or 0), int(trade.amount), asked) if trade else 0)
        refund_total, asked_total = refund_total + settled, asked_total + asked
        refund_id = "50" + hashlib.sha256(r.key.encode()).hexdigest()[:26].upper()
        rows.append([datetime.fromtimestamp(float(r.created_at), CST).strftime("%Y-%m-%d %H:%M:%S"), settings["appid"],
                     settings["mchid"], "0", "", r.transaction_id or "", r.order_id, "sandbox-payer", "JSAPI", "REFUND",
                     "OTHERS", "CNY", "0.00", "0.00", refund_id, r.key, _yuan(settled), "0.00", "ORIGINAL",
                     _BILL_REFUND_STATUS.get(r.state or "PROCESSING", "PROCESSING"),
                     getattr(trade, "description", None) or "", "", "0.00000", "0.60%",
                     "0.00", _yuan(asked), ""])
    lines = [BILL_HEADER] + [",".join("`" + field for field in row) for row in rows]
    lines.append(BILL_SUMMARY_HEADER)
    lines.append(",".join("`" + v for v in (str(len(rows)), _yuan(settled_total), _yuan(refund_total), "0.00",
                                             f"{fee_total / 100000:.5f}", _yuan(ordered_total), _yuan(asked_total))))
    return "\r\n".join(lines) + "\r\n"
