"""Tickets are refunded at once only before admission opens; from `valid_from` staff review the
request, because an offline gate may already have let the visitor in. An offline scan made
before the approval of the refund that revoked its ticket is a conflict and a critical alert
(admitted_then_refunded); one made after it, by an out-of-date pack, makes the ticket used: the
refund is never sent again nor taken over for it (admitted_while_revoked)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.adapters.tables import RefundRecord, ScanConflictRecord, TicketRecord

from .conftest import Api, clock_ahead, iso, order_body, ticket_body
from .test_refunds_api import alerts_of, drain, outcomes


@pytest.fixture
def bought(customer, make_product, anonymous):  # type: ignore[no-untyped-def]
    def buy(admission_open: bool, quantity: int = 2) -> tuple[Api, dict[str, Any], list[dict[str, Any]]]:
        _, (sku,) = make_product(ticket_body([10], admission_open=admission_open))
        alice = customer()
        order = alice.post("/orders", order_body((sku, quantity))).json_body
        assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
        return alice, order, alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    return buy


def code_of(ticket: dict[str, Any]) -> str:
    return ticket["code"].replace("-", "")


def test_before_admission_opens_a_refund_is_approved_at_once(bought) -> None:  # type: ignore[no-untyped-def]
    alice, order, tickets = bought(admission_open=False)
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "plans changed"})
    assert r.status_code == 202 and r.json_body["status"] == "APPROVED" and "review_reasons" not in r.json_body
    assert {TicketRecord.get(code_of(t)).status for t in tickets} == {"REVOKED"}


def test_once_admission_opens_staff_review_the_refund_and_the_queue_says_why(bought, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, tickets = bought(admission_open=True)
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill", "ticket_ids": [tickets[0]["ticket_id"]]})
    assert r.status_code == 202 and r.json_body["status"] == "REQUESTED"
    assert r.json_body["review_reasons"] == ["admission_open"]
    # Nothing is revoked yet: the visitor may still come, and the ticket still admits.
    assert TicketRecord.get(code_of(tickets[0])).status == "VALID"
    again = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill", "ticket_ids": [tickets[0]["ticket_id"]]})
    assert again.status_code == 409 and again.json_body["code"] == "NOT_REFUNDABLE"
    queue = staff("finance").get("/admin/refunds?status=REQUESTED").json_body["items"]
    assert [(q["refund_id"], q["review_reasons"]) for q in queue] == [(r.json_body["refund_id"], ["admission_open"])]
    # The other ticket is refunded on its own, reviewed too.
    other = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill"})
    assert other.status_code == 202 and other.json_body["tickets"] == 1
    assert staff("finance").post(f"/admin/refunds/{r.json_body['refund_id']}/approve").status_code == 200
    assert TicketRecord.get(code_of(tickets[0])).status == "REVOKED"


def test_a_ticket_used_while_its_refund_waits_cannot_be_approved(bought, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, tickets = bought(admission_open=True, quantity=1)
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill"}).json_body["refund_id"]
    assert staff("scanner").post("/redemptions", {"code": tickets[0]["qr"], "gate": "东门",
                                                  "device_id": "pda-1"}).json_body["result"] == "ok"
    r = staff("finance").post(f"/admin/refunds/{refund_id}/approve")
    assert r.status_code == 409 and r.json_body["code"] == "NOT_REFUNDABLE"
    assert RefundRecord.get(refund_id).status == "REQUESTED"
    assert staff("finance").post(f"/admin/refunds/{refund_id}/reject", {"reason": "已入园"}).status_code == 200


def test_an_offline_admission_before_the_refunds_approval_is_a_conflict_and_a_critical_alert(  # type: ignore[no-untyped-def]
        bought, staff) -> None:
    alice, order, tickets = bought(admission_open=True)
    # Let in just after the purchase (a scan must come after its ticket's issue), by a gate offline then.
    let_in = (datetime.now(timezone.utc) + timedelta(seconds=1)).replace(microsecond=0)
    refund_id = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill"}).json_body["refund_id"]
    with clock_ahead(timedelta(minutes=20)):            # approved, and the gate back online, 20 minutes later
        assert staff("finance").post(f"/admin/refunds/{refund_id}/approve").status_code == 200
        approved_at = datetime.fromisoformat(TicketRecord.get(code_of(tickets[0])).revoked_at)
        scans = [{"code": tickets[0]["qr"], "gate": "北门", "device_id": "pda-7", "nonce": "n-before",
                  "scanned_at": iso(let_in)},
                 {"code": tickets[1]["qr"], "gate": "北门", "device_id": "pda-7", "nonce": "n-after",
                  "scanned_at": iso(approved_at + timedelta(seconds=2))}]
        scanner = staff("scanner")
        results = scanner.post("/redemptions/batch", {"scans": scans}).json_body["results"]
        assert results == [
            {"nonce": "n-before", "result": "rejected", "reason": "revoked", "conflict": "admitted_then_refunded"},
            # let in after the refund, by a pack that did not know it yet: kept for review too
            {"nonce": "n-after", "result": "rejected", "reason": "revoked", "conflict": "admitted_while_revoked"}]
        (conflict,) = ScanConflictRecord.query(code_of(tickets[0]))
        assert (conflict.kind, conflict.refund_id, conflict.gate) == ("admitted_then_refunded", refund_id, "北门")
        (later,) = ScanConflictRecord.query(code_of(tickets[1]))
        assert (later.kind, later.refund_id) == ("admitted_while_revoked", refund_id)
        assert scanner.post("/redemptions/batch", {"scans": scans}).json_body["results"] == results   # re-uploaded
    raised = alerts_of(staff("admin"), "admitted_then_refunded")
    assert len(raised) == 1 and raised[0]["severity"] == "critical"
    details = raised[0]["details"]
    assert (details["ticket_id"], details["refund_id"], details["gate"], details["order_id"]) == (
        tickets[0]["ticket_id"], refund_id, "北门", order["order_id"])
    assert datetime.fromisoformat(details["scanned_at"]) == let_in
    assert datetime.fromisoformat(details["refund_approved_at"]) == approved_at


def test_a_visitor_let_in_after_a_failed_refund_took_the_ticket_back_is_never_paid_back(  # type: ignore[no-untyped-def]
        bought, staff, deliver_notices) -> None:
    """R1 takes two tickets back and fails (WeChat closed it). A gate, offline on an old pack,
    lets the first visitor in; the scan is uploaded before anyone asks again. The ticket now
    counts as used: a new request may take over only the other one, and R1 is not sent again."""
    alice, order, tickets = bought(admission_open=True)
    outcomes("CLOSED")
    r1 = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill"}).json_body["refund_id"]
    assert staff("finance").post(f"/admin/refunds/{r1}/approve").status_code == 200
    drain()
    deliver_notices()
    assert RefundRecord.get(r1).status == "FAILED"
    revoked_at = datetime.fromisoformat(TicketRecord.get(code_of(tickets[0])).revoked_at)
    scan = {"code": tickets[0]["qr"], "gate": "北门", "device_id": "pda-7", "nonce": "n-stale",
            "scanned_at": iso(revoked_at + timedelta(seconds=1))}
    (result,) = staff("scanner").post("/redemptions/batch", {"scans": [scan]}).json_body["results"]
    assert result["conflict"] == "admitted_while_revoked"
    assert TicketRecord.get(code_of(tickets[0])).admitted_offline_at
    (raised,) = alerts_of(staff("admin"), "admitted_while_revoked")
    assert raised["severity"] == "critical" and raised["details"]["refund_id"] == r1
    retry = staff("finance").post(f"/admin/refunds/{r1}/retry")
    assert retry.status_code == 409 and retry.json_body["code"] == "NOT_REFUNDABLE"
    assert RefundRecord.get(r1).status == "FAILED"
    used = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "again", "ticket_ids": [tickets[0]["ticket_id"]]})
    assert used.status_code == 409 and used.json_body["code"] == "NOT_REFUNDABLE"
    rest = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "again"})
    assert rest.status_code == 202 and rest.json_body["tickets"] == 1, rest.body
    assert staff("finance").post(f"/admin/refunds/{rest.json_body['refund_id']}/approve").status_code == 200
    assert TicketRecord.get(code_of(tickets[1])).revoked_by == rest.json_body["refund_id"]
    assert TicketRecord.get(code_of(tickets[0])).revoked_by == r1
