"""The ticket refund policy and the offline gate against `make run`: a refund once admission has
opened waits for staff, and an offline admission that a refund approved afterwards paid back is
found, kept for review and raised as a critical alert."""
from __future__ import annotations

from datetime import datetime, timezone

from .conftest import CST, Http, Site, order, ticket_product, wait_for


def bought(site: Site, admin: Http, admission_open: bool) -> tuple[Http, str, list[dict]]:  # type: ignore[type-arg]
    _, (sku,) = ticket_product(admin, [10], admission_open=admission_open)
    (alice,) = site.customers(1)
    placed = alice.post("/orders", order((sku, 2))).json()
    assert site.pay(placed["order_id"]).status_code == 200
    return alice, placed["order_id"], alice.get(f"/orders/{placed['order_id']}/tickets").json()["items"]


def test_a_ticket_refund_is_approved_at_once_only_before_admission_opens(site: Site, admin: Http) -> None:
    alice, before, _ = bought(site, admin, admission_open=False)
    early = alice.post(f"/orders/{before}/refunds", {"reason": "plans changed"}).json()
    assert early["status"] == "APPROVED"
    assert wait_for(lambda: alice.get(f"/orders/{before}").json()["status"] == "REFUNDED")
    bob, during, tickets = bought(site, admin, admission_open=True)
    late = bob.post(f"/orders/{during}/refunds", {"reason": "ill"}).json()
    assert (late["status"], late["review_reasons"]) == ("REQUESTED", ["admission_open"])
    assert {t["status"] for t in bob.get(f"/orders/{during}/tickets").json()["items"]} == {"VALID"}
    queue = admin.get("/admin/refunds?status=REQUESTED&limit=200").json()["items"]
    assert next(r for r in queue if r["refund_id"] == late["refund_id"])["review_reasons"] == ["admission_open"]
    assert admin.post(f"/admin/refunds/{late['refund_id']}/approve").status_code == 200
    assert wait_for(lambda: bob.get(f"/orders/{during}").json()["status"] == "REFUNDED")


def test_an_offline_admission_refunded_afterwards_is_a_conflict_and_a_critical_alert(site: Site, admin: Http) -> None:
    alice, order_id, tickets = bought(site, admin, admission_open=True)
    gate = site.scanner()
    let_in = datetime.now(timezone.utc)          # just after the purchase (not before: invalid_time), the gate offline
    refund_id = alice.post(f"/orders/{order_id}/refunds", {"reason": "ill"}).json()["refund_id"]
    assert admin.post(f"/admin/refunds/{refund_id}/approve").status_code == 200
    scan = {"code": tickets[0]["qr"], "gate": "北门", "device_id": "e2e-offline", "nonce": f"n-{refund_id}",
            "scanned_at": let_in.astimezone(CST).isoformat(timespec="milliseconds")}
    (result,) = gate.post("/redemptions/batch", {"scans": [scan]}).json()["results"]
    assert result == {"nonce": scan["nonce"], "result": "rejected", "reason": "revoked",
                      "conflict": "admitted_then_refunded"}

    def raised() -> list[dict]:  # type: ignore[type-arg]
        return [a for a in admin.get("/admin/alerts?limit=200").json()["items"]
                if a["kind"] == "admitted_then_refunded" and a["details"]["refund_id"] == refund_id]
    (alert,) = wait_for(raised, seconds=60)
    assert alert["severity"] == "critical"
    assert (alert["details"]["ticket_id"], alert["details"]["gate"], alert["details"]["order_id"]) == (
        tickets[0]["ticket_id"], "北门", order_id)
    gate.post("/redemptions/batch", {"scans": [scan]})                       # the gate uploads it again
    assert len(wait_for(raised, seconds=5)) == 1
