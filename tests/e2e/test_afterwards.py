"""After every other end-to-end test (with faults injected or not): nothing lost or doubled."""
from __future__ import annotations

import pytest

from .conftest import SPOILED, Http, ledger_sum


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
