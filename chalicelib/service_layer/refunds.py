"""Refunds: the customer's request, staff review, and the worker that sends them to the gateway."""
from __future__ import annotations

from typing import Protocol

from ..domain import identifiers
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.refunds import (Refund, RefundStatus, check_refund_transition, not_refundable, plan_refund,
                              settled_status)
from ..domain.validation import Fields
from . import ports
from .context import Actor
from .orders import Ordering, own_order, visible_order
from .publishing import announce_stock_change, enqueue_refund, send_alert
from .writes import commit


class Refunding(Ordering, Protocol):
    """What the refund use cases touch."""
    @property
    def refunds(self) -> ports.RefundStore: ...
    @property
    def refund_max_attempts(self) -> int: ...


def _changed_meanwhile(_: str) -> Conflict:
    return Conflict("this order changed meanwhile, or its goods are already being refunded", code="INVALID_STATE")


# How a refused refund write is explained, whoever makes it.
_REFUND_WRITES = {"ticket:": lambda _: not_refundable("a ticket was used meanwhile"), "order": _changed_meanwhile,
                  "refund": lambda _: Conflict("the refund changed meanwhile", code="INVALID_STATE")}


def request_refund(ctx: Refunding, actor: Actor, order_id: str, body: object) -> Refund:
    f = Fields(body)
    reason = f.string("reason", max_len=200) or ""
    ticket_ids = f.strings("ticket_ids", max_items=200, max_len=40) if f.has("ticket_ids") else None
    order, _ = own_order(ctx, actor, order_id)
    now = ctx.clock()
    plan = plan_refund(order, ctx.tickets.of_order(order_id), ticket_ids, order.merch_refund is not None, now)
    refund = Refund(refund_id=identifiers.new_reference("R"), order_id=order_id, amount=plan.amount,
                    total=order.total, status=RefundStatus.REQUESTED if plan.needs_review else RefundStatus.APPROVED,
                    reason=reason, source="customer", created_at=now, user_id=order.user_id,
                    transaction_id=order.transaction_id, ticket_codes=[t.code for t in plan.tickets],
                    stock_lines=plan.stock_lines())
    uow = ctx.unit_of_work()
    ctx.refunds.add(uow, refund, now)
    if plan.needs_review:
        ctx.orders.claim_goods(uow, order_id, refund.refund_id)
    else:
        _approval_writes(ctx, uow, refund, actor.name)
    commit(uow, _REFUND_WRITES)
    if refund.status is RefundStatus.APPROVED:
        enqueue_refund(ctx, refund.refund_id)
    return refund


def _approval_writes(ctx: Refunding, uow: ports.Writes, refund: Refund, by: str) -> None:
    """Approval: the order enters REFUNDING (never beyond what was paid) and the tickets are
    revoked, conditional on each still being unused."""
    ctx.orders.claim_refund(uow, refund.order_id, refund.amount, refund.total, None, ctx.clock(), by)
    for code in refund.ticket_codes:
        ctx.tickets.revoke(uow, code)


def _existing(ctx: Refunding, refund_id: str) -> Refund:
    refund = ctx.refunds.get(refund_id) if 2 <= len(refund_id) <= 40 else None
    if refund is None:
        raise NotFound("no such refund", code="REFUND_NOT_FOUND", refund_id=refund_id)
    return refund


def approve_refund(ctx: Refunding, actor: Actor, refund_id: str) -> Refund:
    refund = _existing(ctx, refund_id)
    check_refund_transition(refund.status, RefundStatus.APPROVED)
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.refunds.move(uow, refund, RefundStatus.APPROVED, now, decided_by=actor.name)
    _approval_writes(ctx, uow, refund, actor.name)
    ctx.audit.record(actor.name, "refund_approved", now, target=refund_id, source_ip=actor.source_ip,
                     details={"order_id": refund.order_id, "amount": refund.amount}, uow=uow)
    commit(uow, _REFUND_WRITES)
    refund.status, refund.decided_by = RefundStatus.APPROVED, actor.name
    enqueue_refund(ctx, refund.refund_id)
    return refund


def reject_refund(ctx: Refunding, actor: Actor, refund_id: str, body: object) -> Refund:
    reason = Fields(body).string("reason", max_len=200) or ""
    refund = _existing(ctx, refund_id)
    check_refund_transition(refund.status, RefundStatus.REJECTED)
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.refunds.move(uow, refund, RefundStatus.REJECTED, now, decided_by=actor.name, reject_reason=reason)
    ctx.orders.release_goods(uow, refund.order_id, refund.refund_id)
    ctx.audit.record(actor.name, "refund_rejected", now, target=refund_id, source_ip=actor.source_ip,
                     details={"order_id": refund.order_id, "reason": reason}, uow=uow)
    commit(uow, _REFUND_WRITES)
    refund.status, refund.decided_by, refund.reject_reason = RefundStatus.REJECTED, actor.name, reason
    return refund


