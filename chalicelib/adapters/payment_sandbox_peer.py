"""WeChat Pay's servers, as the local sandbox plays them: the answers to the API v3 calls the
wechatpayv3 SDK makes (prepay, query, close, refund, refund query, trade bill and its download),
signed with the sandbox's platform key as WeChat signs them, and the state behind them (trades,
refunds, queued notices, scripted refund outcomes) in a table of the local stack.

What is modelled, and what was assumed where WeChat's documentation is silent, is written next
to each answer. Local stage only: nothing here is deployed."""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pynamodb.exceptions import PutError, UpdateError

from .dynamo import get_or_none
from .payment_sandbox_amounts import paid_amount, promotion_detail, refund_amount
from .payment_sandbox_records import (PAYMENT_NOTIFY_PATH, REFUND_NOTIFY_PATH, SandboxRecord, SignedNotice, cst, epoch,
                                      queue_notice)

REFUND_OUTCOMES = ("SUCCESS", "SUCCESS_NO_NOTICE", "PENDING", "ABNORMAL", "CLOSED", "ERROR")
REFUND_NOTICE_STATES = ("SUCCESS", "ABNORMAL", "CLOSED")


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None                                 # a JSON-able value, bytes, or None (no content)


class TradeClosed(Exception):
    """The customer tried to pay a trade that was closed (expired or cancelled)."""


def _error(status: int, code: str, message: str) -> Answer:
    return Answer(status, {"code": code, "message": message})


