"""Local stage only: app.py registers this blueprint when STAGE is local, never in a deployed stage."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from ..bootstrap import context
from ..domain import identifiers
from ..domain.error_codes import ErrorCode
from ..domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ..domain.validation import Fields
from ..lazy import LazyModule
from ..service_layer import payments, refund_queries, schedule
from .errors import STATUS
from .http import Call, endpoint

if TYPE_CHECKING:
    from ..adapters.payment_sandbox import SandboxGateway, SignedNotice

bp = Blueprint(__name__)
# The sandbox (requests, cryptography, PynamoDB) loads with the first /dev/ request: the local
# stage's tests import app.py as a cold start does (tests/unit/test_cold_start.py).
sandbox = LazyModule("..adapters.payment_sandbox", __package__)
messages_sandbox = LazyModule("..adapters.wechat_messages_sandbox", __package__)


def _sandbox() -> SandboxGateway:
    gateway = context().wechat_pay
    if not isinstance(gateway, sandbox.SandboxGateway):
        raise NotFound("no such route", code=ErrorCode.NOT_FOUND)
    return gateway


def _deliver(notice: SignedNotice) -> int:
    """What the notify endpoint answered WeChat: 204 when handled, the error's status if not."""
    receive = payments.receive_notification if notice.path.endswith("/notify") else \
        refund_queries.receive_refund_notification
    try:
        receive(context(), notice.headers, notice.body)
    except DomainError as error:
        return next((s for cls, s in STATUS.items() if isinstance(error, cls)), 400)
    return 204


def _optional_body(call: Call) -> Fields:
    return Fields(call.body() if (call.request.raw_body or b"").strip() else {})


# `"voucher"` (fen), a body field beyond API.md's (local only; /openapi.json lists it): a WeChat
# Pay voucher (代金券/优惠券 of WeChat's own marketing, here 免充值型: funded by the merchant) that
# pays that much of the trade. The trade's `amount.total` stays the order's total (or `"amount"`),
# the notice's `payer_total` is the total less the voucher and its `promotion_detail` names the
# voucher; the sandbox's bill shows it as 代金券金额, with 应结订单金额 = 订单金额 - voucher. The
# customer pays at least 1 fen (WeChat's vouchers need a threshold above their value): a larger
# voucher is taken as the trade's total less 1 fen.
@endpoint(bp, "POST", "/dev/payments/{order_id}/succeed")
def pay_in_sandbox(call: Call, order_id: str) -> dict[str, Any]:
    """The customer pays the order's trade at WeChat, and WeChat's signed, encrypted notice goes
    to the same handler as a real one (unless `notify` is false: the notice is lost). The same
    transaction and notification id again is what WeChat's redelivery looks like."""
    body = _optional_body(call)
    amount = body.integer("amount", minimum=1, maximum=10 ** 9, required=False)
    voucher = body.integer("voucher", minimum=0, maximum=10 ** 9, default=0, required=False) or 0
    transaction_id = body.string("transaction_id", required=False, max_len=32)
    notification_id = body.string("notification_id", required=False, max_len=64)
    notify = body.boolean("notify", default=True)
    if not identifiers.OUT_TRADE_NO.match(order_id):
        raise InvalidInput("an out_trade_no is 6 to 32 letters, digits, _ or -", field="order_id")
    # An order id pays its open attempt; an attempt's out_trade_no pays that attempt, at what it
    # was prepaid for (an order's earlier attempt was for its earlier total).
    attempt = identifiers.attempt_of(order_id)
    found = context().orders.get(attempt[0]) if attempt else None
    trade_no = found[0].trade_no if found is not None and identifiers.ORDER_ID.match(order_id) else order_id
    if found is None and amount is None:
        if notify:
            raise NotFound("no such order", code=ErrorCode.ORDER_NOT_FOUND, order_id=order_id)
        raise InvalidInput("a trade micromall never saw needs an amount", field="amount")
    gateway = _sandbox()
    named = None if identifiers.ORDER_ID.match(order_id) else gateway.peer.trade(trade_no)
    total = amount if amount is not None else int(named.amount) if named is not None and named.amount \
        else found[0].total  # type: ignore[index]
    # The customer pays at least 1 fen: a voucher as large as the trade leaves them that fen.
    voucher = min(voucher, max(total - 1, 0))
    try:
        notice = gateway.pay(trade_no, total, None, notify=notify, transaction_id=transaction_id,
                             notification_id=notification_id, voucher=voucher)
    except sandbox.TradeClosed as closed:
        raise Conflict(f"WeChat Pay refuses the payment: {closed}", code=ErrorCode.TRADE_CLOSED) from None
    return {"notify_status": _deliver(notice) if notice else None, "out_trade_no": trade_no, "amount": total}


@endpoint(bp, "GET", "/dev/payments/refunds")
def sandbox_refunds(call: Call) -> dict[str, Any]:
    return {"items": _sandbox().refunds()}


@endpoint(bp, "POST", "/dev/payments/refund-outcomes")
def refund_outcomes(call: Call) -> dict[str, Any]:
    """How the sandbox answers the next refund requests, in order; then SUCCESS again."""
    body = Fields(call.body())
    outcomes = body.strings("outcomes", max_items=100, max_len=20, required=True)
    if any(o not in sandbox.REFUND_OUTCOMES for o in outcomes):
        raise InvalidInput(f"outcomes are {', '.join(sandbox.REFUND_OUTCOMES)}", field="outcomes")
    _sandbox().set_refund_outcomes(outcomes)
    return {"outcomes": outcomes}


@endpoint(bp, "POST", "/dev/payments/refunds/{out_refund_no}/notify")
def refund_notice_now(call: Call, out_refund_no: str) -> dict[str, Any]:
    """WeChat decides a refund now and sends its notice to the refund notify endpoint."""
    status = Fields(call.body()).choice("status", sandbox.REFUND_NOTICE_STATES)
    gateway = _sandbox()
    if out_refund_no not in {r["out_refund_no"] for r in gateway.refunds()}:
        raise NotFound("the sandbox has no such refund", code=ErrorCode.REFUND_NOT_FOUND, out_refund_no=out_refund_no)
    notice = gateway.refund_notice_now(out_refund_no, status or "SUCCESS")
    if notice is None:
        raise Conflict("that refund was already decided otherwise", code=ErrorCode.INVALID_STATE)
    return {"notify_status": _deliver(notice)}


def _messages_peer() -> Any:
    messenger = context().messenger
    if not isinstance(messenger, messages_sandbox.SandboxMessages):
        raise NotFound("no such route", code=ErrorCode.NOT_FOUND)
    return messenger.peer


@endpoint(bp, "GET", "/dev/wechat/messages")
def sandbox_messages(call: Call) -> dict[str, Any]:
    return {"items": list(_messages_peer().received)}


@endpoint(bp, "POST", "/dev/wechat/messages/outcomes")
def message_outcomes(call: Call) -> dict[str, Any]:
    """How WeChat answers the next subscribe messages, in order; then ok again."""
    outcomes = Fields(call.body()).strings("outcomes", max_items=100, max_len=10, required=True)
    if any(o not in messages_sandbox.OUTCOMES for o in outcomes):
        raise InvalidInput(f"outcomes are {', '.join(messages_sandbox.OUTCOMES)}", field="outcomes")
    _messages_peer().set_outcomes(outcomes)
    return {"outcomes": outcomes}


@endpoint(bp, "POST", "/dev/schedule/run")
def run_schedule(call: Call) -> dict[str, Any]:
    """Runs the every-minute jobs now (the local pump also ticks them every LOCAL_SCHEDULE_SECONDS)."""
    return schedule.run(context())
