"""JSON shapes of API.md. Times are shown in the venue's zone; personal data is masked."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..bootstrap import context
from ..domain.back_office import Alert, AuditEntry
from ..domain.model import Kind, Order, OrderLine, OrderStatus, Product, Sku, StockMovement
from ..domain.personal_data import mask_id_number, mask_name, mask_phone
from ..domain.redemption import Reason
from ..domain.refund_summary import RefundItem
from ..domain.refunds import Refund
from ..domain.ticket_changes import reschedule_cutoff, reschedules_left
from ..domain.tickets import Ticket, display_code
from ..domain.timeutil import to_display
from ..service_layer.redemption import Redemption

_REDEMPTION_MESSAGES = {
    Reason.INVALID: "not a ticket or pickup code of this venue",
    Reason.REVOKED: "this code was revoked (refunded)",
    Reason.UNPAID: "the order is not paid",
    Reason.ALREADY_REDEEMED: "this code was already used",
    Reason.NOT_YET_VALID: "not valid yet",
    Reason.EXPIRED: "no longer valid",
    Reason.INVALID_TIME: "scanned_at is before the code was issued, too old, or ahead of the server's clock",
}


_SYSTEM_ACTORS = frozenset({"system", "wechatpay", "gate", "refunds"})


def views() -> "Views":
    """The views of this venue (its time zone)."""
    return Views(context().venue_timezone)


class Views:
    def __init__(self, zone: str) -> None:
        self.zone = zone

    def time(self, value: datetime | None) -> str | None:
        return to_display(value, self.zone) if value is not None else None

    def sku(self, sku: Sku, staff: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"sku_id": sku.sku_id, "product_id": sku.product_id, "name": sku.name,
                                "price": sku.price, "available": sku.available,
                                "low_stock_threshold": sku.low_stock_threshold}
        if sku.session:
            data["session"] = {"start": self.time(sku.session.start), "end": self.time(sku.session.end)}
            data["valid_from"], data["valid_until"] = self.time(sku.valid_from), self.time(sku.valid_until)
        if sku.attributes:
            data["attributes"] = sku.attributes
        if staff:
            data["reserved"], data["sold"] = sku.reserved, sku.sold
        if sku.cancelled:       # customers see why, and nothing to buy
            data["cancelled"], data["cancel_reason"] = True, sku.cancel_reason or ""
            if not staff:
                data["available"] = 0
        return data

    def product(self, product: Product, skus: list[Sku], now: datetime | None = None,
                staff: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "product_id": product.product_id, "kind": product.kind.value, "name": product.name,
            "description": product.description, "category": product.category, "tags": product.tags,
            # The public sees what is in effect now; staff see the stored status and schedule.
            "status": product.status.value if staff or now is None
            else ("listed" if product.is_visible(now) else "unlisted"),
            "real_name": product.real_name, "member_discount": product.member_discount,
            "skus": [self.sku(s, staff) for s in skus]}
        for name in ("list_at", "delist_at"):
            if getattr(product, name) is not None:
                data[name] = self.time(getattr(product, name))
        if product.purchase_limit is not None:
            data["purchase_limit"] = product.purchase_limit
        if product.fulfillment:
            data["fulfillment"] = [f.value for f in product.fulfillment]
        if product.kind is Kind.TICKET:      # in effect: the default unless the product sets one
            data["reschedule_cutoff_minutes"] = int(reschedule_cutoff(product).total_seconds() // 60)
        return data

    def line(self, line: OrderLine) -> dict[str, Any]:
        data: dict[str, Any] = {"sku_id": line.sku_id, "product_id": line.product_id,
                                "product_name": line.product_name, "name": line.sku_name,
                                "kind": line.kind.value, "unit_price": line.unit_price, "price": line.unit_price,
                                "quantity": line.quantity, "subtotal": line.subtotal, "discount": line.discount,
                                "paid": line.paid}
        if line.session:
            data["session"] = {"start": self.time(line.session.start), "end": self.time(line.session.end)}
        if line.valid_from:
            data["valid_from"], data["valid_until"] = self.time(line.valid_from), self.time(line.valid_until)
        return data

    def ticket(self, ticket: Ticket, now: datetime) -> dict[str, Any]:
        data: dict[str, Any] = {"ticket_id": ticket.ticket_id, "kind": ticket.kind.value, "sku_id": ticket.sku_id,
                                "product_name": ticket.product_name, "name": ticket.sku_name,
                                "status": ticket.shown_status(now).value, "code": display_code(ticket.code),
                                "qr": ticket.qr, "valid_from": self.time(ticket.valid_from),
                                "valid_until": self.time(ticket.valid_until)}
        if ticket.session:
            data["session"] = {"start": self.time(ticket.session.start), "end": self.time(ticket.session.end)}
        if ticket.visitor:
            data["visitor"] = ticket.visitor
        if ticket.redeemed_at:
            data["redeemed_at"] = self.time(ticket.redeemed_at)
        data["reschedules_left"] = reschedules_left(ticket, now)
        if ticket.rescheduled_from:
            data["rescheduled_from"] = ticket.rescheduled_from
        return data

    @staticmethod
    def _by(by: str, order: Order, staff: bool) -> str:
        """Who changed the order. Customers never see staff names: only "customer", "staff" or
        the system's part (wechatpay, gate, refunds, system)."""
        if staff or by in _SYSTEM_ACTORS:
            return by
        return "customer" if by == order.user_id else "staff"

    def order(self, order: Order, pickup: Ticket | None = None, staff: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "order_id": order.order_id, "status": order.status.value, "subtotal": order.subtotal,
            "discount": order.discount, "total": order.total, "currency": "CNY",
            "promotions": [{"kind": p.kind, "id": p.id, "name": p.name, "amount": p.amount} for p in order.promotions],
            "created_at": self.time(order.created_at), "expires_at": self.time(order.expires_at),
            "items": [self.line(l) for l in order.lines],
            "contact": {"name": order.contact_name, "phone": mask_phone(order.contact_phone)},
            "history": [{"status": h.status.value, "at": self.time(h.at), "by": self._by(h.by, order, staff)}
                        for h in order.history],
            "changes_left": order.changes_left if order.status is OrderStatus.PENDING_PAYMENT else 0,
        }
        if order.visitors:
            data["visitors"] = [{"name": v.name, "id_type": v.id_type, "id_number": mask_id_number(v.id_number),
                                 "sku_id": v.sku_id} for v in order.visitors]
        if order.fulfillment:
            data["fulfillment"] = order.fulfillment.value
        if order.address:
            data["address"] = {"recipient": order.address.recipient, "phone": mask_phone(order.address.phone),
                               "region": order.address.region, "detail": order.address.detail}
        if order.shipment:
            data["shipment"] = order.shipment
        if order.paid_at:
            data["paid_at"] = self.time(order.paid_at)
        if order.cancel_reason:
            data["cancel_reason"] = order.cancel_reason
        if staff:
            data["user_id"] = order.user_id
            if order.status is OrderStatus.PENDING_PAYMENT or order.transaction_id:
                data["out_trade_no"] = order.trade_no
        if pickup is not None and staff:
            # Staff hand goods over by scanning what the customer shows: a live code read off the
            # console could be redeemed by anyone who saw it.
            data["pickup"] = {"code": "****-****-" + pickup.code[-4:], "status": pickup.status.value}
        elif pickup is not None:
            data["pickup"] = {"code": display_code(pickup.code), "qr": pickup.qr, "status": pickup.status.value}
        return data

    def inventory_item(self, sku: Sku) -> dict[str, Any]:
        return {"sku_id": sku.sku_id, "product_id": sku.product_id, "name": sku.name, "available": sku.available,
                "reserved": sku.reserved, "sold": sku.sold, "low_stock_threshold": sku.low_stock_threshold,
                "stock_shards": sku.stock_shards}

    def movement(self, m: StockMovement) -> dict[str, Any]:
        return {"delta": m.delta, "reason": m.reason, "actor": m.actor, "order_id": m.order_id, "at": self.time(m.at)}

    def refund(self, refund: Refund, staff: bool = True) -> dict[str, Any]:
        """Customers see a refund's status, amount and reason (and why it was rejected), never
        who decided it or what the gateway said. Staff also see what it takes back (`items`, by
        SKU) and for whom (`contact`, masked)."""
        data: dict[str, Any] = {"refund_id": refund.refund_id, "order_id": refund.order_id,
                                "status": refund.status.value, "amount": refund.amount, "reason": refund.reason,
                                "source": refund.source, "created_at": self.time(refund.created_at),
                                "tickets": len(refund.ticket_codes)}
        if refund.reject_reason:
            data["reject_reason"] = refund.reject_reason
        if refund.review_reasons:
            data["review_reasons"] = refund.review_reasons
        if staff:
            data["out_refund_no"] = refund.out_refund_no
            data["goods"] = refund.claims_goods
            for name in ("decided_by", "last_error", "gateway_status", "superseded_by"):
                if getattr(refund, name):
                    data[name] = getattr(refund, name)
            if refund.claims_goods:
                data["goods_returned"] = refund.goods_returned
            if refund.unsettled:
                data["unsettled"] = True
            if refund.items is not None:
                data["items"] = [self.refund_item(i) for i in refund.items]
            if refund.contact is not None:
                data["contact"] = {"name": mask_name(refund.contact.name), "phone": mask_phone(refund.contact.phone)}
        return data

    def refund_item(self, item: RefundItem) -> dict[str, Any]:
        data: dict[str, Any] = {"sku_id": item.sku_id, "product_name": item.product_name, "name": item.name,
                                "quantity": item.quantity}
        if item.amount is not None:
            data["amount"] = item.amount
        if item.session is not None:
            data["session"] = {"start": self.time(item.session.start), "end": self.time(item.session.end)}
        return data

    def alert(self, alert: Alert) -> dict[str, Any]:
        return {"alert_id": alert.alert_id, "kind": alert.kind, "severity": alert.severity,
                "message": alert.message, "details": alert.details, "created_at": self.time(alert.created_at)}

    def audit_entry(self, e: AuditEntry) -> dict[str, Any]:
        return {"actor": e.actor, "action": e.action, "target": e.target, "source_ip": e.source_ip,
                "details": e.details, "at": self.time(e.at)}

    def redemption(self, r: Redemption) -> tuple[int, dict[str, Any]]:
        """200 admitted; 404 for a code that is not ours; 409 for any other refusal."""
        ticket = r.ticket
        if r.admitted and ticket is not None:
            body: dict[str, Any] = {
                "result": "ok", "kind": ticket.kind.value, "redeemed_at": self.time(r.redeemed_at), "gate": r.gate,
                "ticket_id": ticket.ticket_id, "order_id": ticket.order_id, "code": display_code(ticket.code),
                "product_name": ticket.product_name, "sku_name": ticket.sku_name}
            if ticket.session:
                body["session"] = {"start": self.time(ticket.session.start), "end": self.time(ticket.session.end)}
            if ticket.visitor:
                body["visitor"] = ticket.visitor
            return 200, body
        reason = r.reason or Reason.INVALID
        body = {"result": "rejected", "reason": reason.value, "code": reason.value.upper(),
                "message": _REDEMPTION_MESSAGES[reason], "details": {}}
        if ticket is not None:
            body["ticket_id"] = ticket.ticket_id
            body["valid_from"], body["valid_until"] = self.time(ticket.valid_from), self.time(ticket.valid_until)
            if reason is Reason.ALREADY_REDEEMED:
                body["first_redeemed_at"] = self.time(ticket.redeemed_at)
                body["first_gate"] = ticket.redeemed_gate
        return (404 if reason is Reason.INVALID else 409), body
