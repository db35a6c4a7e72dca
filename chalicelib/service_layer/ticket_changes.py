"""Changing a paid ticket: 改签 to another session, and its real-name visitor. Each is one
transaction, conditional on the ticket still being VALID, so that a scan, a refund or another
change racing it either comes first (and this one is refused) or finds it changed."""
from __future__ import annotations

import logging
from typing import Protocol

from ..domain import identifiers
from ..domain.error_codes import ErrorCode
from ..domain.errors import Busy, Conflict, DomainError, NotFound
from ..domain.model import RESCHEDULED_IN, RESCHEDULED_OUT, Order, Product, Sku
from ..domain.notifications import session_day
from ..domain.refunds import RefundStatus
from ..domain.ticket_changes import (NotReschedulable, Reschedule, VisitorChange, check_no_duplicate, check_order,
                                     check_reschedule, check_ticket_unused, check_visitor_change, not_reschedulable,
                                     rescheduled, return_bucket, revocation_ref, take_bucket)
from ..domain.tickets import CodeKind, Ticket
from . import ports
from .context import Actor
from .notifications import Notifying, keep_reminders
from .orders import visible_order
from .refunding import Refunding
from .retrying import attempts
from .tags import ItemTag
from .writes import commit

log = logging.getLogger("micromall.ticket_changes")
RESCHEDULE_ATTEMPTS = 3          # a sharded session's bucket emptied between the read and the write


class ChangingTickets(Refunding, Notifying, Protocol):
    """The order, its tickets and refunds, the catalog and stock, the QR signer, the audit log, and
    the reminders of sessions."""


def _acting_on(ctx: ChangingTickets, actor: Actor, order_id: str, ticket_id: str) -> tuple[Order, Ticket,
                                                                                          list[Ticket]]:
    """The order (its owner's, or any for support and admin: the access table says who), the
    admission named in it, and the order's other codes. 404 for anything not there or not yours."""
    order, _ = visible_order(ctx, actor, order_id)
    codes = ctx.tickets.of_order(order.order_id)
    ticket = next((t for t in codes if t.ticket_id == ticket_id and t.kind is CodeKind.TICKET), None)
    if ticket is None:
        raise NotFound("no such ticket in this order", code=ErrorCode.TICKET_NOT_FOUND, ticket_id=ticket_id)
    return order, ticket, codes


def _not_under_review(ctx: ChangingTickets, ticket: Ticket) -> None:
    """A ticket a refund request waits on stays as it is until staff decide (an approval would
    otherwise find it gone)."""
    if any(r.status is RefundStatus.REQUESTED and ticket.code in r.ticket_codes
           for r in ctx.refunds.of_order(ticket.order_id)):
        raise not_reschedulable(NotReschedulable.UNDER_REFUND, "a refund of this ticket waits for review",
                                ticket_id=ticket.ticket_id)


def _sessions(ctx: ChangingTickets, ticket: Ticket, sku_id: str) -> tuple[Sku, Sku, Product]:
    """The ticket's session and the one asked for, read together (one batched read, shards
    included), and the product of the one asked for."""
    found = ctx.stock.skus([ticket.sku_id, sku_id]) if identifiers.SKU_ID.match(sku_id) else {}
    target = found.get(sku_id)
    product = ctx.catalog.product(target.product_id) if target is not None else None
    if target is None or product is None:
        raise NotFound(f"SKU {sku_id} does not exist", code=ErrorCode.SKU_NOT_FOUND, sku_id=sku_id)
    current = found.get(ticket.sku_id)
    if current is None:
        raise Conflict("this ticket's session no longer exists", code=ErrorCode.INVALID_STATE)
    return current, target, product


