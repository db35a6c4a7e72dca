"""The local payment sandbox. It is the real WeChat Pay adapter whose HTTP calls (made by the
wechatpayv3 SDK, signed by the merchant key) are answered in this process by a stand-in for
WeChat's servers (payment_sandbox_peer.py), which signs its answers with its own platform key:
so prepay, close, query, refund, refund query and the bill download run the SDK's own code,
signatures and all, on every local run. Notices are signed and encrypted as WeChat sends them,
queued, and delivered over HTTP by the local event pump (or by a test), as WeChat would."""
from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any, Callable, Mapping

import requests
from cryptography.hazmat.primitives import serialization
from requests.structures import CaseInsensitiveDict

from .payment_sandbox_peer import REFUND_NOTICE_STATES, REFUND_OUTCOMES, TradeClosed, WeChatPeer
from .payment_sandbox_records import SandboxRecord, SignedNotice, due_notices, notice_answered
from .wechatpay import WeChatPayV3

__all__ = ["REFUND_NOTICE_STATES", "REFUND_OUTCOMES", "SandboxGateway", "SandboxRecord", "SignedNotice",
           "TradeClosed"]


class _Response:
    """What the SDK reads of a `requests` response."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.status_code, self.content = status, body
        self.text = body.decode("utf-8", "replace")
        self.headers = CaseInsensitiveDict(headers)


class _Transport:
    """Stands in for the `requests` module inside wechatpayv3.core. Calls to a sandbox's gateway
    address are answered by that sandbox; any other URL goes out through `requests` unchanged,
    so a real WeChatPayV3 in the same process is unaffected."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.peers: dict[str, WeChatPeer] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def _route(self, method: str, url: str, kwargs: dict[str, Any]) -> Any:
        for gateway, peer in self.peers.items():
            if url.startswith(gateway):
                return _signed(peer, peer.answer(method, url[len(gateway):], kwargs.get("json")))
        return getattr(self._real, method.lower())(url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._route("GET", url, kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._route("POST", url, kwargs)


def _signed(peer: WeChatPeer, answer: Any) -> _Response:
    if isinstance(answer.body, (bytes, bytearray)):
        return _Response(answer.status, bytes(answer.body), {"Content-Type": "application/octet-stream"})
    text = "" if answer.body is None else json.dumps(answer.body, ensure_ascii=False, separators=(",", ":"))
    stamp, nonce = str(int(time.time())), secrets.token_hex(16).upper()
    headers = {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": peer.sign(stamp, nonce, text),
               "Wechatpay-Serial": peer._settings["platform_public_key_id"],
               "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048", "Request-ID": secrets.token_hex(8)}
    if text:
        headers["Content-Type"] = "application/json; charset=utf-8"
    return _Response(answer.status, text.encode(), headers)


_install_lock = threading.Lock()


def _transport() -> _Transport:
    import wechatpayv3.core as core
    with _install_lock:
        if not isinstance(core.requests, _Transport):
            core.requests = _Transport(requests)  # type: ignore[assignment]
        return core.requests  # type: ignore[return-value]


class SandboxGateway(WeChatPayV3):
    def __init__(self, settings: Mapping[str, str], platform_private_key_pem: str) -> None:
        super().__init__(settings)
        self._settings = dict(settings)
        self._platform_key = serialization.load_pem_private_key(platform_private_key_pem.encode(), password=None)
        self.peer = WeChatPeer(self._settings, self._platform_key)
        # An address of its own that never resolves: nothing can leave the process by mistake.
        gateway = f"https://sandbox-{secrets.token_hex(4)}.wechatpay.invalid"
        self._pay._core._gate_way = gateway
        _transport().peers[gateway] = self.peer

    # -- what a customer and WeChat do, driven by the /dev/ routes and tests -----------------
    def pay(self, order_id: str, amount: int, openid: str | None, notify: bool = True,
            transaction_id: str | None = None, notification_id: str | None = None,
            voucher: int = 0) -> SignedNotice | None:
        """The customer pays the trade (`amount`, its total, of which a WeChat voucher pays
        `voucher`); WeChat records it and, unless the notice is to be lost, signs the
        TRANSACTION.SUCCESS notice to deliver. Raises TradeClosed for a trade that can no longer
        be paid."""
        trade = self.peer.pay(order_id, amount, transaction_id, voucher)
        if not notify:
            return None
        return self.peer.payment_notice(order_id, int(trade.amount), trade.transaction_id or "", openid,
                                        paid_at=float(trade.paid_at or time.time()), notification_id=notification_id,
                                        voucher=int(trade.voucher or 0))

    def payment_notice(self, order_id: str, amount: int, openid: str | None, now: float | None = None,
                       notification_id: str | None = None, transaction_id: str | None = None,
                       voucher: int = 0) -> SignedNotice:
        """A signed notice as WeChat would send it, whatever the trade's state (tests use it to
        forge redeliveries, replays and late payments)."""
        transaction_id = transaction_id or "4200" + "".join(str(secrets.randbelow(10)) for _ in range(24))
        return self.peer.payment_notice(order_id, amount, transaction_id, openid, now=now,
                                        notification_id=notification_id, voucher=voucher)

    def set_refund_outcomes(self, outcomes: list[str]) -> None:
        self.peer.set_outcomes(outcomes)

    def refund_notice_now(self, out_refund_no: str, status: str) -> SignedNotice | None:
        """WeChat settles a refund now and sends its notice (None: no such refund)."""
        return self.peer.settle_refund(out_refund_no, status, send_later=False)

    def refunds(self) -> list[dict[str, Any]]:
        return [{"out_refund_no": r.key, "out_trade_no": r.order_id, "amount": int(r.amount),
                 "status": r.state or "PROCESSING"}
                for r in sorted(SandboxRecord.query("refund", consistent_read=True), key=lambda r: float(r.created_at))]

    def trade_state(self, order_id: str) -> str | None:
        trade = self.peer.trade(order_id)
        return trade.state if trade else None

    def deliver_notices(self, post: Callable[[str, dict[str, str], str], int], retry_scale: float = 1.0,
                        limit: int = 20) -> int:
        """Sends the notices that are due to `post(path, headers, body) -> HTTP status`, as
        WeChat calls the merchant's notify_url; anything but 2xx is sent again later."""
        sent = 0
        for key, notice, attempts in due_notices(limit):
            try:
                status = post(notice.path, notice.headers, notice.body)
            except Exception:
                status = 599
            notice_answered(key, notice, attempts, 200 <= status < 300, retry_scale)
            sent += 1
        return sent
