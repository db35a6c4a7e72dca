"""Refunds as customers and staff see them: the request, staff review, and a retry of one that
failed. Sending them to WeChat and settling them on its word is refund_settlement.py."""
from __future__ import annotations

from typing import Callable

from ..domain import identifiers
from ..domain.after_sales import check_not_after_sales
from ..domain.commands import RefundRequest
from ..domain.error_codes import ErrorCode
from ..domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from ..domain.model import Order
from ..domain.refund_summary import contact_of, items_taken_back
from ..domain.refunds import (HELD_BY_WECHAT, Refund, RefundStatus, check_refund_transition, goods_handed_over,
                              goods_not_returned, not_refundable, outcome_of, plan_refund)
from ..domain.tickets import CodeKind, TicketStatus
from ..domain.transactions import MAX_ITEMS, approval_items
from . import ports
from .context import Actor
from .orders import own_order, visible_order
from .publishing import announce_refund_result, enqueue_refund
from .refund_returns import goods_still_its_own
from .refund_settlement import succeed
from .refunding import Refunding
from .tags import ItemTag, Tag
from .writes import commit


def _failed(refunds: list[Refund]) -> list[Refund]:
    """Refunds that failed and were not taken over: their codes may be asked for again."""
    return [r for r in refunds if r.status is RefundStatus.FAILED and not r.superseded_by]


def _resolve_failed(ctx: Refunding, failed: list[Refund]) -> set[str]:
    """Before a new refund takes over the codes of one that failed, WeChat is asked what became
    of the failed one: one it did pay back is settled now (the new request then finds nothing
    left), one it is still processing blocks the takeover, one whose money it holds (ABNORMAL,
    settled by hand) is never taken over, and only a refund WeChat never had, or closed, may be
    taken over. Unsure means no takeover."""
    takeable = set()
    for refund in failed:
        try:
            known = ctx.wechat_pay.query_refund(refund.out_refund_no)
        except ports.PaymentGatewayError:
            raise Conflict("the payment service is unavailable; try again shortly",
                           code=ErrorCode.PAYMENT_UNAVAILABLE) from None
        if known is not None and outcome_of(known.status) is RefundStatus.SUCCEEDED:
            succeed(ctx, refund, known.status)
        elif known is not None and known.status == "PROCESSING":
            raise Conflict("an earlier refund of this order is still being processed by WeChat Pay",
                           code=ErrorCode.INVALID_STATE, refund_id=refund.refund_id)
        elif (known is None and not refund.held_by_wechat) or (known is not None and known.status != HELD_BY_WECHAT):
            takeable.add(refund.refund_id)    # never one WeChat may still pay out: it held its money
    return takeable


def request_refund(ctx: Refunding, actor: Actor, order_id: str, request: RefundRequest) -> Refund:
    reason, ticket_ids = request.reason, request.ticket_ids
    order, _ = own_order(ctx, actor, order_id)
    earlier = ctx.refunds.of_order(order_id)
    failed = _resolve_failed(ctx, _failed(earlier))
    if _failed(earlier):
        order, _ = own_order(ctx, actor, order_id)      # as it is now that earlier failures are resolved
    now = ctx.clock()
    under_review = {code for r in earlier if r.status is RefundStatus.REQUESTED for code in r.ticket_codes}
    codes = ctx.tickets.of_order(order_id)
    check_not_after_sales(order, codes, ticket_ids)
    plan = plan_refund(order, codes, ticket_ids, order.merch_refund is not None, now,
                       reclaimable=failed, under_review=under_review)
    refund = Refund(refund_id=identifiers.new_reference("R"), order_id=order_id, amount=plan.amount,
                    total=order.total, status=RefundStatus.REQUESTED if plan.needs_review else RefundStatus.APPROVED,
                    reason=reason, source="customer", created_at=now, user_id=order.user_id,
                    transaction_id=order.transaction_id, out_trade_no=order.trade_no, ticket_codes=plan.codes, stock_lines=plan.stock_lines(),
                    claims_goods=bool(plan.merch_lines), review_reasons=plan.review_reasons,
                    items=items_taken_back(order, plan.tickets, plan.merch_lines), contact=contact_of(order))
    uow = ctx.unit_of_work()
    ctx.refunds.add(uow, refund, now)
    if plan.needs_review:
        if refund.claims_goods:
            ctx.orders.claim_goods(uow, order_id, refund.refund_id)
    else:
        _approval_writes(ctx, uow, refund, order, actor.name, goods_returned=False, failed=failed)
    _commit_approval(ctx, uow, refund)
    if refund.status is RefundStatus.APPROVED:
        enqueue_refund(ctx, refund.refund_id)
    return refund


