"""After every other end-to-end test (with faults injected or not): nothing lost or doubled."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from .conftest import CST, SPOILED, Http, ledger_sum, wait_for


@pytest.mark.afterwards
def test_every_skus_ledger_still_sums_to_its_stock(admin: Http) -> None:
    cursor, checked = None, 0
    while True:
        page = admin.get("/admin/inventory?limit=200" + (f"&cursor={cursor}" if cursor else "")).json()
        for item in page["items"]:
            if item["sku_id"] in SPOILED:
                continue
            assert item["available"] >= 0, item
            assert ledger_sum(admin, item["sku_id"]) == item["available"], item
            checked += 1
        cursor = page["next"]
        if not cursor:
            break
    assert checked > 20


def _all(admin: Http, path: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        page = admin.get(path + ("&" if "?" in path else "?") + "limit=200" + (f"&cursor={cursor}" if cursor else "")).json()
        items += page["items"]
        cursor = page["next"]
        if not cursor:
            return items


@pytest.mark.afterwards
def test_the_sales_figures_equal_every_order_paid_and_refund_made(admin: Http) -> None:
    """Invariant 12 over the whole run, faults and redeliveries included: the counters the streams
    kept equal what the orders and refunds themselves say."""
    today = datetime.now(CST).date()
    days = {today - timedelta(days=1), today}
    paid = [o for o in _all(admin, "/admin/orders")
            if o.get("paid_at") and datetime.fromisoformat(o["paid_at"]).astimezone(CST).date() in days]
    # Refunds of sales: a customer's, and a cancelled session's (automatic ones return money of
    # payments that never made a sale).
    refunded = sum(r["amount"] for r in _all(admin, "/admin/refunds?status=SUCCEEDED") if r["source"] != "automatic")
    expected = {"orders": len(paid), "units": sum(i["quantity"] for o in paid for i in o["items"]),
                "gross": sum(o["total"] for o in paid), "refunded": refunded}
    assert expected["orders"] > 0

    def totals() -> dict[str, int]:
        report = admin.get(f"/admin/reports/sales?from={today - timedelta(days=1)}&to={today}").json()["totals"]
        return {k: report[k] for k in expected}
    assert wait_for(lambda: totals() == expected, seconds=60) or totals() == expected, (totals(), expected)
