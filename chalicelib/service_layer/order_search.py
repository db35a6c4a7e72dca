"""Staff finding orders: by id, by the contact's phone, else by product name."""
from __future__ import annotations

from ..domain import identifiers
from ..domain.errors import InvalidInput
from ..domain.model import OrderStatus
from ..domain.personal_data import looks_like_phone, normalize_phone
from . import ports
from .orders import Ordering


def search_orders(ctx: Ordering, status: str | None, query: str | None, limit: int,
                  cursor: str | None) -> ports.Page:
    """By order id, by the contact's phone (exact, through its keyed hash), else (or when no
    contact has that number) by product name."""
    if status is not None and status not in OrderStatus.__members__:
        raise InvalidInput(f"status must be one of {', '.join(OrderStatus.__members__)}", field="status")
    if query:
        query = query.strip()
        if identifiers.ORDER_ID.match(query):
            found = ctx.orders.get(query)
            orders = [found[0]] if found and (status is None or found[0].status.value == status) else []
            return ports.Page(orders, None)
        if looks_like_phone(query):
            orders = ctx.orders.by_phone(normalize_phone(query, "q"), limit)
            if orders:                     # else digits in a product's name, searched as text below
                return ports.Page([o for o in orders if status is None or o.status.value == status], None)
    return ctx.orders.search(status, query or None, limit, cursor)
