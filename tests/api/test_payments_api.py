"""WeChat Pay v3 notifications with real cryptography: signatures, AES-GCM, and one effect."""
from __future__ import annotations

import base64
import io
import json
import time
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image

from chalicelib import bootstrap
from chalicelib.adapters.tables import OrderRecord, PaymentRecord, RefundRecord, TicketRecord
from chalicelib.service_layer import payments

from .conftest import Api, available, clock_ahead, expire_due, merch_body, order_body, sandbox, ticket_body


def notify(api: Api, headers: dict[str, str], body: str):  # type: ignore[no-untyped-def]
    return api.client.http.post("/payments/wechat/notify", headers=headers, body=body.encode())


def placed(customer, make_product, quantity: int = 2, **product):  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([200], **product))
    alice = customer()
    return alice, alice.post("/orders", order_body((sku, quantity))).json_body


def status_of(order_id: str) -> str:
    return OrderRecord.get(order_id).status


def test_placing_an_order_gives_signed_wx_request_payment_parameters(customer, make_product) -> None:  # type: ignore[no-untyped-def]
    alice, order = placed(customer, make_product)
    payment = order["payment"]
    assert set(payment) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign", "out_trade_no"}
    assert payment["out_trade_no"] == order["order_id"]          # the first attempt's trade is the order id
    assert payment["package"].startswith("prepay_id=") and payment["signType"] == "RSA"
    assert alice.post(f"/orders/{order['order_id']}/payment").json_body == payment


def test_sandbox_payment_makes_the_order_paid_and_issues_one_ticket_per_admission(customer, make_product, ddb_calls,
                                                                                  anonymous) -> None:  # type: ignore[no-untyped-def]
    alice, order = placed(customer, make_product, quantity=3)
    notice = sandbox().payment_notice(order["order_id"], order["total"], None)
    ddb_calls.reset()
    r = notify(anonymous, notice.headers, notice.body)
    assert r.status_code == 204 and r.body == b""
    assert ddb_calls.operations == ["GetItem", "TransactWriteItems"]     # a notice: at most two requests
    ddb_calls.reset()
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
    shown = alice.get(f"/orders/{order['order_id']}").json_body
    assert shown["status"] == "PAID" and [h["status"] for h in shown["history"]] == ["PENDING_PAYMENT", "PAID"]
    tickets = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    assert len(tickets) == 3 and {t["status"] for t in tickets} == {"VALID"}
    codes = [t["code"].replace("-", "") for t in tickets]
    assert len(set(codes)) == 3 and all(len(c) == 12 and c.isdigit() for c in codes)
    assert all(t["code"].count("-") == 2 for t in tickets)
    assert OrderRecord.get(order["order_id"]).pending is None


def test_the_ticket_png_decodes_to_its_signed_payload(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    alice, order = placed(customer, make_product, quantity=1)
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    (ticket,) = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    png = alice.get(f"/tickets/{ticket['ticket_id']}/qr.png", headers={"Accept": "image/png"})
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.body)))
    assert decoded[0].text == ticket["qr"]
    assert customer().get(f"/tickets/{ticket['ticket_id']}/qr.png", headers={"Accept": "image/png"}).status_code == 404


