"""The real WeChat Pay v3 adapter against a fake HTTPS peer that signs its answers as WeChat does."""
from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from chalicelib.adapters.wechatpay import WeChatPayV3
from chalicelib.service_layer.ports import PaymentGatewayError
from local.keys import wechatpay_settings


class FakeResponse:
    def __init__(self, status: int, body: str, headers: dict[str, str]) -> None:
        self.status_code, self.text, self.headers, self.content = status, body, headers, body.encode()


@pytest.fixture
def wechat(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    settings, platform_pem = wechatpay_settings()
    platform = serialization.load_pem_private_key(platform_pem.encode(), password=None)
    sent: list[dict[str, Any]] = []
    answers: list[tuple[int, dict[str, Any]]] = []

    def signed(status: int, payload: dict[str, Any]) -> FakeResponse:
        body = json.dumps(payload)
        stamp, nonce = str(int(time.time())), "N" * 32
        signature = platform.sign(f"{stamp}\n{nonce}\n{body}\n".encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
        return FakeResponse(status, body, {
            "Content-Type": "application/json", "Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": base64.b64encode(signature).decode(),
            "Wechatpay-Serial": settings["platform_public_key_id"],
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"})

    def send(method: str):  # type: ignore[no-untyped-def]
        def call(url: str, **kwargs: Any) -> FakeResponse:
            sent.append({"method": method, "url": url, **kwargs})
            return signed(*answers.pop(0))
        return call
    import wechatpayv3.core as core
    monkeypatch.setattr(core.requests, "post", send("POST"))
    monkeypatch.setattr(core.requests, "get", send("GET"))
    return WeChatPayV3(settings), settings, sent, answers


def test_prepay_posts_a_signed_jsapi_order_and_signs_the_payment_parameters(wechat) -> None:  # type: ignore[no-untyped-def]
    gateway, settings, sent, answers = wechat
    answers.append((200, {"prepay_id": "wx201410272009395522657a690389285100"}))
    created = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
    params = gateway.prepay("O1", "Museum admission", 12000, "openid-1", created, created + timedelta(minutes=15))
    request = sent[0]
    assert request["url"] == "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi"
    assert request["json"]["amount"] == {"total": 12000, "currency": "CNY"}
    assert request["json"]["payer"] == {"openid": "openid-1"} and request["json"]["out_trade_no"] == "O1"
    assert request["json"]["time_expire"] == "2026-12-01T09:15:00+08:00"
    assert request["headers"]["Authorization"].startswith("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000109\"")
    assert params["package"] == "prepay_id=wx201410272009395522657a690389285100"
    merchant = serialization.load_pem_private_key(settings["merchant_private_key"].encode(), password=None)
    message = "\n".join([params["appId"], params["timeStamp"], params["nonceStr"], params["package"]]) + "\n"
    merchant.public_key().verify(base64.b64decode(params["paySign"]), message.encode(),  # type: ignore[union-attr]
                                 padding.PKCS1v15(), hashes.SHA256())


def test_refund_uses_the_refund_id_as_out_refund_no(wechat) -> None:  # type: ignore[no-untyped-def]
    gateway, _, sent, answers = wechat
    answers.append((200, {"refund_id": "50000000382019052709732678859", "status": "PROCESSING"}))
    result = gateway.refund("RABC", "O1", 6000, 12000, "visitor cancelled")
    assert result.status == "PROCESSING"
    assert sent[0]["json"]["out_refund_no"] == "RABC" and sent[0]["json"]["amount"] == {
        "refund": 6000, "total": 12000, "currency": "CNY"}


def test_gateway_errors_are_reported(wechat) -> None:  # type: ignore[no-untyped-def]
    gateway, _, _, answers = wechat
    answers.append((500, {"code": "SYSTEM_ERROR"}))
    with pytest.raises(PaymentGatewayError):
        gateway.refund("RABC", "O1", 1, 1, "x")


@pytest.mark.parametrize("call,answer", [
    (lambda g: g.query("O1"), {"out_trade_no": "O1"}),                                   # no trade_state
    (lambda g: g.query("O1"), {"trade_state": "SUCCESS", "amount": {"total": "lots"}}),
    (lambda g: g.query("O1"), {"trade_state": "SUCCESS", "amount": 7}),
    (lambda g: g.query_refund("R1"), {"refund_id": "5000"}),                             # no status
    (lambda g: g.prepay("O1", "x", 1, "o", datetime.now(timezone.utc), datetime.now(timezone.utc)), {}),
    (lambda g: g.trade_bill(datetime(2026, 12, 1).date()), {"hash_type": "SHA1"}),          # no download_url
])
def test_a_malformed_answer_is_a_gateway_error_not_a_crash(wechat, call, answer) -> None:  # type: ignore[no-untyped-def]
    """WeChat's answers are read where their errors are handled: whoever asked (the expiry run,
    the refund queries) treats a malformed one like an unreachable WeChat, for that one call."""
    gateway, _, _, answers = wechat
    answers.append((200, answer))
    with pytest.raises(PaymentGatewayError):
        call(gateway)


def test_a_query_reads_what_the_customer_paid_beside_the_total(wechat) -> None:  # type: ignore[no-untyped-def]
    """WeChat's own voucher (代金券) paid 1.50 of a 10.00 trade: `amount.total` stays the trade's
    price, `payer_total` is what the customer paid; the voucher is their difference."""
    gateway, _, _, answers = wechat
    answers.append((200, {
        "out_trade_no": "O1", "trade_state": "SUCCESS", "transaction_id": "4200000001",
        "success_time": "2026-12-01T09:00:00+08:00",
        "amount": {"total": 1000, "payer_total": 850, "currency": "CNY", "payer_currency": "CNY"},
        "promotion_detail": [{"coupon_id": "109519", "name": "单品惠-6", "scope": "GLOBAL", "type": "NOCASH",
                              "amount": 150, "stock_id": "931386", "wechatpay_contribute": 0,
                              "merchant_contribute": 150, "other_contribute": 0, "currency": "CNY"}]}))
    trade = gateway.query("O1")
    assert (trade.amount, trade.payer_total, trade.voucher, trade.paid) == (1000, 850, 150, True)


@pytest.mark.parametrize("amount", [{"total": 1000}, {"total": 1000, "payer_total": "850"},
                                    {"total": 1000, "payer_total": -1}, {"total": 1000, "payer_total": True}])
def test_a_payer_total_absent_or_odd_is_no_voucher_and_no_failure(wechat, amount) -> None:  # type: ignore[no-untyped-def]
    """payer_total only says how the total was paid: without a readable one the trade stands at its total."""
    gateway, _, _, answers = wechat
    answers.append((200, {"out_trade_no": "O1", "trade_state": "SUCCESS", "transaction_id": "4200000001",
                          "amount": amount}))
    trade = gateway.query("O1")
    assert (trade.amount, trade.payer_total, trade.voucher) == (1000, None, 0)


@pytest.mark.parametrize("status,code,closed", [
    (400, "ORDER_CLOSED", True),         # closed before: nothing can be paid on it
    (404, "ORDERNOTEXIST", True),        # never prepaid at WeChat: nothing to pay either
    (202, "USERPAYING", False),          # the customer is entering their password: not closed
    (500, "SYSTEM_ERROR", False)])
def test_closing_a_trade_reads_what_wechat_answers(wechat, status: int, code: str, closed: bool) -> None:  # type: ignore[no-untyped-def]
    """A change of an order (改单) opens its next attempt only once the open trade cannot be paid:
    WeChat's answers of a closed or unknown trade mean that; a customer mid-payment does not."""
    gateway, _, sent, answers = wechat
    answers.append((status, {"code": code, "message": code}))
    if closed:
        gateway.close("O1")
    else:
        with pytest.raises(PaymentGatewayError):
            gateway.close("O1")
    assert sent[0]["url"].endswith("/v3/pay/transactions/out-trade-no/O1/close")
