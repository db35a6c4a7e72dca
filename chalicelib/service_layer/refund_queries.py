"""What WeChat tells of refunds unasked (its REFUND.* notices) and what the schedule asks it
(refunds whose notice has not come, refunds it holds): both applied by the settlement, once."""
from __future__ import annotations

import logging
from typing import Mapping

from ..domain.error_codes import ErrorCode
from ..domain.errors import DomainError, NotAuthenticated
from ..domain.payments import RefundNotice
from ..domain.refunds import HELD_BY_WECHAT, RefundStatus, outcome_of, query_delay, refund_id_of
from . import ports
from .publishing import send_alert
from .refund_settlement import SettlementOutcome, apply_outcome
from .refunding import Refunding
from .tags import Tag
from .writes import commit

log = logging.getLogger("micromall.refunds")
QUERIES_PER_RUN = 20
# A question whose answer moved the refund on: it is not due to be asked again.
MOVED_ON = frozenset({SettlementOutcome.SUCCEEDED, SettlementOutcome.FAILED, SettlementOutcome.HELD,
                      SettlementOutcome.CONFLICT})


def receive_refund_notification(ctx: Refunding, headers: Mapping[str, str], body: str) -> None:
    """POST /payments/wechat/refund-notify: verified and decrypted by the same code as payment
    notices; one effect however often WeChat sends it."""
    try:
        notice = ctx.wechat_pay.parse_notification(headers, body, ctx.clock().timestamp())
    except ports.NotificationRejected as rejected:
        log.warning("refund notification rejected: %s", rejected)
        raise NotAuthenticated("signature verification failed", code=ErrorCode.FAIL) from None
    if not isinstance(notice, RefundNotice):
        return
    refund = ctx.refunds.get(refund_id_of(notice.out_refund_no))
    if refund is None or refund.out_refund_no != notice.out_refund_no:
        # Not ours, or an older number of one of ours: money moved that no refund here expects.
        if notice.refund_status == "SUCCESS":
            send_alert(ctx, "refund_unexpected", f"WeChat Pay refunded {notice.out_refund_no} of order "
                       f"{notice.out_trade_no}, which no refund here is waiting for", severity="critical",
                       out_refund_no=notice.out_refund_no, order_id=notice.out_trade_no, amount=notice.amount)
        return
    if notice.amount != refund.amount:
        send_alert(ctx, "refund_amount_mismatch", f"refund {refund.refund_id}: WeChat Pay reports {notice.amount} fen,"
                   f" we asked for {refund.amount}", severity="critical", refund_id=refund.refund_id,
                   order_id=refund.order_id)
    apply_outcome(ctx, refund, notice.refund_status)


def query_processing_refunds(ctx: Refunding) -> int:
    """The schedule asks WeChat about refunds it has still to decide, a bounded number per run,
    each at doubling intervals: those whose notice has not come (one WeChat never received is
    sent again: its message was lost), and ABNORMAL ones, until staff settle them by hand and
    WeChat reports SUCCESS. One refund's trouble (WeChat unreachable, a malformed answer, a
    busy order) is that refund's, asked about again later; the rest go on."""
    now = ctx.clock()
    asked = 0
    for refund in ctx.refunds.processing_due(now, QUERIES_PER_RUN):
        asked += 1
        try:
            known = ctx.wechat_pay.query_refund(refund.out_refund_no)
            if known is not None and (outcome_of(known.status) is not None or known.status == HELD_BY_WECHAT):
                if apply_outcome(ctx, refund, known.status) in MOVED_ON:
                    continue          # not due again

            if known is None and refund.status is RefundStatus.PROCESSING and not refund.held_by_wechat:
                ctx.messages.refund_approved(refund.refund_id)
        except ports.PaymentGatewayError:
            log.warning("could not ask WeChat Pay about refund %s", refund.refund_id)
        except DomainError as error:       # this one settles on its next question; the rest go on
            log.warning("refund %s not settled this time: %s", refund.refund_id, error.message)
        except Exception:                  # noqa: BLE001 - one refund's trouble never stops the run
            log.exception("refund %s could not be settled this time", refund.refund_id)
        uow = ctx.unit_of_work()
        ctx.refunds.ask_again(uow, refund, refund.queries + 1,
                              now + query_delay(refund.queries + 1, ctx.refund_query_after))
        commit(uow, {Tag.REFUND: None})
    return asked