class WeChatPeer:
    def __init__(self, settings: dict[str, str], platform_key: Any) -> None:
        self._settings = settings
        self._platform_key = platform_key
        self._bills: dict[str, bytes] = {}
        self._bills_lock = threading.Lock()

    # ------------------------------------------------------------------ the HTTP side
    def answer(self, method: str, url: str, body: Any) -> Answer:
        parts = urlsplit(url)
        path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
        segments = path.strip("/").split("/")
        if method == "POST" and path == "/v3/pay/transactions/jsapi":
            return self._prepay(body or {})
        if path.startswith("/v3/pay/transactions/out-trade-no/"):
            trade_no = segments[4] if len(segments) > 4 else ""
            if method == "POST" and path.endswith("/close"):
                return self._close(trade_no)
            if method == "GET":
                return self._query(trade_no)
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            return self._refund(body or {})
        if method == "GET" and path.startswith("/v3/refund/domestic/refunds/"):
            return self._refund_query(segments[-1])
        if method == "GET" and path == "/v3/bill/tradebill":
            return self._trade_bill(query.get("bill_date", ""), url.split("/v3/")[0])
        if method == "GET" and path == "/v3/billdownload/file":
            with self._bills_lock:
                packed = self._bills.get(query.get("token", ""))
            return Answer(200, packed) if packed is not None else _error(404, "RESOURCE_NOT_EXISTS", "账单已过期")
        return _error(404, "NOT_FOUND", "no such API")

    def sign(self, stamp: str, nonce: str, body: str) -> str:
        signature = self._platform_key.sign(f"{stamp}\n{nonce}\n{body}\n".encode(), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()

    # ------------------------------------------------------------------ trades
    @staticmethod
    def trade(order_id: str) -> SandboxRecord | None:
        return get_or_none(SandboxRecord, "trade", order_id)

    def _prepay(self, body: dict[str, Any]) -> Answer:
        order_id = str(body.get("out_trade_no", ""))
        amount = int((body.get("amount") or {}).get("total", 0))
        try:
            SandboxRecord(kind="trade", key=order_id, order_id=order_id, amount=amount, state="NOTPAY",
                          description=str(body.get("description", ""))[:127] or None,
                          created_at=int(epoch())).save(condition=SandboxRecord.key.does_not_exist())
        except PutError:
            pass       # the same out_trade_no again: WeChat answers the same prepay
        return Answer(200, {"prepay_id": "wx" + hashlib.sha256(order_id.encode()).hexdigest()[:30]})

    def _query(self, order_id: str) -> Answer:
        trade = self.trade(order_id)
        if trade is None:
            return _error(404, "ORDER_NOT_EXIST", "订单不存在")
        state = trade.state or "NOTPAY"
        if state == "SUCCESS" and int(trade.refunded or 0) > 0:
            state = "REFUND"                       # 转入退款: a paid trade with a refund
        data: dict[str, Any] = {"appid": self._settings["appid"], "mchid": self._settings["mchid"],
                                "out_trade_no": order_id, "trade_state": state, "trade_type": "JSAPI",
                                "amount": {"total": int(trade.amount), "currency": "CNY"}}
        if trade.transaction_id:
            voucher = int(trade.voucher or 0)
            data.update(transaction_id=trade.transaction_id, success_time=cst(float(trade.paid_at or 0)),
                        amount=paid_amount(int(trade.amount), voucher),
                        **({"promotion_detail": promotion_detail(voucher, trade.transaction_id)} if voucher else {}))
        return Answer(200, data)

    def _close(self, order_id: str) -> Answer:
        """Assumed from WeChat's documentation: 204 for an unpaid trade (and again for a closed
        one); a trade the customer has paid cannot be closed (400 ORDERPAID)."""
        try:
            SandboxRecord(kind="trade", key=order_id).update(
                actions=[SandboxRecord.state.set("CLOSED")],
                condition=SandboxRecord.key.exists() & SandboxRecord.state.is_in("NOTPAY", "CLOSED"))
            return Answer(204)
        except UpdateError:
            pass
        trade = self.trade(order_id)
        if trade is None:
            return _error(404, "ORDER_NOT_EXIST", "订单不存在")
        return _error(400, "ORDERPAID", "订单已支付")

    def pay(self, order_id: str, amount: int, transaction_id: str | None = None, voucher: int = 0) -> SandboxRecord:
        """The customer pays: an unpaid trade (or one micromall never prepaid) becomes SUCCESS at
        `amount`, its total (a WeChat voucher paying `voucher` of it). Paying the same transaction again
        changes nothing; a closed or otherwise paid trade cannot be paid (one payment per out_trade_no)."""
        paid_at = epoch()
        transaction_id = transaction_id or "4200" + "".join(str(secrets.randbelow(10)) for _ in range(24))
        record = SandboxRecord(kind="trade", key=order_id)
        try:
            record.update(actions=[SandboxRecord.state.set("SUCCESS"), SandboxRecord.order_id.set(order_id),
                                   SandboxRecord.amount.set(amount), SandboxRecord.voucher.set(voucher),
                                   SandboxRecord.transaction_id.set(transaction_id),
                                   SandboxRecord.paid_at.set(paid_at), SandboxRecord.created_at.set(int(paid_at))],
                          condition=SandboxRecord.key.does_not_exist() | (SandboxRecord.state == "NOTPAY")
                          | (SandboxRecord.transaction_id == transaction_id))
        except UpdateError:
            trade = self.trade(order_id)
            raise TradeClosed(f"trade {order_id} is {trade.state if trade else 'unknown'}") from None
        trade = self.trade(order_id)
        assert trade is not None
        return trade

    # ------------------------------------------------------------------ refunds
    @staticmethod
    def refund_record(out_refund_no: str) -> SandboxRecord | None:
        return get_or_none(SandboxRecord, "refund", out_refund_no)

    def _refund_body(self, refund: SandboxRecord) -> dict[str, Any]:
        trade = self.trade(refund.order_id)
        amount = refund_amount(int(trade.amount) if trade else int(refund.amount),
                               int(trade.voucher or 0) if trade else 0, int(refund.amount))
        return {"refund_id": "50" + hashlib.sha256(refund.key.encode()).hexdigest()[:26].upper(),
                "out_refund_no": refund.key, "transaction_id": refund.transaction_id or "",
                "out_trade_no": refund.order_id, "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
                "create_time": cst(float(refund.created_at)), "status": refund.state or "PROCESSING",
                "amount": amount}

    def _refund(self, body: dict[str, Any]) -> Answer:
        """Answers PROCESSING, as WeChat does, and then behaves as the next scripted outcome
        says. The same out_refund_no again is the same refund (WeChat's idempotency); a refund
        beyond what the trade has left is refused, so a double refund cannot slip through."""
        out_refund_no = str(body.get("out_refund_no", ""))
        existing = self.refund_record(out_refund_no)
        if existing is not None:
            return Answer(200, self._refund_body(existing))
        outcome = self.next_outcome()
        if outcome == "ERROR":
            return _error(500, "SYSTEM_ERROR", "系统错误")
        order_id = str(body.get("out_trade_no", ""))
        amount = int((body.get("amount") or {}).get("refund", 0))
        trade = self.trade(order_id)
        if trade is None or not trade.transaction_id:
            return _error(400, "INVALID_REQUEST", "订单不存在或未支付")
        refund = SandboxRecord(kind="refund", key=out_refund_no, order_id=order_id, amount=amount,
                               transaction_id=trade.transaction_id, state="PROCESSING", created_at=epoch())
        try:
            refund.save(condition=SandboxRecord.key.does_not_exist())
        except PutError:
            return Answer(200, self._refund_body(self.refund_record(out_refund_no) or refund))
        try:
            SandboxRecord(kind="trade", key=order_id).update(
                actions=[SandboxRecord.refunded.add(amount)],
                condition=SandboxRecord.refunded <= int(trade.amount) - amount)
        except UpdateError:
            refund.delete()
            return _error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        if outcome == "SUCCESS_NO_NOTICE":
            self.set_refund_state(out_refund_no, "SUCCESS")
        elif outcome in REFUND_NOTICE_STATES:
            self.settle_refund(out_refund_no, outcome, send_later=True)
        return Answer(200, self._refund_body(refund))

    def _refund_query(self, out_refund_no: str) -> Answer:
        refund = self.refund_record(out_refund_no)
        if refund is None:
            return _error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return Answer(200, self._refund_body(refund))

    def set_refund_state(self, out_refund_no: str, state: str) -> SandboxRecord | None:
        """A refund leaves PROCESSING once, as WeChat documents its states: CLOSED is final and
        gives its amount back to the trade (a new out_refund_no may ask again); ABNORMAL keeps it
        (the money waits in WeChat's refund account, the card being closed or frozen) until the
        merchant settles it by hand, and then becomes SUCCESS."""
        leaving = SandboxRecord.state == "PROCESSING"
        if state == "SUCCESS":
            leaving |= SandboxRecord.state == "ABNORMAL"          # settled by hand
        try:
            SandboxRecord(kind="refund", key=out_refund_no).update(
                actions=[SandboxRecord.state.set(state)], condition=SandboxRecord.key.exists() & leaving)
        except UpdateError:
            return self.refund_record(out_refund_no)
        refund = self.refund_record(out_refund_no)
        if refund is not None and state == "CLOSED":
            SandboxRecord(kind="trade", key=refund.order_id).update(actions=[SandboxRecord.refunded.add(-int(refund.amount))])
        return refund

    def settle_refund(self, out_refund_no: str, state: str, send_later: bool) -> SignedNotice | None:
        """WeChat decides a refund: its state, and the notice it sends (queued, or handed back
        to be delivered at once)."""
        refund = self.set_refund_state(out_refund_no, state)
        if refund is None or refund.state != state:
            return None        # no such refund, or it already ended otherwise
        notice = self.refund_notice(refund, state)
        if send_later:
            queue_notice(notice)
        return notice

    # ------------------------------------------------------------------ scripted outcomes
    def set_outcomes(self, outcomes: list[str]) -> None:
        for old in SandboxRecord.query("outcome", consistent_read=True):
            old.delete()
        base = time.time_ns()
        for index, outcome in enumerate(outcomes):
            SandboxRecord(kind="outcome", key=f"{base + index:020d}", state=outcome, created_at=int(epoch())).save()

    def next_outcome(self) -> str:
        while True:
            first = next(iter(SandboxRecord.query("outcome", consistent_read=True, limit=1)), None)
            if first is None:
                return "SUCCESS"
            try:
                first.delete(condition=SandboxRecord.key.exists())
                return first.state or "SUCCESS"
            except Exception:
                continue       # another request took this outcome: take the next

    # ------------------------------------------------------------------ notices
    def _notice(self, path: str, event_type: str, summary: str, original_type: str, resource: dict[str, Any],
                now: float | None = None, notification_id: str | None = None) -> SignedNotice:
        now = epoch() if now is None else now
        nonce = secrets.token_urlsafe(9)[:12]
        ciphertext = AESGCM(self._settings["apiv3_key"].encode()).encrypt(
            nonce.encode(), json.dumps(resource, ensure_ascii=False).encode(), original_type.encode())
        body = json.dumps({
            "id": notification_id or "EV-" + secrets.token_hex(12), "create_time": cst(now),
            "resource_type": "encrypt-resource", "event_type": event_type, "summary": summary,
            "resource": {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": original_type,
                         "nonce": nonce}}, ensure_ascii=False, separators=(",", ":"))
        stamp, header_nonce = str(int(now)), secrets.token_hex(16).upper()
        return SignedNotice(path, {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": header_nonce,
                                   "Wechatpay-Signature": self.sign(stamp, header_nonce, body),
                                   "Wechatpay-Serial": self._settings["platform_public_key_id"],
                                   "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
                                   "Content-Type": "application/json"}, body)

    def payment_notice(self, order_id: str, amount: int, transaction_id: str, openid: str | None,
                       paid_at: float | None = None, now: float | None = None,
                       notification_id: str | None = None, voucher: int = 0) -> SignedNotice:
        """A v3 TRANSACTION.SUCCESS notification, encrypted with the APIv3 key and signed with
        the platform key, exactly as WeChat Pay sends it (a voucher: payer_total and promotion_detail)."""
        resource: dict[str, Any] = {
            "mchid": self._settings["mchid"], "appid": self._settings["appid"], "out_trade_no": order_id,
            "transaction_id": transaction_id, "trade_type": "JSAPI", "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功", "bank_type": "OTHERS", "attach": "",
            "success_time": cst(paid_at if paid_at is not None else (now or epoch())),
            "payer": {"openid": openid or "sandbox-payer"}, "amount": paid_amount(amount, voucher),
            **({"promotion_detail": promotion_detail(voucher, transaction_id)} if voucher else {})}
        return self._notice(PAYMENT_NOTIFY_PATH, "TRANSACTION.SUCCESS", "支付成功", "transaction", resource,
                            now=now, notification_id=notification_id)

    def refund_notice(self, refund: SandboxRecord, state: str) -> SignedNotice:
        body = self._refund_body(refund)
        resource: dict[str, Any] = {
            "mchid": self._settings["mchid"], "out_trade_no": refund.order_id,
            "transaction_id": refund.transaction_id or "", "out_refund_no": refund.key,
            "refund_id": body["refund_id"], "refund_status": state, "user_received_account": "支付用户零钱",
            "amount": {key: body["amount"][key] for key in ("total", "refund", "payer_total", "payer_refund")}}
        if state == "SUCCESS":
            resource["success_time"] = cst(epoch())
        summary = {"SUCCESS": "退款成功", "ABNORMAL": "退款异常", "CLOSED": "退款关闭"}[state]
        return self._notice(REFUND_NOTIFY_PATH, f"REFUND.{state}", summary, "refund", resource)

    # ------------------------------------------------------------------ bills
    def _trade_bill(self, bill_date: str, gateway: str) -> Answer:
        try:
            day = date.fromisoformat(bill_date)
        except ValueError:
            return _error(400, "PARAM_ERROR", "bill_date 格式错误")
        from .payment_sandbox_bill import trade_bill_text
        packed = gzip.compress(trade_bill_text(day, self._settings).encode("utf-8"), mtime=0)
        token = secrets.token_urlsafe(24)
        with self._bills_lock:
            if len(self._bills) > 50:
                self._bills.clear()          # download links expire at WeChat too
            self._bills[token] = packed
        return Answer(200, {"hash_type": "SHA1", "hash_value": hashlib.sha1(packed).hexdigest(),
                            "download_url": f"{gateway}/v3/billdownload/file?token={token}"})
