"""Operational alerts: low stock (once per crossing), failed refunds, offline-scan conflicts.
They are kept for GET /admin/alerts and go to the SNS topic."""
from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from ..domain.back_office import Alert
from . import ports
from .publishing import Publishing
from ..domain.errors import Busy
from .retrying import attempts
from .tags import Tag
from .writes import commit

LATCH_ATTEMPTS = 5

log = logging.getLogger("micromall.alerts")


class Alerting(Publishing, Protocol):
    @property
    def stock(self) -> ports.StockStore: ...
    @property
    def alerts(self) -> ports.AlertStore: ...
    @property
    def notifier(self) -> ports.Notifier: ...
    def unit_of_work(self) -> ports.Writes: ...


def check_low_stock(ctx: Alerting, sku_id: str) -> bool:
    """Raises the alert if the SKU is below its threshold and not yet alerted (the latch and the
    alert are one transaction); re-arms the latch once it is back at or above the threshold. A
    sharded SKU's total is a reading of many items that sales keep moving, so after latching it
    is read again: if a delivery had already lifted it, the latch is re-armed at once, and the
    next crossing is alerted (every order of a sharded SKU wakes this check)."""
    for _ in attempts(LATCH_ATTEMPTS):
        sku = ctx.stock.skus([sku_id]).get(sku_id)
        if sku is None or sku.below_threshold == sku.low_stock_alerted:
            return False                   # nothing to change: alerted for this crossing, or not low
        if sku.cancelled and sku.below_threshold:
            return False                   # a cancelled session is not restocked: nothing to alert
        uow = ctx.unit_of_work()
        if not sku.below_threshold:
            ctx.stock.rearm_low_stock(uow, sku)
            if commit(uow, {Tag.LATCH: None}):
                return False
            continue
        now = ctx.clock()
        alert = Alert(alert_id=ctx.alerts.new_id(now), kind="low_stock", severity="warning",
                      message=f"{sku.name}: {sku.available} left (threshold {sku.low_stock_threshold})",
                      details={"sku_id": sku_id, "product_id": sku.product_id, "available": sku.available,
                               "low_stock_threshold": sku.low_stock_threshold}, created_at=now)
        ctx.stock.latch_low_stock(uow, sku)
        ctx.alerts.add(uow, alert)
        if not commit(uow, {Tag.LATCH: None}):
            continue                       # another worker decided meanwhile: read again
        ctx.metrics.count("LowStockAlerts")
        notify(ctx, alert)
        if sku.sharded:
            _rearm_if_lifted(ctx, sku_id)
        return True
    raise Busy("the low-stock check kept colliding; it is tried again")


def _rearm_if_lifted(ctx: Alerting, sku_id: str) -> None:
    after = ctx.stock.skus([sku_id]).get(sku_id)
    if after is not None and not after.below_threshold:
        uow = ctx.unit_of_work()
        ctx.stock.rearm_low_stock(uow, after)
        commit(uow, {Tag.LATCH: None})


def raise_alert(ctx: Alerting, alert_id: str, kind: str, severity: str, message: str,
                details: dict[str, Any]) -> bool:
    """Kept once per id: a redelivered message stores and sends nothing new."""
    alert = Alert(alert_id=alert_id, kind=kind, severity=severity, message=message, details=details,
                  created_at=ctx.clock())
    if not ctx.alerts.add_once(alert):
        return False
    notify(ctx, alert)
    return True


def notify(ctx: Alerting, alert: Alert) -> None:
    """Sends a kept alert to the topic (operations' e-mail or SMS); a failure is logged, never raised."""
    try:
        ctx.notifier.publish(f"micromall {alert.kind}", json.dumps(
            {"kind": alert.kind, "message": alert.message, **alert.details}, ensure_ascii=False, default=str))
    except Exception:
        log.exception("could not publish alert to SNS; it is kept for /admin/alerts")


def list_alerts(ctx: Alerting, limit: int, cursor: str | None) -> ports.Page:
    return ctx.alerts.page(limit, cursor)