def approve_for_the_venue(ctx: Refunding, refund: Refund, order: Order, by: str,
                          also: Callable[[ports.Writes], None]) -> Refund:
    """A refund the venue owes (a session it cancelled): APPROVED at once with no review, through
    the same approving transaction as any refund (its codes revoked there, the order claimed, never
    beyond what was paid) plus the caller's own writes (`also`), then the refunds queue; refused in
    the same words as a customer's request."""
    assert refund.status is RefundStatus.APPROVED and refund.ticket_codes
    uow = ctx.unit_of_work()
    ctx.refunds.add(uow, refund, ctx.clock())
    _approval_writes(ctx, uow, refund, order, by, goods_returned=False, failed=set())
    also(uow)
    _commit_approval(ctx, uow, refund)
    enqueue_refund(ctx, refund.refund_id)
    return refund


def approve_returned_goods(ctx: Refunding, uow: ports.Writes, refund: Refund, order: Order, by: str) -> None:
    """A return received under after-sales (service_layer/after_sales.py): its refund, APPROVED
    with its goods returned, added to the receiving transaction with the approving writes of any
    refund (the order claimed, never beyond what was paid). It returns no stock (`stock_lines`
    empty): the receipt restocked what it restocked. The caller commits, then enqueues it."""
    assert refund.status is RefundStatus.APPROVED and not refund.stock_lines and not refund.ticket_codes
    ctx.refunds.add(uow, refund, ctx.clock())
    _approval_writes(ctx, uow, refund, order, by, goods_returned=True, failed=set())


def _approval_writes(ctx: Refunding, uow: ports.Writes, refund: Refund, order: Order, by: str, goods_returned: bool,
                     failed: set[str]) -> None:
    """What approval takes back, in the approving transaction: the order enters REFUNDING
    (never beyond what was paid) and every code is revoked: unused, or taken over from a refund
    that failed (which then cannot be retried), or, with the goods back, a used pickup code."""
    now = ctx.clock()
    ctx.orders.claim_refund(uow, order, refund.refund_id, refund.amount, refund.claims_goods, goods_returned, now, by)
    codes = {t.code: t for t in ctx.tickets.of_order(order.order_id)}
    taken_over = {codes[c].revoked_by for c in refund.ticket_codes
                  if c in codes and codes[c].status is TicketStatus.REVOKED and codes[c].revoked_by in failed}
    if approval_items(len(refund.ticket_codes), len(taken_over)) > MAX_ITEMS:   # grown since it was planned
        raise RuleViolation("this refund now takes over too many earlier refunds to approve in one step; "
                            "ask for fewer tickets", code=ErrorCode.TOO_MANY_TICKETS, refund_id=refund.refund_id)
    for code in refund.ticket_codes:
        ctx.tickets.revoke(uow, code, refund.refund_id, now, take_over_from=failed, goods_returned=goods_returned)
    for previous in sorted(t for t in taken_over if t):
        ctx.refunds.supersede(uow, previous, refund.refund_id, now)


def _commit_approval(ctx: Refunding, uow: ports.Writes, refund: Refund) -> None:
    try:
        commit(uow)
    except ports.WriteRefused as refused:
        raise _why_refused(ctx, refused, refund) from None