def test_a_duplicate_notice_has_no_second_effect(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    _, order = placed(customer, make_product)
    notice = sandbox().payment_notice(order["order_id"], order["total"], None)
    assert notify(anonymous, notice.headers, notice.body).status_code == 204
    again = notify(anonymous, notice.headers, notice.body)          # a byte-for-byte replay
    assert again.status_code == 204
    redelivered = sandbox().payment_notice(order["order_id"], order["total"], None,
                                           transaction_id=json.loads(_decrypt(notice.body))["transaction_id"])
    assert notify(anonymous, redelivered.headers, redelivered.body).status_code == 204
    assert len(list(TicketRecord.order_tickets_index.query(order["order_id"]))) == 2
    assert PaymentRecord.count() == 1 and RefundRecord.count() == 0


def _decrypt(body: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    resource = json.loads(body)["resource"]
    key = bootstrap.context().wechat_pay._settings["apiv3_key"]  # type: ignore[attr-defined]
    return AESGCM(key.encode()).decrypt(resource["nonce"].encode(), base64.b64decode(resource["ciphertext"]),
                                        resource["associated_data"].encode()).decode()


@pytest.mark.parametrize("tamper", ["body", "signature", "serial", "stale", "future", "ciphertext", "no_headers",
                                    "not_json"])
def test_forged_stale_and_broken_notices_change_nothing(customer, make_product, anonymous, tamper) -> None:  # type: ignore[no-untyped-def]
    _, order = placed(customer, make_product)
    notice = sandbox().payment_notice(order["order_id"], order["total"], None,
                                      now=time.time() - 600 if tamper == "stale" else
                                      time.time() + 600 if tamper == "future" else None)
    headers, body = dict(notice.headers), notice.body
    if tamper == "body":
        body = body.replace('"summary":"', '"summary":"x')
    elif tamper == "signature":
        signature = bytearray(base64.b64decode(headers["Wechatpay-Signature"]))
        signature[10] ^= 1
        headers["Wechatpay-Signature"] = base64.b64encode(bytes(signature)).decode()
    elif tamper == "serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_SOMEONE_ELSE"
    elif tamper == "ciphertext":
        # re-signed by the real platform key but with a corrupted ciphertext: decryption must fail
        data = json.loads(body)
        data["resource"]["ciphertext"] = base64.b64encode(b"\0" * 64).decode()
        fresh = sandbox().payment_notice(order["order_id"], order["total"], None)
        headers, body = _resign(fresh.headers, json.dumps(data, separators=(",", ":")))
    elif tamper == "no_headers":
        headers = {"Content-Type": "application/json"}
    elif tamper == "not_json":
        headers, body = _resign(notice.headers, "not json at all")
    r = notify(anonymous, headers, body)
    assert r.status_code == 401 and r.json_body["code"] == "FAIL", (tamper, r.body)
    assert status_of(order["order_id"]) == "PENDING_PAYMENT"
    assert PaymentRecord.count() == 0 and TicketRecord.count() == 0


def test_a_notice_under_an_unknown_serial_is_refused_without_calling_wechat(customer, make_product, anonymous,  # type: ignore[no-untyped-def]
                                                                           monkeypatch) -> None:
    """Given a serial it does not know, the SDK downloads WeChat's certificates to look for it:
    an unauthenticated request must never make us call out."""
    _, order = placed(customer, make_product)
    peer = sandbox().peer
    outbound: list[str] = []
    real = peer.answer

    def recorded(method, url, body):  # type: ignore[no-untyped-def]
        outbound.append(f"{method} {url}")
        return real(method, url, body)
    monkeypatch.setattr(peer, "answer", recorded)
    notice = sandbox().payment_notice(order["order_id"], order["total"], None)
    for serial in ("PUB_KEY_ID_SOMEONE_ELSE", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", ""):
        r = notify(anonymous, {**notice.headers, "Wechatpay-Serial": serial}, notice.body)
        assert r.status_code == 401 and r.json_body["code"] == "FAIL"
    assert outbound == [] and status_of(order["order_id"]) == "PENDING_PAYMENT"


@pytest.mark.parametrize("field", ["mchid", "appid"])
def test_a_genuine_notice_for_another_merchant_or_app_is_refused(customer, make_product, anonymous,  # type: ignore[no-untyped-def]
                                                                  field) -> None:
    """Signed by WeChat and decrypted with our key, but naming another merchant or mini-program
    (a service-provider setup sharing keys, or a mix-up): not our money to confirm."""
    from chalicelib.adapters.payment_sandbox_peer import PAYMENT_NOTIFY_PATH
    _, order = placed(customer, make_product)
    peer = sandbox().peer
    resource = {"mchid": peer._settings["mchid"], "appid": peer._settings["appid"], "out_trade_no": order["order_id"],
                "transaction_id": "4200OTHER", "trade_type": "JSAPI", "trade_state": "SUCCESS",
                "success_time": "2026-12-03T10:00:00+08:00", "payer": {"openid": "x"},
                "amount": {"total": order["total"], "payer_total": order["total"], "currency": "CNY"}}
    resource[field] = "someone-else"
    notice = peer._notice(PAYMENT_NOTIFY_PATH, "TRANSACTION.SUCCESS", "支付成功", "transaction", resource)
    r = notify(anonymous, notice.headers, notice.body)
    assert r.status_code == 401 and status_of(order["order_id"]) == "PENDING_PAYMENT"
    resource[field] = peer._settings[field]                       # the control: ours is accepted
    notice = peer._notice(PAYMENT_NOTIFY_PATH, "TRANSACTION.SUCCESS", "支付成功", "transaction", resource)
    assert notify(anonymous, notice.headers, notice.body).status_code == 204
    assert status_of(order["order_id"]) == "PAID"


def _resign(headers: dict[str, str], body: str) -> tuple[dict[str, str], str]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    key = sandbox()._platform_key
    signed = dict(headers)
    message = f"{signed['Wechatpay-Timestamp']}\n{signed['Wechatpay-Nonce']}\n{body}\n".encode()
    signed["Wechatpay-Signature"] = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()  # type: ignore[union-attr]
    return signed, body


def test_a_rejected_notice_says_nothing_of_the_sdk(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    _, order = placed(customer, make_product)
    notice = sandbox().payment_notice(order["order_id"], order["total"], None)
    headers = {**notice.headers, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}   # the SDK raises for it
    r = notify(anonymous, headers, notice.body)
    assert r.status_code == 401 and r.json_body["code"] == "FAIL"
    assert r.json_body["message"] == "signature verification failed" and "wechatpay" not in r.body.decode().lower()


def _conflicts(monkeypatch, how_many: int):  # type: ignore[no-untyped-def]
    """Our own writes lose races: the next `how_many` transactions are cancelled by a conflict."""
    from chalicelib.adapters.unit_of_work import UnitOfWork
    from chalicelib.service_layer.ports import WriteRefused
    real, left = UnitOfWork.commit, {"n": how_many}

    def commit(self):  # type: ignore[no-untyped-def]
        if left["n"]:
            left["n"] -= 1
            raise WriteRefused([], True, {})
        return real(self)
    monkeypatch.setattr(UnitOfWork, "commit", commit)
    monkeypatch.setattr("chalicelib.service_layer.retrying.BASE_SECONDS", 0.0)


def test_a_payment_that_loses_a_race_with_our_own_writes_is_retried_not_refunded(customer, make_product, anonymous,
                                                                               monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, order = placed(customer, make_product)
    _conflicts(monkeypatch, 2)
    notice = sandbox().payment_notice(order["order_id"], order["total"], None)
    assert notify(anonymous, notice.headers, notice.body).status_code == 204
    assert status_of(order["order_id"]) == "PAID" and RefundRecord.count() == 0 and TicketRecord.count() == 2


def test_a_payment_that_loses_the_race_to_a_cancellation_is_refunded(customer, make_product, anonymous,
                                                                     monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The order is cancelled between the payment's read and its write: the write is refused
    with the order as it now is, and the money goes back (invariant 5)."""
    _, order = placed(customer, make_product)
    signed = payments._signed

    def cancelled_meanwhile(ctx, tickets):  # type: ignore[no-untyped-def]
        OrderRecord(order["order_id"]).update(actions=[OrderRecord.status.set("CANCELLED")])
        return signed(ctx, tickets)
    monkeypatch.setattr(payments, "_signed", cancelled_meanwhile)
    notice = sandbox().payment_notice(order["order_id"], order["total"], None)
    assert notify(anonymous, notice.headers, notice.body).status_code == 204
    assert status_of(order["order_id"]) == "CANCELLED" and TicketRecord.count() == 0
    (refund,) = approved_refunds()
    assert (refund.reason, int(refund.amount)) == ("order_cancelled", order["total"])


def test_a_payment_not_yet_provable_is_answered_503_so_wechat_delivers_it_again(customer, make_product, anonymous,
                                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, order = placed(customer, make_product)
    _conflicts(monkeypatch, 100)
    notice = sandbox().payment_notice(order["order_id"], order["total"], None)
    r = notify(anonymous, notice.headers, notice.body)
    assert r.status_code == 503 and r.json_body["code"] == "FAIL"
    assert status_of(order["order_id"]) == "PENDING_PAYMENT" and RefundRecord.count() == 0
    assert PaymentRecord.count() == 0
    monkeypatch.undo()
    assert notify(anonymous, notice.headers, notice.body).status_code == 204     # WeChat's redelivery
    assert status_of(order["order_id"]) == "PAID" and RefundRecord.count() == 0


def test_a_payment_of_the_wrong_amount_is_refunded_and_ends_its_order(customer, make_product, anonymous,  # type: ignore[no-untyped-def]
                                                                      staff) -> None:
    """WeChat keeps one payment per trade: an order paid the wrong amount can never be paid.
    Its money goes back, and the order ends (cancelled, with its reason, its stock and purchase-
    limit units released) instead of waiting for a payment that cannot come."""
    product, (sku,) = make_product(ticket_body([10], purchase_limit=2))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 2))).json_body
    assert available(staff("admin"), product["product_id"], sku) == 8
    r = anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"amount": 1, "transaction_id": "4200MISMATCH1"})
    assert r.json_body["notify_status"] == 204
    shown = alice.get(f"/orders/{order['order_id']}").json_body
    assert (shown["status"], shown["cancel_reason"], shown["history"][-1]["by"]) == (
        "CANCELLED", "payment_amount_mismatch", "wechatpay")
    assert TicketRecord.count() == 0 and available(staff("admin"), product["product_id"], sku) == 10
    (refund,) = approved_refunds()
    assert (refund.order_id, int(refund.amount), refund.reason, refund.source) == (
        order["order_id"], 1, "amount_mismatch", "automatic")
    assert [r["amount"] for r in alice.get(f"/orders/{order['order_id']}/refunds").json_body["items"]] == [1]
    # The customer's purchase limit is free again, and nothing is left for the customer to cancel.
    assert alice.post(f"/orders/{order['order_id']}/cancel").json_body["code"] == "INVALID_STATE"
    assert alice.post("/orders", order_body((sku, 2))).status_code == 201
    # WeChat delivering the same notice again changes nothing.
    again = anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"amount": 1, "transaction_id": "4200MISMATCH1"})
    assert again.json_body["notify_status"] == 204 and RefundRecord.count() == 1
    assert available(staff("admin"), product["product_id"], sku) == 8


def test_a_payment_a_wechat_voucher_paid_part_of_makes_the_order_paid_at_its_total(customer, make_product,  # type: ignore[no-untyped-def]
                                                                                    anonymous) -> None:
    """WeChat's own promotions (代金券, here 免充值型): the notice's `amount.total` is the order's
    total, `payer_total` what the customer paid and `promotion_detail` the voucher. The order is
    PAID normally, its total unchanged, and the payment recorded at the total."""
    alice, order = placed(customer, make_product)
    notice = sandbox().payment_notice(order["order_id"], order["total"], None, voucher=1500)
    resource = json.loads(_decrypt(notice.body))
    assert resource["amount"] == {"total": order["total"], "payer_total": order["total"] - 1500, "currency": "CNY",
                                  "payer_currency": "CNY"}
    [promotion] = resource["promotion_detail"]
    assert (promotion["type"], promotion["amount"], promotion["scope"]) == ("NOCASH", 1500, "GLOBAL")
    paid = bootstrap.context().wechat_pay.parse_notification(notice.headers, notice.body, time.time())
    assert (paid.amount, paid.payer_total, paid.voucher) == (order["total"], order["total"] - 1500, 1500)  # type: ignore[union-attr]

    r = anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"voucher": 1500})
    assert r.json_body["notify_status"] == 204
    shown = alice.get(f"/orders/{order['order_id']}").json_body
    assert (shown["status"], shown["total"]) == ("PAID", order["total"])
    assert len(alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]) == 2
    (record,) = PaymentRecord.scan()
    assert (int(record.amount), record.outcome) == (order["total"], "paid") and RefundRecord.count() == 0
    # WeChat, when asked, tells the same: the total, and what the customer paid of it.
    trade = sandbox().query(order["order_id"])
    assert trade is not None and (trade.amount, trade.payer_total, trade.voucher) == (
        order["total"], order["total"] - 1500, 1500)


def test_a_voucher_does_not_make_a_trade_of_the_wrong_total_right(customer, make_product, anonymous,  # type: ignore[no-untyped-def]
                                                                   staff) -> None:
    """The total decides, not what the customer paid: a trade whose `total` is below the order's
    is of the wrong amount with a voucher too, refunded (its total) and the order ended."""
    product, (sku,) = make_product(ticket_body([10]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 2))).json_body
    r = anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"amount": order["total"] - 100, "voucher": 100})
    assert r.json_body["notify_status"] == 204
    shown = alice.get(f"/orders/{order['order_id']}").json_body
    assert (shown["status"], shown["cancel_reason"]) == ("CANCELLED", "payment_amount_mismatch")
    (refund,) = approved_refunds()
    assert (int(refund.amount), refund.reason) == (order["total"] - 100, "amount_mismatch")
    assert TicketRecord.count() == 0 and available(staff("admin"), product["product_id"], sku) == 10


@pytest.mark.parametrize("voucher", [-1, "100"])
def test_a_sandbox_voucher_is_a_whole_number_of_fen(customer, make_product, anonymous, voucher) -> None:  # type: ignore[no-untyped-def]
    _, order = placed(customer, make_product, price=6000)
    r = anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"voucher": voucher})
    assert r.status_code == 400 and r.json_body["code"] == "VALIDATION_ERROR"
    assert status_of(order["order_id"]) == "PENDING_PAYMENT" and sandbox().trade_state(order["order_id"]) == "NOTPAY"


@pytest.mark.parametrize("voucher", [12000, 12001])
def test_a_sandbox_voucher_leaves_the_customer_at_least_a_fen_to_pay(customer, make_product, anonymous,
                                                                     voucher) -> None:  # type: ignore[no-untyped-def]
    """WeChat's vouchers need a threshold above their value: the customer pays at least 1 fen."""
    _, order = placed(customer, make_product, price=6000)
    assert order["total"] == 12000
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"voucher": voucher}).status_code == 200
    assert status_of(order["order_id"]) == "PAID"


def test_an_order_left_pending_by_a_wrong_amount_is_ended_when_the_expiry_finds_it_paid(
        customer, make_product, anonymous, staff) -> None:  # type: ignore[no-untyped-def]
    """Orders paid a wrong amount before they were ended this way: the refund is recorded, the
    order still pending. The expiry finds the trade paid and the notice a duplicate, and ends it."""
    from chalicelib.service_layer import schedule
    product, (sku,) = make_product(ticket_body([10]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 2))).json_body
    sandbox().pay(order["order_id"], 1, None, notify=False, transaction_id="4200MISMATCH2")
    ctx = bootstrap.context()
    uow = ctx.unit_of_work()
    ctx.payment_ledger.record(uow, "4200MISMATCH2", order["order_id"], 1, "refund_due", "EV-old", ctx.clock(),
                               ctx.clock())
    uow.commit()
    assert status_of(order["order_id"]) == "PENDING_PAYMENT"
    with clock_ahead(timedelta(minutes=16)) as later:
        expire_due(later)
    assert status_of(order["order_id"]) == "CANCELLED"
    assert available(staff("admin"), product["product_id"], sku) == 10


def approved_refunds() -> list[RefundRecord]:
    return [r for r in RefundRecord.scan() if r.status == "APPROVED"]


def test_money_for_an_order_no_longer_pending_is_refunded(customer, make_product, anonymous) -> None:  # type: ignore[no-untyped-def]
    alice, order = placed(customer, make_product)
    assert alice.post(f"/orders/{order['order_id']}/cancel").status_code == 200
    assert sandbox().trade_state(order["order_id"]) == "CLOSED"        # closed at WeChat before cancelling
    # WeChat refuses to take money for it now ...
    refused = anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    assert refused.status_code == 409 and refused.json_body["code"] == "TRADE_CLOSED"
    # ... and money that was on its way anyway (paid just before the close) is refunded.
    late = sandbox().payment_notice(order["order_id"], order["total"], None)
    assert notify(anonymous, late.headers, late.body).status_code == 204
    assert status_of(order["order_id"]) == "CANCELLED" and TicketRecord.count() == 0
    (refund,) = list(approved_refunds())
    assert refund.reason == "order_cancelled" and int(refund.amount) == order["total"]
    # a second payment of an already paid order goes back too
    _, other = placed(customer, make_product)
    anonymous.post(f"/dev/payments/{other['order_id']}/succeed", {})
    second = sandbox().payment_notice(other["order_id"], other["total"], None)
    assert notify(anonymous, second.headers, second.body).status_code == 204
    assert status_of(other["order_id"]) == "PAID"
    assert sorted(r.reason for r in approved_refunds()) == ["order_cancelled", "order_paid"]


def test_orders_larger_than_one_transaction_get_every_ticket_once(customer, make_product, anonymous,
                                                                 group_orders) -> None:  # type: ignore[no-untyped-def]
    _, (a, b) = make_product(ticket_body([200, 200]))
    alice = customer()
    order = alice.post("/orders", order_body((a, 99), (b, 80))).json_body
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
    record = OrderRecord.get(order["order_id"])
    assert int(record.tickets_total) == int(record.tickets_issued) == 179
    tickets = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    assert len(tickets) == 179 and len({t["code"] for t in tickets}) == 179


def test_issuing_cut_short_is_finished_by_the_redelivered_notice(customer, make_product, anonymous,
                                                                 monkeypatch, group_orders) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([300]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 99))).json_body
    real = payments._issue_rest
    monkeypatch.setattr(payments, "_issue_rest", lambda *args: None)   # the Lambda dies after the first batch
    notice = sandbox().payment_notice(order["order_id"], order["total"], None)
    assert notify(anonymous, notice.headers, notice.body).status_code == 204
    assert int(OrderRecord.get(order["order_id"]).tickets_issued) == 96     # 100 - order - payment - holds - one line
    monkeypatch.setattr(payments, "_issue_rest", real)
    assert notify(anonymous, notice.headers, notice.body).status_code == 204   # WeChat redelivers
    record = OrderRecord.get(order["order_id"])
    assert int(record.tickets_issued) == int(record.tickets_total) == 99
    assert len(list(TicketRecord.order_tickets_index.query(order["order_id"]))) == 99


def test_merch_for_pickup_gets_one_pickup_code(customer, make_product, anonymous, staff) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(merch_body([5]))
    alice = customer()
    order = alice.post("/orders", order_body((sku, 2))).json_body
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    shown = alice.get(f"/orders/{order['order_id']}").json_body
    assert shown["pickup"]["status"] == "VALID" and len(shown["pickup"]["code"]) == 14
    png = alice.get(f"/orders/{order['order_id']}/pickup/qr.png", headers={"Accept": "image/png"})
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(png.body)))[0].text == shown["pickup"]["qr"]
    assert alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"] == []
    # Staff see which code it is, never the code itself: goods go out against what the customer shows.
    for role in ("support", "finance", "admin"):
        seen = staff(role).get(f"/orders/{order['order_id']}").json_body["pickup"]
        assert seen == {"code": "****-****-" + shown["pickup"]["code"][-4:], "status": "VALID"}, role


def test_payment_metrics_are_emitted_as_emf(customer, make_product, anonymous, capsys) -> None:  # type: ignore[no-untyped-def]
    _, order = placed(customer, make_product, quantity=2)
    capsys.readouterr()
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    metrics = {m["Name"]: line[m["Name"]] for line in lines for d in line["_aws"]["CloudWatchMetrics"]
               for m in d["Metrics"]}
    assert metrics == {"OrdersPaid": [1.0], "GMV": [float(order["total"])], "TicketsIssued": [2.0]}
    assert {d["Namespace"] for line in lines for d in line["_aws"]["CloudWatchMetrics"]} == {"micromall"}
