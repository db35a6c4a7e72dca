"""Operational alerts: low stock (once per crossing), failed refunds, offline-scan conflicts.
They arrive on the alerts queue, are kept for GET /admin/alerts and go to the SNS topic."""
from __future__ import annotations

import json
import logging
from typing import Any

from pynamodb.exceptions import PutError

from ..adapters.dynamo import TransactionCancelled
from ..adapters.refund_repository import new_alert_id
from ..adapters.repository import Page
from ..domain.model import OrderStatus
from ..domain.tickets import all_used
from .context import Context

log = logging.getLogger("micromall.alerts")


def handle_message(ctx: Context, message_id: str, body: dict[str, Any]) -> None:
    kind = body.get("type")
    if kind == "stock_changed":
        for sku_id in body.get("sku_ids", [])[:100]:
            check_low_stock(ctx, str(sku_id))
    elif kind == "code_redeemed":
        complete_if_all_used(ctx, str(body.get("order_id", "")))
    elif kind == "alert":
        # Keyed by the queue message id: a redelivered message stores and sends nothing new.
        raise_alert(ctx, "M" + message_id, str(body.get("kind", "other")), str(body.get("severity", "warning")),
                    str(body.get("message", "")), dict(body.get("details") or {}))
    else:
        log.warning("unknown alerts message type %r", kind)


def complete_if_all_used(ctx: Context, order_id: str) -> bool:
    """PAID (or partly refunded) -> COMPLETED once every ticket and pickup code is used; kept off
    the gate's path so that a scan stays one request."""
    found = ctx.orders.get(order_id)
    if found is None or found[0].status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        return False
    order = found[0]
    if order.tickets_issued < order.tickets_total or not all_used(ctx.tickets.of_order(order_id)):
        return False
    uow = ctx.unit_of_work()
    ctx.orders.transition(uow, order, OrderStatus.COMPLETED, ctx.clock(), "gate")
    try:
        uow.commit()
    except TransactionCancelled:
        return False
    return True


def check_low_stock(ctx: Context, sku_id: str) -> bool:
    """Raises the alert if the SKU is below its threshold and not yet alerted (the latch and the
    alert are one transaction); re-arms the latch once it is back at or above the threshold."""
    sku = ctx.catalog.skus([sku_id]).get(sku_id)
    if sku is None:
        return False
    if not sku.below_threshold:
        ctx.alerts.rearm_low_stock(sku_id)
        return False
    now = ctx.clock()
    message = f"{sku.name}: {sku.available} left (threshold {sku.low_stock_threshold})"
    details = {"sku_id": sku_id, "product_id": sku.product_id, "available": sku.available,
               "low_stock_threshold": sku.low_stock_threshold}
    uow = ctx.unit_of_work()
    ctx.alerts.latch_low_stock(uow, sku_id)
    ctx.alerts.add(uow, new_alert_id(now), "low_stock", "warning", message, details, now)
    try:
        uow.commit()
    except TransactionCancelled as cancelled:
        if "latch" in cancelled.failed:
            return False          # already alerted for this crossing (or no longer below)
        raise
    ctx.metrics.count("LowStockAlerts")
    _notify(ctx, "low_stock", message, details)
    return True


def raise_alert(ctx: Context, alert_id: str, kind: str, severity: str, message: str,
                details: dict[str, Any]) -> bool:
    try:
        ctx.alerts.add(None, alert_id, kind, severity, message, details, ctx.clock())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False      # the same alert already stored: a redelivery
        raise
    _notify(ctx, kind, message, details)
    return True


def _notify(ctx: Context, kind: str, message: str, details: dict[str, Any]) -> None:
    try:
        ctx.notifier.publish(f"micromall {kind}", json.dumps({"kind": kind, "message": message, **details},
                                                              ensure_ascii=False, default=str))
    except Exception:
        log.exception("could not publish alert to SNS; it is kept for /admin/alerts")


def list_alerts(ctx: Context, limit: int, cursor: str | None) -> Page:
    return ctx.alerts.page(limit, cursor)
