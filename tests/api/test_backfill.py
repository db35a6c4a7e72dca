"""Orders and SKUs written before the spread indexes (issue 13) are found again after
infra/backfill_index_keys.py, and a second run changes nothing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib import bootstrap
from chalicelib.adapters.tables import OrderRecord, SkuRecord
from infra import backfill_index_keys

from .conftest import Api, order_body, ticket_body


def test_items_written_before_the_spread_indexes_are_found_after_the_backfill(  # type: ignore[no-untyped-def]
        customer, make_product, staff, admin: Api) -> None:
    _, (sku,) = make_product(ticket_body([10]))
    order_id = customer().post("/orders", order_body((sku, 1))).json_body["order_id"]
    # As the indexes of issue 12 had them: constant keys, no listed_at or status_key.
    OrderRecord(order_id=order_id).update(actions=[
        OrderRecord.listed_at.remove(), OrderRecord.status_key.remove(), OrderRecord.all_orders.set("order"),
        OrderRecord.pending.set("pending")])
    SkuRecord(sku_id=sku).update(actions=[SkuRecord.inventory.set("sku")])
    support = staff("support")
    later = datetime.now(timezone.utc) + timedelta(days=1)

    def found() -> tuple[bool, bool, bool, bool]:
        listed = [o["order_id"] for o in support.get("/admin/orders").json_body["items"]]
        pending = [o["order_id"] for o in support.get("/admin/orders?status=PENDING_PAYMENT").json_body["items"]]
        stock = [i["sku_id"] for i in admin.get("/admin/inventory").json_body["items"]]
        due = bootstrap.context().orders.pending_expired(later, 50)
        return order_id in listed, order_id in pending, sku in stock, order_id in due
    assert found() == (False, False, False, False)
    assert (backfill_index_keys.backfill_orders(), backfill_index_keys.backfill_skus()) == (1, 1)
    assert found() == (True, True, True, True)
    assert (backfill_index_keys.backfill_orders(), backfill_index_keys.backfill_skus()) == (0, 0)


def test_refunds_and_revoked_tickets_written_before_their_spread_indexes_are_found_after_the_backfill(  # type: ignore[no-untyped-def]
        customer, make_product, anonymous, staff) -> None:
    from chalicelib.adapters.tables import RefundRecord, TicketRecord
    _, (sku,) = make_product(ticket_body([10], admission_open=True))
    alice = customer()
    order_id = alice.post("/orders", order_body((sku, 1))).json_body["order_id"]
    anonymous.post(f"/dev/payments/{order_id}/succeed", {})
    refund_id = alice.post(f"/orders/{order_id}/refunds", {"reason": "x"}).json_body["refund_id"]
    (code,) = RefundRecord.get(refund_id).ticket_codes
    TicketRecord(code=code).update(actions=[TicketRecord.status.set("REVOKED"), TicketRecord.revoked.set("revoked")])
    # As the indexes before issue 18 had them: constant keys, no listed_at or status_key.
    RefundRecord(refund_id=refund_id).update(actions=[RefundRecord.listed_at.remove(), RefundRecord.status_key.remove()])
    finance, scanner = staff("finance"), staff("scanner")

    def found() -> tuple[bool, bool]:
        queue = [r["refund_id"] for r in finance.get("/admin/refunds?status=REQUESTED").json_body["items"]]
        return refund_id in queue, bool(scanner.get("/scanner/offline-pack").json_body["revoked"])
    assert found() == (False, False)
    assert (backfill_index_keys.backfill_refunds(), backfill_index_keys.backfill_revoked_tickets()) == (1, 1)
    assert found() == (True, True)
    assert (backfill_index_keys.backfill_refunds(), backfill_index_keys.backfill_revoked_tickets()) == (0, 0)