def list_refunds(ctx: Refunding, status: str | None, limit: int, cursor: str | None) -> ports.Page:
    status = status or RefundStatus.REQUESTED.value
    if status not in RefundStatus.__members__:
        raise InvalidInput(f"status must be one of {', '.join(RefundStatus.__members__)}", field="status")
    return ctx.refunds.page(status, limit, cursor)


def refunds_of_order(ctx: Refunding, actor: Actor, order_id: str) -> list[Refund]:
    visible_order(ctx, actor, order_id)
    return ctx.refunds.of_order(order_id)


def process_refund(ctx: Refunding, refund_id: str, attempt: int) -> str:
    """The refunds worker: APPROVED -> PROCESSING -> the gateway (out_refund_no = refund_id, so
    a redelivery never refunds twice) -> SUCCEEDED, returning stock in the same transaction,
    conditional on the refund's state, so it comes back exactly once. A gateway failure raises
    (the message is retried with backoff); the last attempt marks the refund FAILED."""
    refund = ctx.refunds.get(refund_id)
    if refund is None or refund.status not in (RefundStatus.APPROVED, RefundStatus.PROCESSING):
        return "skipped"
    if refund.status is RefundStatus.APPROVED:
        uow = ctx.unit_of_work()
        ctx.refunds.move(uow, refund, RefundStatus.PROCESSING, ctx.clock())
        if not commit(uow, {"refund": None}):
            return process_refund(ctx, refund_id, attempt)   # another worker moved it: look again
        refund.status = RefundStatus.PROCESSING
    try:
        result = ctx.payments.refund(refund.refund_id, refund.order_id, refund.amount, refund.total, refund.reason)
    except ports.PaymentGatewayError as error:
        if attempt >= ctx.refund_max_attempts:
            fail_refund(ctx, refund, str(error))
        raise
    return _settle(ctx, refund, result.status)


def _settle(ctx: Refunding, refund: Refund, gateway_status: str) -> str:
    now = ctx.clock()
    uow = ctx.unit_of_work()
    ctx.refunds.move(uow, refund, RefundStatus.SUCCEEDED, now, gateway_status=gateway_status)
    counted: set[str] = set()
    if refund.returns_goods_and_stock:
        found = ctx.orders.get(refund.order_id)
        counted = found[1] if found else set()
        ctx.orders.settle_refund(uow, refund.order_id, refund.amount)
        for sku_id, quantity in refund.stock_lines:
            ctx.stock.give_back_sold(uow, sku_id, quantity, refund.refund_id, now)
            product_id = identifiers.product_id_of(sku_id)
            if product_id in counted and refund.user_id:
                ctx.counters.give_back(uow, refund.user_id, product_id, quantity)
    if not commit(uow, {"refund": None}):
        return "skipped"       # settled by a concurrent delivery
    ctx.metrics.count("Refunds", result="succeeded")
    if refund.returns_goods_and_stock:
        found = ctx.orders.get(refund.order_id)
        if found and found[0].refunds_in_flight == 0:
            order = found[0]
            finish = ctx.unit_of_work()
            ctx.orders.finish_refunds(finish, order.order_id,
                                      settled_status(order.total, order.refunded_total), now)
            commit(finish, {"order": None})
        announce_stock_change(ctx, [sku for sku, _ in refund.stock_lines])
    return "succeeded"


def fail_refund(ctx: Refunding, refund: Refund, error: str) -> None:
    """The last attempt: the refund is FAILED, finance is alerted; the message still fails so
    that it lands in the dead-letter queue for inspection."""
    uow = ctx.unit_of_work()
    ctx.refunds.move(uow, refund, RefundStatus.FAILED, ctx.clock(), last_error=error[:500])
    if refund.returns_goods_and_stock:
        ctx.orders.abandon_refund(uow, refund.order_id)
    if not commit(uow, {"refund": None, "order": None}):
        return
    ctx.metrics.count("Refunds", result="failed")
    send_alert(ctx, "refund_failed", f"refund {refund.refund_id} of order {refund.order_id} failed",
               severity="critical", refund_id=refund.refund_id, order_id=refund.order_id, amount=refund.amount,
               error=error[:200])
