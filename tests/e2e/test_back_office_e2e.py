"""The back office over HTTP against `make run`: the local event pump reads the tables' streams
into the figures as Lambda would, and the sandbox serves WeChat's bill."""
from __future__ import annotations

from datetime import datetime

from .conftest import CST, Http, Site, order, wait_for


def test_reports_follow_sales_refunds_and_scans_over_http(site: Site, admin: Http) -> None:
    (adult,) = site.products([30])
    alice, bob = site.customers(2)
    placed = [who.post("/orders", order((adult, n))).json() for who, n in ((alice, 3), (bob, 2))]
    for o in placed:
        assert site.pay(o["order_id"]).status_code == 200
    tickets = alice.get(f"/orders/{placed[0]['order_id']}/tickets").json()["items"]
    asked = alice.post(f"/orders/{placed[0]['order_id']}/refunds", {"reason": "ill", "ticket_ids": [tickets[0]["ticket_id"]]})
    assert asked.status_code == 202 and asked.json()["status"] == "REQUESTED"        # admission is open
    assert admin.post(f"/admin/refunds/{asked.json()['refund_id']}/approve").status_code == 200
    gate = site.scanner()
    assert gate.post("/redemptions", {"code": tickets[1]["qr"], "gate": "南门", "device_id": "e2e"}).json()["result"] == "ok"
    today = datetime.now(CST).date().isoformat()

    def row() -> dict[str, int] | None:
        rows = admin.get(f"/admin/reports/sales?group_by=sku&from={today}&to={today}").json()["rows"]
        return next((r for r in rows if r["key"] == adult), None)
    want = {"orders": 2, "units": 5, "gross": 5 * 5000, "refunded": 5000, "net": 4 * 5000}
    assert wait_for(lambda: (r := row()) and {k: r[k] for k in want} == want, seconds=60), row()

    def admitted() -> tuple[int, int] | None:
        rows = admin.get("/admin/reports/redemptions?group_by=sku").json()["rows"]
        found = next((r for r in rows if r["key"] == adult), None)
        return (found["redeemed"], found["issued"]) if found else None
    assert wait_for(lambda: admitted() == (1, 4), seconds=60), admitted()


def test_reconciliation_finds_a_payment_whose_notice_was_lost(site: Site, admin: Http) -> None:
    (sku,) = site.products([5])
    (carol,) = site.customers(1)
    lost = carol.post("/orders", order((sku, 1))).json()
    assert site.pay(lost["order_id"], notify=False).json()["notify_status"] is None
    today = datetime.now(CST).date().isoformat()
    result = admin.post(f"/admin/reconciliation/{today}/run").json()
    assert result["status"] == "DIFFERENCES"
    assert {"kind": "missing_in_micromall", "out_trade_no": lost["order_id"]}.items() <= next(
        d for d in result["differences"] if d["out_trade_no"] == lost["order_id"]).items()
    assert admin.get(f"/admin/reconciliation?date={today}").json()["checked_at"]
