"""Telling the alerts worker that stock moved, so it can raise or re-arm low-stock alerts.
Best effort: a lost message delays an alert, it never breaks the sale that moved the stock."""
from __future__ import annotations

import logging

from .context import Context

log = logging.getLogger("micromall.stock")


def announce_stock_change(ctx: Context, sku_ids: list[str]) -> None:
    if not sku_ids:
        return
    try:
        ctx.messages.stock_changed(sku_ids)
    except Exception:
        log.exception("could not announce a stock change")
