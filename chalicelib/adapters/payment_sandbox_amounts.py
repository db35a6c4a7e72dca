"""How the local payment sandbox shows a trade's money as WeChat Pay does, WeChat's own vouchers
(代金券/优惠券 of WeChat Pay's marketing) included: the payment's `amount` and `promotion_detail`
(notices and queries), a refund's `amount` (answers, queries and notices), and the bill's columns
built from the same figures. Local stage only: nothing here is deployed.

What WeChat documents (pay.weixin.qq.com, payment notice and query, v3): `amount.total` is the
trade's whole price, `amount.payer_total` what the customer paid of it, and `promotion_detail`
lists the vouchers (`type` CASH: 充值型, settled to the merchant in full; NOCASH: 免充值型, funded by
the merchant, so WeChat settles the total less it). The sandbox's vouchers are all NOCASH."""
from __future__ import annotations

import hashlib
from typing import Any

VOUCHER_TYPE = "NOCASH"
VOUCHER_STOCK_ID = "SANDBOX-STOCK-1"


def paid_amount(total: int, voucher: int) -> dict[str, Any]:
    """A paid trade's `amount`: the whole price, and what the customer paid of it."""
    return {"total": total, "payer_total": total - voucher, "currency": "CNY", "payer_currency": "CNY"}


def promotion_detail(voucher: int, transaction_id: str) -> list[dict[str, Any]]:
    """The `promotion_detail` of a trade a voucher paid part of: one 代金券 of the sandbox's kind,
    funded by the merchant (its coupon id derived from the transaction, so a redelivery names
    the same one)."""
    return [{"coupon_id": "CP" + hashlib.sha256(transaction_id.encode()).hexdigest()[:16], "name": "沙箱代金券",
             "scope": "GLOBAL", "type": VOUCHER_TYPE, "amount": voucher, "stock_id": VOUCHER_STOCK_ID,
             "wechatpay_contribute": 0, "merchant_contribute": voucher, "other_contribute": 0, "currency": "CNY"}]


def voucher_refunded(voucher: int, total: int, refund: int) -> int:
    """The share of a refund that goes back to a voucher rather than to the customer (WeChat's
    discount_refund). Assumed, as WeChat does not document its rounding: in proportion to the
    refund, rounded down, and the whole voucher when the whole trade is refunded."""
    if voucher <= 0 or total <= 0:
        return 0
    return voucher if refund >= total else voucher * refund // total


def refund_amount(total: int, voucher: int, refund: int) -> dict[str, Any]:
    """A refund's `amount`: `refund` is what the merchant asked (申请退款金额), of which the
    voucher's share is not the customer's (payer_refund) nor taken from what WeChat settled
    (settlement_refund: the bill's 退款金额, for a NOCASH voucher)."""
    to_voucher = voucher_refunded(voucher, total, refund)
    return {"total": total, "refund": refund, "payer_total": total - voucher, "settlement_total": total - voucher,
            "payer_refund": refund - to_voucher, "settlement_refund": refund - to_voucher,
            "discount_refund": to_voucher, "currency": "CNY"}
