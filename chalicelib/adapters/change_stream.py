"""DynamoDB Streams records (as Lambda delivers them: NEW_AND_OLD_IMAGES) read as the domain's
changes: the same order, refund, ticket, SKU, user coupon or after-sale as it was and as it is. Only the
attributes the figures need are read; personal data stays encrypted."""
from __future__ import annotations

from typing import Any

from pynamodb.models import Model

from ..domain.coupons import UserCouponStatus
from ..domain.figure_facts import (AfterSaleFacts, AppliedPromotion, Change, OrderFacts, RefundFacts, SaleLine,
                                   SkuFacts, TicketFacts, UserCouponFacts)
from ..domain.identifiers import product_id_of
from ..domain.model import OrderStatus, awaiting_shipment
from ..domain.refunds import RefundStatus
from ..domain.tickets import CodeKind, TicketStatus
from .after_sale_store import AfterSaleRecord
from .coupon_repository import UserCouponRecord
from .dynamo import batch_get_many, plain, read_time
from .order_records import OrderRecord
from .refund_repository import RefundRecord
from .stock_records import SkuRecord
from .ticket_repository import TicketRecord

STREAMED: tuple[type[Model], ...] = (OrderRecord, RefundRecord, TicketRecord, SkuRecord, UserCouponRecord,
                                     AfterSaleRecord)


def applied_promotion(m: dict[str, Any]) -> AppliedPromotion:
    """A coupon step names the user coupon (`id`) and its template (`coupon_id`): the report
    counts the template. Orders written before the template was stored fall back to `id`."""
    kind = str(m["kind"])
    ident = str(m.get("coupon_id") or m["id"]) if kind == "coupon" else str(m["id"])
    return AppliedPromotion(kind=kind, id=ident, name=str(m.get("name") or ""), amount=int(m.get("amount") or 0))


def order_facts(record: OrderRecord) -> OrderFacts:
    lines = []
    for m in map(plain, record.lines or []):
        quantity, price, discount = int(m["quantity"]), int(m["unit_price"]), int(m.get("discount") or 0)
        lines.append(SaleLine(product_id=m["product_id"], product_name=m["product_name"], sku_id=m["sku_id"],
                              sku_name=m["sku_name"], category=m.get("category") or "", kind=m["kind"],
                              units=quantity, amount=quantity * price - discount,
                              session_start=read_time(m.get("session_start")), discount=discount))
    waiting = awaiting_shipment(OrderStatus(record.status), record.fulfillment, record.shipment is not None,
                                record.merch_refund is not None)
    return OrderFacts(order_id=record.order_id, paid_at=read_time(record.paid_at), lines=tuple(lines),
                      awaiting_shipment=waiting, user_id=record.user_id, refunded=int(record.refunded_total or 0) > 0,
                      promotions=tuple(applied_promotion(m) for m in map(plain, record.promotions or [])))


def refund_facts(record: RefundRecord) -> RefundFacts:
    status = RefundStatus(record.status)
    customers = record.source != "automatic"
    approved = status in (RefundStatus.APPROVED, RefundStatus.PROCESSING, RefundStatus.SUCCEEDED, RefundStatus.FAILED)
    return RefundFacts(
        refund_id=record.refund_id, order_id=record.order_id, amount=int(record.amount),
        succeeded_at=read_time(record.updated_at) if status is RefundStatus.SUCCEEDED and customers else None,
        stock_lines=tuple((m["sku_id"], int(m["quantity"])) for m in map(plain, record.stock_lines or [])),
        awaiting_review=status is RefundStatus.REQUESTED,
        failed=status is RefundStatus.FAILED and not record.superseded_by,
        revokes=approved and customers and not record.superseded_by)


def ticket_facts(record: TicketRecord) -> TicketFacts | None:
    if record.kind != CodeKind.TICKET.value:
        return None                                   # pickup codes are not admissions
    admitted = record.status == TicketStatus.REDEEMED.value
    return TicketFacts(
        code=record.code, sku_id=record.sku_id, product_id=product_id_of(record.sku_id) or record.sku_id,
        product_name=record.product_name, sku_name=record.sku_name, session_start=read_time(record.session_start),
        admitted_at=read_time(record.redeemed_scanned_at or record.redeemed_at) if admitted else None,
        gate=record.redeemed_gate if admitted else None, rescheduled_from=record.rescheduled_from,
        revoked_by=record.revoked_by if record.status == TicketStatus.REVOKED.value else None)


def sku_facts(record: SkuRecord) -> SkuFacts:
    # A sharded SKU's stock is in items this stream does not carry; its latch says whether the
    # alerts worker, which reads every bucket, found it below the threshold.
    below = (bool(record.low_stock_alerted) if record.stock_shards
             else int(record.available) < int(record.low_stock_threshold or 0))
    below = below and not record.cancelled        # a cancelled session is no stock to replenish
    return SkuFacts(sku_id=record.sku_id, below_threshold=below,
                    sale_ends=read_time(record.valid_until))


def user_coupon_facts(record: UserCouponRecord) -> UserCouponFacts:
    return UserCouponFacts(user_coupon_id=record.user_coupon_id, coupon_id=record.coupon_id, name=record.name,
                           used=record.status == UserCouponStatus.USED.value,
                           claimed_at=read_time(record.claimed_at),  # type: ignore[arg-type]
                           locked=record.status == UserCouponStatus.LOCKED.value,
                           valid_until=read_time(record.valid_until))


def after_sale_facts(record: AfterSaleRecord) -> AfterSaleFacts | None:
    if not record.status:
        return None                                   # a line's units# counters: no request
    created = read_time(record.created_at)
    history = [plain(h) for h in record.history or []]
    return AfterSaleFacts(after_sale_id=record.after_sale_id, type=str(record.type), status=record.status,
                          reason=record.reason or "", created_at=created,  # type: ignore[arg-type]
                          status_at=read_time(history[-1]["at"]) if history else created,  # type: ignore[arg-type]
                          amount=int(record.amount or 0))


_READERS: dict[type[Model], tuple[str, Any]] = {
    OrderRecord: ("order", order_facts), RefundRecord: ("refund", refund_facts),
    TicketRecord: ("ticket", ticket_facts), SkuRecord: ("sku", sku_facts),
    UserCouponRecord: ("user_coupon", user_coupon_facts), AfterSaleRecord: ("after_sale", after_sale_facts)}


def changes(records: list[dict[str, Any]]) -> list[Change]:
    """The stream records of any of the streamed tables, in their order."""
    by_table = {model.Meta.table_name: model for model in STREAMED}
    found = []
    for record in records:
        arn = str(record.get("eventSourceARN", ""))
        table = arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
        model = by_table.get(table)
        if model is None:
            continue
        kind, read = _READERS[model]
        images = record.get("dynamodb", {})
        old, new = images.get("OldImage"), images.get("NewImage")
        found.append(Change(change_id=str(record["eventID"]), kind=kind,
                            old=read(model.from_raw_data(old)) if old else None,
                            new=read(model.from_raw_data(new)) if new else None,
                            position=str(images.get("SequenceNumber", ""))))
    return found


class SaleLookup:
    """The sale a refund belongs to: its order's lines, without its personal data."""
    def sales(self, order_ids: list[str]) -> dict[str, OrderFacts]:
        return {order_id: order_facts(record) for order_id, record in batch_get_many(OrderRecord, order_ids).items()}
