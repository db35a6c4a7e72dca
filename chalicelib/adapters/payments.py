"""The payment gateway port and its WeChat Pay API v3 adapter (the maintained wechatpayv3 SDK,
in WeChat Pay public-key mode). The local sandbox (payment_sandbox.py) subclasses it: it
verifies notifications through the very same code and only replaces the outgoing calls."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Protocol

from ..domain.timeutil import to_display

NOTICE_HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
                  "Wechatpay-Signature-Type")
MAX_CLOCK_SKEW_SECONDS = 300


class PaymentGatewayError(Exception):
    """The gateway refused or could not be reached; the caller decides whether to retry."""


class NotificationRejected(Exception):
    """A notification that must have no effect: bad signature, stale, undecryptable, malformed."""


@dataclass(frozen=True)
class PaymentNotice:
    notification_id: str
    nonce: str
    event_type: str
    out_trade_no: str
    transaction_id: str
    trade_state: str
    amount: int
    payer_openid: str | None


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    status: str            # SUCCESS | PROCESSING | ABNORMAL | CLOSED


class PaymentGateway(Protocol):
    def prepay(self, order_id: str, description: str, amount: int, payer_openid: str,
               created_at: datetime, expires_at: datetime) -> dict[str, str]: ...
    def close(self, order_id: str) -> None: ...
    def refund(self, refund_id: str, order_id: str, amount: int, total: int, reason: str) -> RefundResult: ...
    def query(self, order_id: str) -> dict[str, Any]: ...
    def parse_notification(self, headers: Mapping[str, str], body: str, now: float) -> PaymentNotice: ...


class WeChatPayV3:
    """JSAPI (mini-program) payments: prepay, the wx.requestPayment parameters, close, refund,
    query, and verified, decrypted payment notifications."""

    def __init__(self, settings: Mapping[str, str]) -> None:
        from wechatpayv3 import WeChatPay, WeChatPayType  # deferred: only payment paths need it

        self.appid = settings["appid"]
        self._pay = WeChatPay(
            wechatpay_type=WeChatPayType.MINIPROG, mchid=settings["mchid"],
            private_key=settings["merchant_private_key"], cert_serial_no=settings["cert_serial_no"],
            appid=settings["appid"], apiv3_key=settings["apiv3_key"], notify_url=settings.get("notify_url"),
            public_key=settings["platform_public_key"], public_key_id=settings["platform_public_key_id"],
            timeout=(5, 10))

    def payment_params(self, prepay_id: str, issued_at: datetime) -> dict[str, str]:
        """What the mini-program passes to wx.requestPayment, signed with the merchant key.
        Derived from the prepay (timestamp of the order, nonce from the prepay id) and RSA PKCS#1
        v1.5 signatures are deterministic, so handing an order out twice gives the same answer."""
        stamp = str(int(issued_at.timestamp()))
        nonce = hashlib.sha256(prepay_id.encode()).hexdigest()[:32]
        package = f"prepay_id={prepay_id}"
        return {"appId": self.appid, "timeStamp": stamp, "nonceStr": nonce, "package": package,
                "signType": "RSA", "paySign": self._pay.sign([self.appid, stamp, nonce, package])}

    def prepay(self, order_id: str, description: str, amount: int, payer_openid: str,
               created_at: datetime, expires_at: datetime) -> dict[str, str]:
        code, message = self._pay.pay(description=description[:127], out_trade_no=order_id,
                                      amount={"total": amount, "currency": "CNY"}, payer={"openid": payer_openid},
                                      time_expire=to_display(expires_at, "Asia/Shanghai"))
        if code != 200:
            raise PaymentGatewayError(f"prepay answered {code}")
        return self.payment_params(json.loads(message)["prepay_id"], created_at)

    def close(self, order_id: str) -> None:
        code, _ = self._pay.close(out_trade_no=order_id)
        if code not in (200, 204):
            raise PaymentGatewayError(f"close answered {code}")

    def refund(self, refund_id: str, order_id: str, amount: int, total: int, reason: str) -> RefundResult:
        code, message = self._pay.refund(out_refund_no=refund_id, out_trade_no=order_id, reason=reason[:80],
                                         amount={"refund": amount, "total": total, "currency": "CNY"})
        if code != 200:
            raise PaymentGatewayError(f"refund answered {code}")
        return RefundResult(refund_id, json.loads(message).get("status", "PROCESSING"))

    def query(self, order_id: str) -> dict[str, Any]:
        code, message = self._pay.query(out_trade_no=order_id)
        if code != 200:
            raise PaymentGatewayError(f"query answered {code}")
        return dict(json.loads(message))

    def parse_notification(self, headers: Mapping[str, str], body: str, now: float) -> PaymentNotice:
        """Verifies the signature over the raw body with the platform public key (the SDK), refuses
        a timestamp more than five minutes off, decrypts AEAD_AES_256_GCM and reads the result."""
        wanted = {name: headers.get(name) or headers.get(name.lower()) or "" for name in NOTICE_HEADERS}
        try:
            stamp = int(wanted["Wechatpay-Timestamp"])
        except ValueError:
            raise NotificationRejected("missing or malformed Wechatpay-Timestamp") from None
        if abs(now - stamp) > MAX_CLOCK_SKEW_SECONDS:
            raise NotificationRejected("stale notification timestamp")
        if not wanted["Wechatpay-Nonce"]:
            raise NotificationRejected("missing Wechatpay-Nonce")
        try:
            data = self._pay.callback(wanted, body)
        except Exception as error:  # the SDK raises bare Exceptions for unsupported algorithms
            raise NotificationRejected(f"unverifiable notification: {error}") from None
        if not data or not isinstance(data.get("resource"), dict):
            raise NotificationRejected("bad signature or undecryptable resource")
        resource = data["resource"]
        try:
            return PaymentNotice(
                notification_id=str(data["id"]), nonce=wanted["Wechatpay-Nonce"], event_type=str(data["event_type"]),
                out_trade_no=str(resource["out_trade_no"]), transaction_id=str(resource["transaction_id"]),
                trade_state=str(resource["trade_state"]), amount=int(resource["amount"]["total"]),
                payer_openid=(resource.get("payer") or {}).get("openid"))
        except (KeyError, TypeError, ValueError):
            raise NotificationRejected("notification resource lacks required fields") from None