def _why_refused(ctx: Refunding, refused: ports.WriteRefused, refund: Refund) -> Exception:
    """A refused approval in the customer's and staff's words, from the items as they were."""
    for tag in refused.failed:
        old = refused.old_items.get(tag)
        if ItemTag.TICKET.matches(tag):
            code = ctx.tickets.from_raw(old) if old else None
            if code is not None and code.kind is CodeKind.PICKUP and code.status is TicketStatus.REDEEMED:
                return goods_not_returned(refund_id=refund.refund_id)
            return not_refundable("a ticket was used or refunded meanwhile")
        if tag == Tag.ORDER:
            current = ctx.orders.from_raw(old) if old else None
            if current is not None and current.shipment and refund.claims_goods:
                return goods_not_returned(refund_id=refund.refund_id)
            return Conflict("this order changed meanwhile, or its goods are already being refunded",
                            code=ErrorCode.INVALID_STATE)
        if tag == Tag.REFUND or ItemTag.SUPERSEDED.matches(tag):
            return Conflict("the refund changed meanwhile", code=ErrorCode.INVALID_STATE)
        if ItemTag.UNITS.matches(tag):
            return Conflict("these goods are under after-sales: they come back, and are refunded, there",
                            code=ErrorCode.USE_AFTER_SALES, refund_id=refund.refund_id)
    return refused


def _existing(ctx: Refunding, refund_id: str) -> Refund:
    refund = ctx.refunds.get(refund_id) if 2 <= len(refund_id) <= 40 else None
    if refund is None:
        raise NotFound("no such refund", code=ErrorCode.REFUND_NOT_FOUND, refund_id=refund_id)
    return refund


def _order_of(ctx: Refunding, refund: Refund) -> Order:
    found = ctx.orders.get(refund.order_id)
    if found is None:
        raise Conflict("the refund's order is gone", code=ErrorCode.INVALID_STATE)
    return found[0]


def approve_refund(ctx: Refunding, actor: Actor, refund_id: str, goods_returned: bool = False) -> Refund:
    """Finance approves a reviewed refund. Goods the customer already has (pickup code used, or
    shipped) are refunded only once staff confirm they came back."""
    refund = _existing(ctx, refund_id)
    check_refund_transition(refund.status, RefundStatus.APPROVED)
    failed = _resolve_failed(ctx, _failed(ctx.refunds.of_order(refund.order_id)))
    order = _order_of(ctx, refund)
    pickup = ctx.tickets.by_code(order.pickup_code) if refund.claims_goods and order.pickup_code else None
    if refund.claims_goods and not goods_returned and goods_handed_over(order, pickup):
        raise goods_not_returned(refund_id=refund_id)
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.refunds.move(uow, refund, RefundStatus.APPROVED, now, decided_by=actor.name,
                     goods_returned=goods_returned or None)
    _approval_writes(ctx, uow, refund, order, actor.name, goods_returned, failed)
    ctx.audit.record(actor.name, "refund_approved", now, target=refund_id, source_ip=actor.source_ip,
                     details={"order_id": refund.order_id, "amount": refund.amount,
                              "goods_returned": goods_returned}, uow=uow)
    _commit_approval(ctx, uow, refund)
    refund.status, refund.decided_by, refund.goods_returned = RefundStatus.APPROVED, actor.name, goods_returned
    enqueue_refund(ctx, refund.refund_id)
    return refund


def reject_refund(ctx: Refunding, actor: Actor, refund_id: str, reason: str) -> Refund:
    refund = _existing(ctx, refund_id)
    check_refund_transition(refund.status, RefundStatus.REJECTED)
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.refunds.move(uow, refund, RefundStatus.REJECTED, now, decided_by=actor.name, reject_reason=reason)
    if refund.claims_goods:
        ctx.orders.release_goods(uow, refund.order_id, refund.refund_id)
    ctx.audit.record(actor.name, "refund_rejected", now, target=refund_id, source_ip=actor.source_ip,
                     details={"order_id": refund.order_id, "reason": reason}, uow=uow)
    _commit_approval(ctx, uow, refund)
    refund.status, refund.decided_by, refund.reject_reason = RefundStatus.REJECTED, actor.name, reason
    announce_refund_result(ctx, refund.refund_id, refund.order_id, RefundStatus.REJECTED.value)
    return refund


