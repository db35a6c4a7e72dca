"""What a refund takes back and for whom, as staff read it in the refund queue: its units grouped
by SKU (product, spec or session, quantity, fen) and the order's contact. Kept on the refund when it
is made (the order is at hand then); refunds made before are summarised from their order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .model import Order, OrderLine, Session
from .tickets import Ticket


@dataclass(frozen=True)
class RefundItem:
    sku_id: str
    product_name: str
    name: str                         # the SKU's spec or session name
    quantity: int
    amount: int | None                # fen this refund pays for these units; None when not known exactly
    session: Session | None = None    # a ticket's session


@dataclass(frozen=True)
class RefundContact:
    name: str
    phone: str                        # as the order has it: encrypted at rest, masked when shown


def contact_of(order: Order | None) -> RefundContact | None:
    return RefundContact(order.contact_name, order.contact_phone) if order is not None else None


def items_taken_back(order: Order, tickets: Iterable[Ticket], merch_lines: Iterable[OrderLine]) -> list[RefundItem]:
    """A refund's tickets grouped by SKU (each with its own session: a rescheduled ticket's is not its
    line's) and its goods lines, with what each refunds, as `refunds.plan_refund` counts it."""
    prices = {line.sku_id: line.unit_price for line in order.lines}
    grouped: dict[str, RefundItem] = {}
    for ticket in tickets:
        paid = ticket.paid if ticket.paid is not None else prices.get(ticket.sku_id, 0)
        seen = grouped.get(ticket.sku_id)
        grouped[ticket.sku_id] = RefundItem(
            ticket.sku_id, ticket.product_name, ticket.sku_name, (seen.quantity if seen else 0) + 1,
            ((seen.amount or 0) if seen else 0) + paid, ticket.session)
    for line in merch_lines:
        seen = grouped.get(line.sku_id)
        grouped[line.sku_id] = RefundItem(line.sku_id, line.product_name, line.sku_name,
                                          (seen.quantity if seen else 0) + line.quantity,
                                          ((seen.amount or 0) if seen else 0) + line.paid, line.session)
    return [grouped[sku_id] for sku_id in sorted(grouped)]


def items_from_order(order: Order, stock_lines: list[tuple[str, int]], amount: int) -> list[RefundItem]:
    """For a refund made before its summary was kept: its (sku_id, quantity) lines named from the
    order's lines. Which units it took (and so what each paid) is not known without its tickets: an
    item's amount is given only when it is certain (the whole refund is one SKU's, or a whole line)."""
    lines = {line.sku_id: line for line in order.lines}
    items = []
    for sku_id, quantity in stock_lines:
        line = lines.get(sku_id)
        exact = amount if len(stock_lines) == 1 else line.paid if line and line.quantity == quantity else None
        items.append(RefundItem(sku_id, line.product_name if line else "", line.sku_name if line else sku_id,
                                quantity, exact, line.session if line else None))
    return items
