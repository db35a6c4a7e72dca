"""The payment gateway's WeChat Pay API v3 adapter (the maintained wechatpayv3 SDK,
in WeChat Pay public-key mode). The local sandbox (payment_sandbox.py) answers the very same SDK
calls in-process, as WeChat's servers would: every call below runs, signed and verified, in
every stage."""
from __future__ import annotations

import gzip
import hashlib
import json
from datetime import date, datetime
from typing import Any, Callable, Mapping, TypeVar

from ..domain.payments import PaymentNotice, RefundNotice, RefundResult, TradeState
from ..domain.timeutil import to_display
from ..service_layer.ports import NoBill, NotificationRejected, PaymentGatewayError, TradeAlreadyPaid

NOTICE_HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
                  "Wechatpay-Signature-Type")
MAX_CLOCK_SKEW_SECONDS = 300
T = TypeVar("T")


def _error_code(message: Any) -> str:
    try:
        return str(json.loads(message).get("code", ""))
    except (TypeError, ValueError, AttributeError):
        return ""


class WeChatPayV3:
    """JSAPI (mini-program) payments: prepay, the wx.requestPayment parameters, close, query,
    refund and refund query, the trade bill, and verified, decrypted notifications."""

    def __init__(self, settings: Mapping[str, str]) -> None:
        from wechatpayv3 import WeChatPay, WeChatPayType  # deferred: only payment paths need it

        self.appid, self.mchid = settings["appid"], settings["mchid"]
        self._platform_key_id = settings["platform_public_key_id"]
        self.refund_notify_url = settings.get("refund_notify_url") or _refund_notify_url(settings.get("notify_url"))
        self._pay = WeChatPay(
            wechatpay_type=WeChatPayType.MINIPROG, mchid=settings["mchid"],
            private_key=settings["merchant_private_key"], cert_serial_no=settings["cert_serial_no"],
            appid=settings["appid"], apiv3_key=settings["apiv3_key"], notify_url=settings.get("notify_url"),
            public_key=settings["platform_public_key"], public_key_id=settings["platform_public_key_id"],
            timeout=(5, 10))

    def _call(self, what: str, method: Any, **kwargs: Any) -> tuple[int, Any]:
        try:
            return method(**kwargs)
        except PaymentGatewayError:
            raise
        except Exception as error:   # network errors, and the SDK's bare Exception for a bad signature
            raise PaymentGatewayError(f"{what} failed: {type(error).__name__}") from None

    @staticmethod
    def _read(what: str, message: Any, read: Callable[[dict[str, Any]], T]) -> T:
        """An answer's JSON read where its errors are handled: a malformed answer (not JSON, a
        field missing or of the wrong type) is this call's failure, like a network error, and
        never an exception that stops whatever else the caller is doing."""
        try:
            data = json.loads(message)
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            return read(data)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise PaymentGatewayError(f"{what}: malformed answer ({type(error).__name__})") from None

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
        code, message = self._call("prepay", self._pay.pay, description=description[:127], out_trade_no=order_id,
                                   amount={"total": amount, "currency": "CNY"}, payer={"openid": payer_openid},
                                   time_expire=to_display(expires_at, "Asia/Shanghai"))
        if code != 200:
            raise PaymentGatewayError(f"prepay answered {code}")
        return self.payment_params(self._read("prepay", message, lambda data: str(data["prepay_id"])), created_at)

    def close(self, order_id: str) -> None:
        code, message = self._call("close", self._pay.close, out_trade_no=order_id)
        # Closed now (204), closed before (400 ORDER_CLOSED), or never opened at WeChat (404
        # ORDERNOTEXIST): nothing can be paid on it. USERPAYING (202: the customer is entering
        # their password) and anything else is not closed: the caller must not act as if it were.
        if code in (200, 204) or code == 404 or _error_code(message) in ("ORDER_CLOSED", "ORDERNOTEXIST",
                                                                          "ORDER_NOT_EXIST"):
            return
        if _error_code(message) == "ORDERPAID":
            raise TradeAlreadyPaid(order_id)
        raise PaymentGatewayError(f"close answered {code}")

    def query(self, order_id: str) -> TradeState | None:
        """None when WeChat has no such trade (never prepaid)."""
        code, message = self._call("query", self._pay.query, out_trade_no=order_id)
        if code == 404 or (code == 400 and _error_code(message) == "ORDER_NOT_EXIST"):
            return None
        if code != 200:
            raise PaymentGatewayError(f"query answered {code}")

        def trade(data: dict[str, Any]) -> TradeState:
            amounts = data.get("amount") or {}
            amount = amounts.get("total")
            return TradeState(out_trade_no=str(data.get("out_trade_no", order_id)), state=str(data["trade_state"]),
                              transaction_id=data.get("transaction_id") or None,
                              amount=int(amount) if amount is not None else None,
                              success_time=_time(data.get("success_time")), payer_total=_payer_total(amounts))
        return self._read("query", message, trade)

    def refund(self, out_refund_no: str, order_id: str, amount: int, total: int, reason: str) -> RefundResult:
        """The same out_refund_no twice is one refund at WeChat: a redelivered request cannot
        refund twice. WeChat usually answers PROCESSING and confirms by notice or query."""
        code, message = self._call("refund", self._pay.refund, out_refund_no=out_refund_no, out_trade_no=order_id,
                                   reason=reason[:80] or None, notify_url=self.refund_notify_url,
                                   amount={"refund": amount, "total": total, "currency": "CNY"})
        if code != 200:
            raise PaymentGatewayError(f"refund answered {code} {_error_code(message)}".strip())
        return self._read("refund", message, lambda data: RefundResult(
            out_refund_no, str(data.get("status", "PROCESSING")), _time(data.get("create_time"))))

    def query_refund(self, out_refund_no: str) -> RefundResult | None:
        """None when WeChat never received this refund."""
        code, message = self._call("refund query", self._pay.query_refund, out_refund_no=out_refund_no)
        if code == 404 or _error_code(message) == "RESOURCE_NOT_EXISTS":
            return None
        if code != 200:
            raise PaymentGatewayError(f"refund query answered {code}")
        return self._read("refund query", message, lambda data: RefundResult(
            out_refund_no, str(data["status"]), _time(data.get("create_time"))))

    def trade_bill(self, day: date) -> bytes:
        """The trade bill (ALL) of a day, as text bytes: asks for it, downloads the gzip the
        answer points to, checks the SHA-1 WeChat announces, and unpacks it."""
        code, message = self._call("trade bill", self._pay.trade_bill, bill_date=day.isoformat(), bill_type="ALL",
                                   tar_type="GZIP")
        if code != 200:
            if _error_code(message) == "NO_STATEMENT_EXIST":
                raise NoBill(day.isoformat())
            raise PaymentGatewayError(f"trade bill answered {code} {_error_code(message)}".strip())
        meta = self._read("trade bill", message, lambda data: {
            "url": str(data["download_url"]), "hash_type": str(data.get("hash_type", "SHA1")),
            "hash_value": str(data.get("hash_value", ""))})
        code, packed = self._call("bill download", self._pay.download_bill, url=meta["url"])
        if code != 200 or not isinstance(packed, (bytes, bytearray)):
            raise PaymentGatewayError(f"bill download answered {code}")
        if meta["hash_type"].upper() != "SHA1" or hashlib.sha1(packed).hexdigest().lower() != meta["hash_value"].lower():
            raise PaymentGatewayError("the bill's SHA-1 does not match what WeChat announced")
        try:
            return gzip.decompress(packed)
        except (OSError, EOFError):
            raise PaymentGatewayError("the bill is not a gzip file") from None

    def parse_notification(self, headers: Mapping[str, str], body: str, now: float) -> PaymentNotice | RefundNotice:
        """Verifies the signature over the raw body with the platform public key (the SDK), refuses
        a timestamp more than five minutes off, decrypts AEAD_AES_256_GCM and reads the result.
        Payment and refund notices are verified by this same code. A serial other than our
        platform public key's id is refused before the SDK sees it: given an unknown serial, the
        SDK would download WeChat's certificates (a merchant-signed outbound call) to look for it,
        so an unauthenticated request could spend our quota and hold the Lambda. The decrypted
        resource must name our merchant (and, for payments, our mini-program)."""
        wanted = {name: headers.get(name) or headers.get(name.lower()) or "" for name in NOTICE_HEADERS}
        try:
            stamp = int(wanted["Wechatpay-Timestamp"])
        except ValueError:
            raise NotificationRejected("missing or malformed Wechatpay-Timestamp") from None
        if abs(now - stamp) > MAX_CLOCK_SKEW_SECONDS:
            raise NotificationRejected("stale notification timestamp")
        if not wanted["Wechatpay-Nonce"]:
            raise NotificationRejected("missing Wechatpay-Nonce")
        if wanted["Wechatpay-Serial"] != self._platform_key_id:
            raise NotificationRejected("unknown Wechatpay-Serial")
        try:
            data = self._pay.callback(wanted, body)
        except Exception as error:  # the SDK raises bare Exceptions for unsupported algorithms
            raise NotificationRejected(f"unverifiable notification: {type(error).__name__}") from None
        if not data or not isinstance(data.get("resource"), dict):
            raise NotificationRejected("bad signature or undecryptable resource")
        resource, event_type = data["resource"], str(data.get("event_type", ""))
        refund = event_type.startswith("REFUND.")
        if resource.get("mchid") != self.mchid or (not refund and resource.get("appid") != self.appid):
            raise NotificationRejected("notification for another merchant or app")
        try:
            if refund:
                return RefundNotice(
                    notification_id=str(data["id"]), event_type=event_type,
                    out_refund_no=str(resource["out_refund_no"]), out_trade_no=str(resource["out_trade_no"]),
                    refund_status=str(resource["refund_status"]), amount=int(resource["amount"]["refund"]))
            return PaymentNotice(
                notification_id=str(data["id"]), nonce=wanted["Wechatpay-Nonce"], event_type=event_type,
                out_trade_no=str(resource["out_trade_no"]), transaction_id=str(resource["transaction_id"]),
                trade_state=str(resource["trade_state"]), amount=int(resource["amount"]["total"]),
                payer_openid=(resource.get("payer") or {}).get("openid"),
                success_time=_time(resource.get("success_time")), payer_total=_payer_total(resource["amount"]))
        except (KeyError, TypeError, ValueError):
            raise NotificationRejected("notification resource lacks required fields") from None


def _payer_total(amount: Mapping[str, Any]) -> int | None:
    """`amount.payer_total` (用户支付金额): `total` less WeChat's vouchers. Only informative: the
    trade's price is `total` whatever a voucher paid of it, so a payer_total that is absent or
    unreadable is None rather than a reason to refuse a signed payment."""
    value = amount.get("payer_total") if isinstance(amount, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _time(value: Any) -> datetime | None:
    """WeChat's RFC 3339 times (2026-12-01T09:00:00+08:00); None when absent or unreadable."""
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _refund_notify_url(notify_url: str | None) -> str | None:
    """Refund notices go to their own endpoint beside the payment notices'."""
    if not notify_url:
        return None
    base = notify_url.rsplit("/", 1)[0]
    return f"{base}/refund-notify"