def retry_refund(ctx: Refunding, actor: Actor, refund_id: str) -> Refund:
    """A FAILED refund is sent again. WeChat is asked first what became of it: confirmed after
    all (settled now), still processing (waited for), unknown (sent again under the same
    number, which WeChat keeps to one refund), closed (sent under a new number, as WeChat's
    documentation says), or ABNORMAL: never sent again, because WeChat holds that money and
    pays it out once staff settle it by hand; it completes here when WeChat reports so. The
    codes it took back are still its own: a newer refund that took them over marked it
    superseded, which the move below is conditional on."""
    refund = _existing(ctx, refund_id)
    if refund.held_by_wechat and refund.status is RefundStatus.PROCESSING:
        raise _held(refund)
    if refund.status is not RefundStatus.FAILED or refund.superseded_by:
        raise Conflict(f"only a failed refund can be retried; this one is {refund.status.value}"
                       + (f", taken over by {refund.superseded_by}" if refund.superseded_by else ""),
                       code=ErrorCode.INVALID_STATE, status=refund.status.value)
    try:
        known = ctx.wechat_pay.query_refund(refund.out_refund_no)
    except ports.PaymentGatewayError:
        raise Conflict("the payment service is unavailable; try again shortly",
                       code=ErrorCode.PAYMENT_UNAVAILABLE) from None
    if known is not None and outcome_of(known.status) is RefundStatus.SUCCEEDED:
        succeed(ctx, refund, known.status)
        return ctx.refunds.get(refund_id) or refund
    if known is not None and known.status == HELD_BY_WECHAT:
        raise _held(refund)
    now = ctx.clock()
    waiting = known is not None and known.status == "PROCESSING"
    target = RefundStatus.PROCESSING if waiting else RefundStatus.APPROVED
    number = refund.out_refund_no if known is None or waiting else refund.next_out_refund_no()
    uow = ctx.unit_of_work()
    ctx.refunds.move(uow, refund, target, now, out_refund_no=number, last_error=None, queries=0,
                     gateway_status=None, next_query_at=now + ctx.refund_query_after)
    if refund.returns_goods_and_stock:
        order = _order_of(ctx, refund)
        ctx.orders.claim_refund(uow, order, refund.refund_id, refund.amount, refund.claims_goods,
                                refund.goods_returned, now, actor.name)
        goods_still_its_own(ctx, uow, refund, order)
    for code in refund.ticket_codes:        # never paid again for a visitor an offline gate let in since
        ctx.tickets.not_admitted_since_revoked(uow, code)
    ctx.audit.record(actor.name, "refund_retried", now, target=refund_id, source_ip=actor.source_ip,
                     details={"order_id": refund.order_id, "out_refund_no": number}, uow=uow)
    _commit_approval(ctx, uow, refund)
    if target is RefundStatus.APPROVED:
        enqueue_refund(ctx, refund.refund_id)
    refund.status, refund.out_refund_no = target, number
    return refund


def _held(refund: Refund) -> Conflict:
    return Conflict("WeChat Pay holds this refund's money (ABNORMAL: the customer's card was closed or frozen); "
                   "settle it in the merchant platform (交易中心, 异常退款), and it completes here by itself",
                   code=ErrorCode.REFUND_ABNORMAL, refund_id=refund.refund_id)


def list_refunds(ctx: Refunding, status: str | None, limit: int, cursor: str | None) -> ports.Page:
    status = status or RefundStatus.REQUESTED.value
    if status not in RefundStatus.__members__:
        raise InvalidInput(f"status must be one of {', '.join(RefundStatus.__members__)}", field="status")
    return ctx.refunds.page(status, limit, cursor)


def refunds_of_order(ctx: Refunding, actor: Actor, order_id: str) -> list[Refund]:
    visible_order(ctx, actor, order_id)
    return ctx.refunds.of_order(order_id)

