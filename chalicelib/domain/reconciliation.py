"""Reconciliation (对账): a day of WeChat Pay's bill against the payments and refunds micromall
recorded, so that money and records agree.

A payment is matched by its out_trade_no (the order id), a refund by its out_refund_no. A
refund whose money moved on one side only is "missing" on the other: WeChat's SUCCESS for a
refund micromall holds as FAILED is refund_missing_in_micromall, and micromall's SUCCEEDED for
a refund WeChat shows as FAIL or CHANGE (ABNORMAL) is refund_missing_in_bill. A refund sent again
after a failure carries a new number (`<refund_id>-2`, ...): the bill's line for the earlier
number must then not show SUCCESS. A refund is looked for in the bill of the day WeChat accepted
its attempt, under that attempt's number.

A payment is held to the bill's 订单金额, the trade's total: WeChat's own vouchers (代金券/优惠券
of WeChat Pay's marketing) pay part of a trade and the customer the rest, and the order was paid
in full, so a voucher is never a difference. What they paid is shown: the day's `voucher` and
`settlement` (应结订单金额, what WeChat settles to the merchant) in the bill's figures, and a
trade's `voucher` in `theirs` of a difference about it."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .wechat_bill import Bill, BillTrade

MATCHED, DIFFERENCES, NOT_RUN = "MATCHED", "DIFFERENCES", "NOT_RUN"
MAX_STORED_DIFFERENCES = 500
_ATTEMPT = re.compile(r"^(?P<base>.+?)(?:-(?P<n>[2-9]|[1-9][0-9]+))?$")
_MONEY_MOVED = ("SUCCESS", "PROCESSING")


@dataclass(frozen=True)
class OurPayment:
    out_trade_no: str
    transaction_id: str
    amount: int


@dataclass(frozen=True)
class OurRefund:
    refund_id: str
    out_refund_no: str              # the number of its latest attempt
    out_trade_no: str
    amount: int
    status: str                     # micromall's: PROCESSING, SUCCEEDED, FAILED, ...

    def earlier_numbers(self) -> set[str]:
        match = _ATTEMPT.match(self.out_refund_no)
        last = int(match.group("n") or 1) if match else 1
        return {self.refund_id} | {f"{self.refund_id}-{n}" for n in range(2, last)} - {self.out_refund_no}


def refund_id_of(out_refund_no: str) -> str:
    match = _ATTEMPT.match(out_refund_no)
    return match.group("base") if match else out_refund_no


@dataclass(frozen=True)
class Difference:
    kind: str
    out_trade_no: str
    out_refund_no: str | None = None
    ours: dict[str, Any] | None = None
    theirs: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": self.kind, "out_trade_no": self.out_trade_no}
        if self.out_refund_no is not None:
            found["out_refund_no"] = self.out_refund_no
        if self.ours is not None:
            found["ours"] = self.ours
        if self.theirs is not None:
            found["theirs"] = self.theirs
        return found


@dataclass
class Reconciliation:
    day: str
    status: str
    checked_at: datetime | None = None
    bill: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    differences_total: int = 0
    failure: str | None = None           # why the schedule's last try found no bill to compare
    failed_at: datetime | None = None


def _trade_figures(trade: BillTrade, **more: Any) -> dict[str, Any]:
    """A bill trade as a difference shows it: its total, and what a voucher paid of it if any
    (the key only then, so that differences without vouchers read as they always have)."""
    return {"amount": trade.amount, **more, **({"voucher": trade.voucher} if trade.voucher else {})}


def compare_payments(bill: Bill, ours: list[OurPayment]) -> list[Difference]:
    found: list[Difference] = []
    theirs = {t.out_trade_no: t for t in bill.trades}
    mine = {p.out_trade_no: p for p in ours}
    for number, trade in sorted(theirs.items()):
        payment = mine.get(number)
        if payment is None:
            found.append(Difference("missing_in_micromall", number,
                                    theirs=_trade_figures(trade, transaction_id=trade.transaction_id)))
        elif payment.amount != trade.amount:       # the totals: a voucher is part of the bill's amount
            found.append(Difference("amount_mismatch", number, ours={"amount": payment.amount},
                                    theirs=_trade_figures(trade)))
    for number, payment in sorted(mine.items()):
        if number not in theirs:
            found.append(Difference("missing_in_bill", number,
                                    ours={"amount": payment.amount, "transaction_id": payment.transaction_id}))
    return found


def compare_refunds(bill: Bill, sent_that_day: list[OurRefund], known: dict[str, OurRefund]) -> list[Difference]:
    """`sent_that_day`: micromall's refunds whose latest attempt WeChat accepted that day;
    `known`: every refund the bill's lines name, by refund id (to recognise earlier attempts)."""
    found: list[Difference] = []
    in_bill = {r.out_refund_no for r in bill.refunds}
    for line in sorted(bill.refunds, key=lambda r: r.out_refund_no):
        theirs = {"amount": line.amount, "status": line.status}
        refund = known.get(refund_id_of(line.out_refund_no))
        if refund is None or (line.out_refund_no != refund.out_refund_no
                              and line.out_refund_no not in refund.earlier_numbers()):
            found.append(Difference("refund_missing_in_micromall", line.out_trade_no, line.out_refund_no,
                                    theirs=theirs))
            continue
        ours = {"amount": refund.amount, "status": refund.status}
        if line.out_refund_no != refund.out_refund_no:
            # An earlier attempt: its money must not have moved. Still PROCESSING in the bill is no
            # difference yet: WeChat may close it later, and micromall only retried after a failure.
            if line.status == "SUCCESS":
                found.append(Difference("refund_missing_in_micromall", line.out_trade_no, line.out_refund_no,
                                        ours=ours, theirs=theirs))
            continue
        if line.status == "SUCCESS" and refund.status == "FAILED":
            found.append(Difference("refund_missing_in_micromall", line.out_trade_no, line.out_refund_no,
                                    ours=ours, theirs=theirs))
        elif line.status not in _MONEY_MOVED and refund.status == "SUCCEEDED":
            found.append(Difference("refund_missing_in_bill", line.out_trade_no, line.out_refund_no,
                                    ours=ours, theirs=theirs))
        elif line.amount != refund.amount:
            found.append(Difference("refund_amount_mismatch", line.out_trade_no, line.out_refund_no,
                                    ours=ours, theirs=theirs))
    for refund in sorted(sent_that_day, key=lambda r: r.out_refund_no):
        if refund.out_refund_no not in in_bill:
            found.append(Difference("refund_missing_in_bill", refund.out_trade_no, refund.out_refund_no,
                                    ours={"amount": refund.amount, "status": refund.status}))
    return found


def reconcile(day: str, bill: Bill, payments: list[OurPayment], sent_that_day: list[OurRefund],
              known: dict[str, OurRefund], at: datetime) -> Reconciliation:
    differences = compare_payments(bill, payments) + compare_refunds(bill, sent_that_day, known)
    return Reconciliation(day=day, status=DIFFERENCES if differences else MATCHED, checked_at=at,
                          bill=bill.summary, differences=differences[:MAX_STORED_DIFFERENCES],
                          differences_total=len(differences))
