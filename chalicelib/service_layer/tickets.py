"""Reading tickets and pickup codes: their owner only (404 for anyone else)."""
from __future__ import annotations

from ..domain.error_codes import ErrorCode
from ..domain.errors import NotFound
from ..domain.model import Order
from ..domain.tickets import CodeKind, Ticket
from .context import Actor
from .orders import Ordering, get_order


def tickets_of_order(ctx: Ordering, actor: Actor, order_id: str) -> list[Ticket]:
    order = get_order(ctx, actor, order_id)
    return [t for t in ctx.tickets.of_order(order.order_id) if t.kind is CodeKind.TICKET]


def ticket_of(ctx: Ordering, actor: Actor, ticket_id: str) -> Ticket:
    ticket = ctx.tickets.by_ticket_id(ticket_id) if 8 <= len(ticket_id) <= 40 else None
    if ticket is None or ticket.user_id != actor.name:
        raise NotFound("no such ticket", code=ErrorCode.TICKET_NOT_FOUND, ticket_id=ticket_id)
    return ticket


def pickup_ticket(ctx: Ordering, order: Order) -> Ticket | None:
    return ctx.tickets.by_code(order.pickup_code) if order.pickup_code else None


def pickup_of(ctx: Ordering, actor: Actor, order_id: str) -> Ticket:
    ticket = pickup_ticket(ctx, get_order(ctx, actor, order_id))
    if ticket is None:
        raise NotFound("this order has no pickup code", code=ErrorCode.TICKET_NOT_FOUND, order_id=order_id)
    return ticket