def reschedule(ctx: ChangingTickets, actor: Actor, order_id: str, ticket_id: str, request: Reschedule) -> Ticket:
    """改签: in ONE transaction the old code is revoked (conditional on VALID, listed in the
    gates' offline pack as any revoked code), the new one issued, one unit sold in the new
    session (conditional on one being free) and one back on sale in the old, each with its
    movement, and the audit record. A sharded session whose bucket emptied meanwhile is read
    again; a session with nothing free is SOLD_OUT."""
    by_staff = actor.principal.is_staff
    for _ in attempts(RESCHEDULE_ATTEMPTS):
        order, ticket, codes = _acting_on(ctx, actor, order_id, ticket_id)
        check_order(order.status)
        check_ticket_unused(ticket)
        current, target, product = _sessions(ctx, ticket, request.sku_id)
        now = ctx.clock()
        check_reschedule(ticket, current, target, product, now, by_staff)
        _not_under_review(ctx, ticket)
        if target.available < 1:
            raise _sold_out(target)
        new = rescheduled(ticket, target, now, by_staff)
        check_no_duplicate(new, target.sku_id, new.visitor, new.visitor_key, codes)
        new.qr = ctx.qr.sign(new)
        uow = ctx.unit_of_work()
        ctx.tickets.revoke(uow, ticket.code, revocation_ref(new.ticket_id), now, visitor_as_read=ticket)
        ctx.tickets.add(uow, new)
        ctx.stock.sell_unit(uow, target.sku_id, take_bucket(target), order.order_id, RESCHEDULED_IN, now)
        ctx.stock.unsell_unit(uow, ticket.sku_id, return_bucket(ticket, order), order.order_id, RESCHEDULED_OUT, now)
        ctx.audit.record(actor.name, "ticket_rescheduled", now, target=ticket.ticket_id, source_ip=actor.source_ip,
                         details={"order_id": order.order_id, "from_sku": ticket.sku_id, "to_sku": target.sku_id,
                                  "new_ticket_id": new.ticket_id, "by_staff": by_staff}, uow=uow)
        try:
            commit(uow)
        except ports.WriteRefused as refused:
            if _read_again(ctx, refused, ticket, target):
                continue
            raise
        if new.session is not None:          # the day before the new session, its reminder
            try:                             # the move is made: a lost reminder must not fail it
                keep_reminders(ctx, order.order_id, {session_day(new.session.start, ctx.venue_timezone): [new.sku_id]})
            except Exception:
                log.exception("could not keep the reminder of ticket %s", new.ticket_id)
        return new
    raise Busy("the session kept changing; please try again")


def _sold_out(target: Sku) -> Conflict:
    return Conflict(f"{target.name} is sold out", code=ErrorCode.SOLD_OUT, sku_id=target.sku_id, available=0)


def _read_again(ctx: ChangingTickets, refused: ports.WriteRefused, ticket: Ticket, target: Sku) -> bool:
    """A refused reschedule in the caller's words: the old ticket used or taken back meanwhile
    (said from the item as it was), the new session sold out (a sharded one whose bucket
    emptied is read again: True). Anything else propagates."""
    for tag in refused.failed:
        if tag == ItemTag.TICKET.of(ticket.code):
            old = refused.old_items.get(tag)
            check_ticket_unused(ctx.tickets.from_raw(old) if old else ticket)
            raise Conflict("this ticket changed meanwhile", code=ErrorCode.INVALID_STATE)
        if tag == ItemTag.SKU.of(target.sku_id):
            if target.sharded:
                return True
            raise _sold_out(target)
        if tag == ItemTag.SKU.of(ticket.sku_id):
            return True         # the old session's counts moved under a lagging read: read again
    return False


def change_visitor(ctx: ChangingTickets, actor: Actor, order_id: str, ticket_id: str,
                   change: VisitorChange) -> Ticket:
    """The real-name visitor of an unused ticket, before its session starts; one person holds
    at most one VALID ticket of a session in an order. The ID number is encrypted at rest with
    a blind index to find duplicates by; the QR does not name the visitor, so it is not signed
    again. Conditional on the ticket still being VALID; audited."""
    order, ticket, codes = _acting_on(ctx, actor, order_id, ticket_id)
    check_order(order.status)
    now = ctx.clock()
    check_visitor_change(ticket, now)
    visitor, key = change.shown(), ctx.cipher.blind_index(change.identity)
    check_no_duplicate(ticket, ticket.sku_id, visitor, key, codes)
    uow = ctx.unit_of_work()
    ctx.tickets.change_visitor(uow, ticket.code, visitor, key)
    ctx.audit.record(actor.name, "ticket_visitor_changed", now, target=ticket.ticket_id, source_ip=actor.source_ip,
                     details={"order_id": order.order_id, "by_staff": actor.principal.is_staff}, uow=uow)
    try:
        commit(uow)
    except ports.WriteRefused as refused:
        old = refused.old_items.get(ItemTag.TICKET.of(ticket.code))
        raise _changed_meanwhile(ctx.tickets.from_raw(old) if old else None) from None
    ticket.visitor, ticket.visitor_key = visitor, key
    return ticket


def _changed_meanwhile(current: Ticket | None) -> DomainError:
    status = current.status.value if current is not None else "gone"
    return Conflict(f"the ticket is {status} now; its visitor can no longer change", code=ErrorCode.INVALID_STATE,
                    status=status)
