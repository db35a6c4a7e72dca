"""What a gate may claim, against `make run`: a nonce repeats the first answer only for the
device that sent it, and an offline scan dated when it cannot have happened (before the ticket
was issued, older than OFFLINE_SCAN_MAX_AGE_HOURS, ahead of the server's clock) is refused as
invalid_time, takes nothing over, and is raised for review."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from .conftest import CST, Http, Site, order, ticket_product, wait_for


def paid(site: Site, admin: Http, quantity: int) -> tuple[Http, str, list[dict[str, Any]]]:
    _, (sku,) = ticket_product(admin, [20], admission_open=True)       # admitted from an hour ago
    (alice,) = site.customers(1)
    placed = alice.post("/orders", order((sku, quantity))).json()
    assert site.pay(placed["order_id"]).status_code == 200
    return alice, placed["order_id"], alice.get(f"/orders/{placed['order_id']}/tickets").json()["items"]


def test_a_nonce_repeats_the_first_answer_only_for_the_device_that_sent_it(site: Site, admin: Http) -> None:
    _, _, (ticket,) = paid(site, admin, 1)
    gate, other_gate = site.scanner(), site.scanner()
    nonce = uuid.uuid4().hex
    body = {"code": ticket["qr"], "gate": "东门", "device_id": "e2e-pda-1", "nonce": nonce}
    first = gate.post("/redemptions", body)
    assert first.status_code == 200, first.text
    retry = gate.post("/redemptions", body)
    assert retry.status_code == 200 and retry.json()["redeemed_at"] == first.json()["redeemed_at"]
    copied = other_gate.post("/redemptions", {**body, "gate": "西门", "device_id": "e2e-pda-2"})
    assert copied.status_code == 409
    assert (copied.json()["reason"], copied.json()["first_gate"]) == ("already_redeemed", "东门")


def test_an_offline_scan_at_an_impossible_time_is_invalid_time_and_raised(site: Site, admin: Http) -> None:
    alice, order_id, (used, backdated, stale, ahead) = paid(site, admin, 4)
    gate = site.scanner()
    assert gate.post("/redemptions", {"code": used["qr"], "gate": "东门", "device_id": "e2e-pda-1"}).status_code == 200
    now = datetime.now(timezone.utc)
    device = "e2e-" + uuid.uuid4().hex[:6]

    def scan(ticket: dict[str, Any], at: datetime) -> dict[str, Any]:
        return {"code": ticket["qr"], "gate": "后门", "device_id": device, "nonce": uuid.uuid4().hex,
                "scanned_at": at.astimezone(CST).isoformat()}
    scans = [scan(used, now - timedelta(minutes=30)),           # before the purchase: would take over 东门's
             scan(backdated, now - timedelta(minutes=30)),      # before the purchase, while the ticket admitted
             scan(stale, now - timedelta(hours=73)),            # older than 72 hours
             scan(ahead, now + timedelta(minutes=30))]          # a clock half an hour fast
    results = gate.post("/redemptions/batch", {"scans": scans}).json()["results"]
    assert [(r["result"], r.get("reason"), r.get("conflict")) for r in results] == [
        ("rejected", "invalid_time", "invalid_time")] * 4
    tickets = {t["ticket_id"]: t for t in alice.get(f"/orders/{order_id}/tickets").json()["items"]}
    assert [tickets[t["ticket_id"]]["status"] for t in (used, backdated, stale, ahead)] == [
        "REDEEMED", "VALID", "VALID", "VALID"]
    first = gate.post("/redemptions", {"code": used["code"], "gate": "东门", "device_id": "e2e-pda-1"}).json()
    assert first["first_gate"] == "东门"                          # the real gate's redemption stands

    def raised() -> list[dict[str, Any]]:
        return [a for a in admin.get("/admin/alerts?limit=200").json()["items"]
                if a["kind"] == "scan_invalid_time" and a["details"].get("device_id") == device]
    alerts = wait_for(lambda: len(raised()) == 4 and raised(), seconds=60)
    assert alerts and {a["details"]["ticket_id"] for a in alerts} == {
        t["ticket_id"] for t in (used, backdated, stale, ahead)}
    again = gate.post("/redemptions/batch", {"scans": scans}).json()["results"]      # uploaded again
    assert again == results
    assert not wait_for(lambda: len(raised()) > 4, seconds=3)   # kept and raised once per scan
