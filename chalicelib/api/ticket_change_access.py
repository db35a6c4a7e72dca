"""The routing table's rules of API.md's "Ticket changes" (改签, a ticket's visitor)."""
from __future__ import annotations

from .access_rule import CUSTOMER, Rule, who as _who

TICKET_CHANGERS = _who(CUSTOMER, "support", "admin")

TICKET_CHANGE_ROUTES: dict[tuple[str, str], Rule] = {
    ("POST", "/orders/{order_id}/tickets/{ticket_id}/reschedule"): Rule(
        TICKET_CHANGERS, "改签: move an unused ticket to another session of the same product at the same price. In "
        "one transaction the ticket is revoked (it appears in the gates' offline pack) and a new one issued (new "
        "code and QR, same order, visitor and paid amount), one unit moves between the two sessions' stock. "
        "Customers: once per ticket (reschedules_left), until the session's start less the product's "
        "reschedule_cutoff_minutes (default 120); support and admin: any time before use, any number of times. "
        "409 NOT_RESCHEDULABLE with details.reason: used, revoked, too_late, limit, other_product, other_price, "
        "same_session, under_refund (a refund of it waits for review)",
        request="TicketReschedule", response="Ticket",
        errors=("ORDER_NOT_FOUND", "TICKET_NOT_FOUND", "SKU_NOT_FOUND", "SOLD_OUT", "NOT_ON_SALE",
                "NOT_RESCHEDULABLE", "INVALID_STATE", "DUPLICATE_VISITOR"), tags=("tickets",)),
    ("PATCH", "/orders/{order_id}/tickets/{ticket_id}"): Rule(
        TICKET_CHANGERS, "Change the real-name visitor of an unused ticket before its session starts (409 "
        "INVALID_STATE otherwise, and for a ticket of a product sold without real names); one person holds at most one valid ticket of a session in an order. The ID "
        "number is encrypted at rest and shown masked; the QR stays as it was (it does not name the visitor)",
        request="TicketVisitorChange", response="Ticket",
        errors=("ORDER_NOT_FOUND", "TICKET_NOT_FOUND", "INVALID_STATE", "DUPLICATE_VISITOR"), tags=("tickets",)),
}
