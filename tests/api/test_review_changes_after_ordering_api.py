"""Review of 改签 and session cancellation on moto: failing tests for defects found."""
from __future__ import annotations

from chalicelib.adapters.stock_ledger import StockLedger
from chalicelib.adapters.tables import SkuRecord

from .conftest import order_body, ticket_body
from .test_session_cancellation_api import REASON, work_queues


def test_a_ticket_rescheduled_into_a_cancelled_sharded_session_is_refunded(
        admin, customer, make_product, anonymous, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    """A ticket moved INTO a session (its order's lines name another one) is found in the
    cancelled session's ledger, but the worker skips its order: the ticket stays VALID and its
    money is never refunded; the session's sold count never goes back to 0."""
    _, (a, b) = make_product(ticket_body([30, 200]))
    assert admin.post(f"/admin/inventory/{b}/shards", {"shards": 4}).status_code in (200, 201)
    alice = customer()
    paid = alice.post("/orders", order_body((a, 2))).json_body
    assert anonymous.post(f"/dev/payments/{paid['order_id']}/succeed", {}).json_body["notify_status"] == 204
    first = alice.get(f"/orders/{paid['order_id']}/tickets").json_body["items"][0]
    moved = alice.post(f"/orders/{paid['order_id']}/tickets/{first['ticket_id']}/reschedule", {"sku_id": b})
    assert moved.status_code == 200, moved.body

    assert admin.post(f"/admin/sessions/{b}/cancel", {"reason": REASON}).status_code == 202
    work_queues(deliver_notices)

    progress = admin.get(f"/admin/sessions/{b}/cancellation").json_body
    assert progress["status"] == "DONE" and progress["tickets"] == 1
    tickets = {t["ticket_id"]: t for t in alice.get(f"/orders/{paid['order_id']}/tickets").json_body["items"]}
    assert tickets[moved.json_body["ticket_id"]]["status"] == "REVOKED", "still VALID for a cancelled session"
    assert (progress["refunds_succeeded"], progress["tickets_refunded"]) == (1, 1)
    record = SkuRecord.get(b)
    assert int(record.sold) == 0 and sum(StockLedger().all_movements(b)) == 200
