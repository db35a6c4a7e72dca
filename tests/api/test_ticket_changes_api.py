"""改签 (POST /orders/{id}/tickets/{ticket_id}/reschedule) and a ticket's visitor (PATCH
/orders/{id}/tickets/{ticket_id}) through the API on moto: who may, every refusal in API.md's error
body, the revoked code in the gates' offline pack, both sessions' ledgers, a refund of a
rescheduled ticket, and the DynamoDB requests one reschedule costs."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.adapters.stock_ledger import StockLedger
from chalicelib.adapters.tables import TicketRecord
from chalicelib.domain.personal_data import resident_id_is_valid

from .conftest import clock_ahead, drain_queues, order_body, ticket_body


def resident_id(seed: int) -> str:
    head = f"11010519900101{seed:03d}"
    return next(head + c for c in "0123456789X" if resident_id_is_valid(head + c))


def ledger_ok(sku_id: str) -> bool:
    """The SKU's ledgers (its shards' included) sum to its stock, and its stock is not negative."""
    sku = StockLedger().skus([sku_id])[sku_id]
    return sum(StockLedger().all_movements(sku_id)) == sku.available and sku.available >= 0


def stock(sku_id: str) -> tuple[int, int, int]:
    sku = StockLedger().skus([sku_id])[sku_id]
    return sku.available, sku.reserved, sku.sold


@pytest.fixture
def shop(customer, make_product, anonymous):  # type: ignore[no-untyped-def]
    """A paid order of two tickets of a product's first session; its other sessions alike."""
    def buy(stocks: list[int] | None = None, quantity: int = 2, **product: Any):  # type: ignore[no-untyped-def]
        body, skus = make_product(ticket_body(stocks or [5, 5, 5], **product))
        alice = customer()
        extra: dict[str, Any] = {}
        if product.get("real_name"):
            extra["visitors"] = [{"name": f"游客{i}", "id_number": resident_id(i)} for i in range(quantity)]
        order = alice.post("/orders", order_body((skus[0], quantity), **extra)).json_body
        assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
        tickets = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
        return alice, order["order_id"], skus, tickets, body
    return buy


def reschedule(api, order_id: str, ticket_id: str, sku_id: Any):  # type: ignore[no-untyped-def]
    return api.post(f"/orders/{order_id}/tickets/{ticket_id}/reschedule", {"sku_id": sku_id})


def error(r: Any) -> tuple[int, str, Any]:
    return r.status_code, r.json_body["code"], r.json_body.get("details", {}).get("reason")


def test_a_reschedule_moves_the_ticket_and_one_unit_between_sessions(shop, staff, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, _), (old, other), _ = shop()
    assert {t["reschedules_left"] for t in (old, other)} == {1}
    ddb_calls.reset()
    r = reschedule(alice, order_id, old["ticket_id"], b)
    assert r.status_code == 200, r.body
    # the order; its codes (index, then one batch); both sessions (one batch); the product; its
    # refunds (one waiting for review keeps the ticket); then everything in ONE transaction; then
    # the new session kept for its day-before reminder (one put; a session not of tomorrow reads nothing)
    assert ddb_calls.operations == ["GetItem", "Query", "BatchGetItem", "BatchGetItem", "GetItem", "Query",
                                    "TransactWriteItems", "PutItem"]
    new = r.json_body
    assert (new["sku_id"], new["status"], new["reschedules_left"], new["rescheduled_from"]) == \
        (b, "VALID", 0, old["ticket_id"])
    assert new["code"] != old["code"] and new["qr"] != old["qr"] and new["qr"].startswith("MM1.")
    assert set(new) <= set(old) | {"rescheduled_from"}
    listed = {t["ticket_id"]: t for t in alice.get(f"/orders/{order_id}/tickets").json_body["items"]}
    assert listed[old["ticket_id"]]["status"] == "REVOKED" and listed[new["ticket_id"]] == new
    assert listed[old["ticket_id"]]["reschedules_left"] == 0 and len(listed) == 3
    assert stock(a) == (4, 0, 1) and stock(b) == (4, 0, 1) and ledger_ok(a) and ledger_ok(b)
    assert TicketRecord.get(new["code"].replace("-", "")).paid == TicketRecord.get(old["code"].replace("-", "")).paid
    pack = staff("scanner").get("/scanner/offline-pack").json_body
    assert old["ticket_id"] in pack["revoked"] and new["ticket_id"] not in pack["revoked"]
    movements = staff("merchandiser").get(f"/admin/inventory/{b}/movements").json_body["items"]
    assert [(m["delta"], m["reason"], m.get("order_id")) for m in movements][-1] == (-1, "reschedule_in", order_id)
    entries = staff("auditor").get("/admin/audit?action=ticket_rescheduled").json_body["items"]
    assert [e["target"] for e in entries] == [old["ticket_id"]]


def test_the_old_code_no_longer_admits_and_the_new_one_does(shop, staff, make_product) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, _), (old, _), _ = shop(admission_open=True)
    new = reschedule(alice, order_id, old["ticket_id"], b).json_body
    gate = staff("scanner")
    scan = {"gate": "east", "device_id": "d1"}
    assert gate.post("/redemptions", {"code": old["qr"], **scan}).json_body["reason"] == "revoked"
    assert gate.post("/redemptions", {"code": new["qr"], **scan}).json_body["result"] == "ok"


def test_customers_once_and_before_the_cutoff_staff_any_time_before_use(shop, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, c), (first, second), _ = shop()
    new = reschedule(alice, order_id, first["ticket_id"], b).json_body
    assert error(reschedule(alice, order_id, new["ticket_id"], c)) == (409, "NOT_RESCHEDULABLE", "limit")
    support = staff("support")
    by_support = reschedule(support, order_id, new["ticket_id"], c)
    assert by_support.status_code == 200 and by_support.json_body["reschedules_left"] == 0
    with clock_ahead(timedelta(days=2) - timedelta(minutes=119)):
        assert error(reschedule(alice, order_id, second["ticket_id"], c)) == (409, "NOT_RESCHEDULABLE", "too_late")
        assert reschedule(staff("admin"), order_id, second["ticket_id"], c).status_code == 200
    assert stock(a) == (5, 0, 0) and stock(c) == (3, 0, 2) and stock(b) == (5, 0, 0)
    assert all(ledger_ok(s) for s in (a, b, c))
    assert staff("finance").post(f"/orders/{order_id}/tickets/x/reschedule", {"sku_id": c}).status_code == 403
    assert staff("scanner").post(f"/orders/{order_id}/tickets/x/reschedule", {"sku_id": c}).status_code == 403


def test_the_products_cutoff_is_set_shown_and_applied(shop, admin) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, _), (first, _), product = shop(reschedule_cutoff_minutes=3000)
    assert product["reschedule_cutoff_minutes"] == 3000
    assert error(reschedule(alice, order_id, first["ticket_id"], b)) == (409, "NOT_RESCHEDULABLE", "too_late")
    edited = admin.patch(f"/admin/products/{product['product_id']}", {"reschedule_cutoff_minutes": None})
    assert edited.status_code == 200 and edited.json_body["reschedule_cutoff_minutes"] == 120
    assert reschedule(alice, order_id, first["ticket_id"], b).status_code == 200


def test_only_a_session_of_the_same_product_at_the_same_price(shop, admin, make_product) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, _), (first, _), product = shop()
    _, (elsewhere,) = make_product(ticket_body([5]))
    session = product["skus"][0]["session"]
    dearer = admin.post(f"/admin/products/{product['product_id']}/skus",
                        {"name": "VIP", "price": 9000, "stock": 5, "session": session}).json_body["sku_id"]
    assert error(reschedule(alice, order_id, first["ticket_id"], elsewhere)) == (409, "NOT_RESCHEDULABLE",
                                                                                 "other_product")
    assert error(reschedule(alice, order_id, first["ticket_id"], dearer)) == (409, "NOT_RESCHEDULABLE", "other_price")
    assert error(reschedule(alice, order_id, first["ticket_id"], a)) == (409, "NOT_RESCHEDULABLE", "same_session")
    unknown = a[:-1] + ("Z" if a[-1] != "Z" else "Y")                       # never the SKU itself
    assert error(reschedule(alice, order_id, first["ticket_id"], unknown))[:2] == (404, "SKU_NOT_FOUND")
    assert error(reschedule(alice, order_id, first["ticket_id"], "nonsense"))[:2] == (404, "SKU_NOT_FOUND")
    assert stock(a) == (3, 0, 2)


def test_a_sold_out_or_unlisted_session_is_refused_and_nothing_changes(shop, admin, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, c), (first, _), product = shop([5, 0, 5])
    ddb_calls.reset()
    assert error(reschedule(alice, order_id, first["ticket_id"], b))[:2] == (409, "SOLD_OUT")
    assert "TransactWriteItems" not in ddb_calls.operations
    admin.patch(f"/admin/products/{product['product_id']}", {"status": "unlisted"})
    assert error(reschedule(alice, order_id, first["ticket_id"], c))[:2] == (409, "NOT_ON_SALE")
    assert {t["status"] for t in alice.get(f"/orders/{order_id}/tickets").json_body["items"]} == {"VALID"}
    assert stock(a) == (3, 0, 2) and stock(c) == (5, 0, 0)


def test_the_last_seat_goes_to_one_reschedule_only(shop) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, _), (first, second), _ = shop([5, 1, 5])
    assert reschedule(alice, order_id, first["ticket_id"], b).status_code == 200
    assert error(reschedule(alice, order_id, second["ticket_id"], b))[:2] == (409, "SOLD_OUT")
    assert stock(b) == (0, 0, 1) and ledger_ok(b) and ledger_ok(a)


def test_a_sharded_session_takes_the_unit_from_a_shard_and_its_refund_returns_it(shop, admin, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, _), (first, _), _ = shop([5, 8, 5])
    assert admin.post(f"/admin/inventory/{b}/shards", {"shards": 4}).status_code == 200
    new = reschedule(alice, order_id, first["ticket_id"], b)
    assert new.status_code == 200, new.body
    assert stock(b) == (7, 0, 1) and ledger_ok(b)
    refund = alice.post(f"/orders/{order_id}/refunds", {"reason": "x", "ticket_ids": [new.json_body["ticket_id"]]})
    assert refund.status_code == 202, refund.body
    drain_queues()
    deliver_notices()
    assert stock(b) == (8, 0, 0) and ledger_ok(b)


def test_refunding_a_rescheduled_ticket_returns_its_paid_and_the_new_sessions_unit(shop, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, _), (first, _), _ = shop()
    new = reschedule(alice, order_id, first["ticket_id"], b).json_body
    paid = int(TicketRecord.get(new["code"].replace("-", "")).paid)
    r = alice.post(f"/orders/{order_id}/refunds", {"reason": "x", "ticket_ids": [new["ticket_id"]]})
    assert r.status_code == 202 and r.json_body["amount"] == paid
    drain_queues()
    deliver_notices()
    assert alice.get(f"/orders/{order_id}/refunds").json_body["items"][0]["status"] == "SUCCEEDED"
    assert stock(b) == (5, 0, 0) and stock(a) == (4, 0, 1) and ledger_ok(a) and ledger_ok(b)
    assert alice.get(f"/orders/{order_id}").json_body["status"] == "PARTIALLY_REFUNDED"
    assert error(reschedule(alice, order_id, first["ticket_id"], b)) == (409, "NOT_RESCHEDULABLE", "revoked")
    assert error(reschedule(alice, order_id, new["ticket_id"], a)) == (409, "NOT_RESCHEDULABLE", "revoked")


def test_a_used_ticket_or_one_under_refund_review_is_not_rescheduled(shop, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, _), (first, second), _ = shop(admission_open=True)
    staff("scanner").post("/redemptions", {"code": first["qr"], "gate": "east", "device_id": "d1"})
    assert error(reschedule(alice, order_id, first["ticket_id"], b)) == (409, "NOT_RESCHEDULABLE", "used")
    review = alice.post(f"/orders/{order_id}/refunds", {"reason": "x", "ticket_ids": [second["ticket_id"]]})
    assert review.json_body["status"] == "REQUESTED"
    assert error(reschedule(staff("support"), order_id, second["ticket_id"], b)) == (409, "NOT_RESCHEDULABLE",
                                                                                     "under_refund")


def test_not_yours_not_there_and_malformed(shop, customer, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, (a, b, _), (first, _), _ = shop()
    assert error(reschedule(customer(), order_id, first["ticket_id"], b))[:2] == (404, "ORDER_NOT_FOUND")
    assert error(reschedule(alice, "O00000000000000AAAAAAAAAAAA", first["ticket_id"], b))[:2] == (404, "ORDER_NOT_FOUND")
    assert error(reschedule(alice, order_id, "T0000000000000000", b))[:2] == (404, "TICKET_NOT_FOUND")
    for body in ({}, {"sku_id": 5}, {"sku_id": b, "extra": 1}, [], {"sku_id": ""}):
        r = alice.post(f"/orders/{order_id}/tickets/{first['ticket_id']}/reschedule", body)
        assert r.status_code == 400 and r.json_body["code"] == "VALIDATION_ERROR", (body, r.body)
    assert staff("support").get(f"/orders/{order_id}").status_code == 200


# ------------------------------------------------------------------ the visitor

def change(api, order_id: str, ticket_id: str, visitor: Any):  # type: ignore[no-untyped-def]
    return api.patch(f"/orders/{order_id}/tickets/{ticket_id}", {"visitor": visitor})


def test_the_visitor_of_an_unused_ticket_changes_encrypted_masked_and_audited(shop, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, _, (first, second), _ = shop(real_name=True)
    number = resident_id(7)
    r = change(alice, order_id, first["ticket_id"], {"name": "王五", "id_number": number})
    assert r.status_code == 200, r.body
    assert r.headers.get("Cache-Control") == "no-store"
    visitor = r.json_body["visitor"]
    assert visitor["name"] == "王五" and visitor["id_type"] == "id_card" and number not in visitor["id_number"]
    assert r.json_body["qr"] == first["qr"]                              # the QR does not name the visitor
    raw = TicketRecord.get(first["code"].replace("-", ""))
    assert number not in (raw.visitor or "") and "王五" not in (raw.visitor or "")
    listed = {t["ticket_id"]: t for t in alice.get(f"/orders/{order_id}/tickets").json_body["items"]}
    assert listed[first["ticket_id"]]["visitor"] == visitor
    assert error(change(staff("support"), order_id, second["ticket_id"], {"name": "王五", "id_number": number}))[:2] \
        == (422, "DUPLICATE_VISITOR")
    passport = change(staff("admin"), order_id, second["ticket_id"], {"name": "Bob", "id_type": "passport",
                                                                      "id_number": "E12345678"})
    assert passport.status_code == 200 and passport.json_body["visitor"]["id_number"] != "E12345678"
    actors = [e["actor"] for e in staff("auditor").get("/admin/audit?action=ticket_visitor_changed").json_body["items"]]
    assert len(actors) == 2 and len(set(actors)) == 2          # the customer's change and the admin's


def test_a_visitor_is_not_changed_once_used_refunded_or_started(shop, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, _, (first, second), _ = shop(real_name=True)
    alice.post(f"/orders/{order_id}/refunds", {"reason": "x", "ticket_ids": [first["ticket_id"]]})
    visitor = {"name": "王五", "id_number": resident_id(7)}
    assert error(change(alice, order_id, first["ticket_id"], visitor))[:2] == (409, "INVALID_STATE")
    with clock_ahead(timedelta(days=2, minutes=1)):
        assert error(change(staff("support"), order_id, second["ticket_id"], visitor))[:2] == (409, "INVALID_STATE")


def test_a_malformed_visitor_is_a_400(shop, customer) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, _, (first, _), _ = shop(real_name=True)
    wrong_check_digit = resident_id(3)[:-1] + ("1" if resident_id(3)[-1] != "1" else "2")
    for body in ({}, {"visitor": {"name": "王五"}}, {"visitor": {"name": "王五", "id_number": wrong_check_digit}},
                 {"visitor": {"name": "", "id_number": resident_id(3)}}, {"visitor": "王五"},
                 {"visitor": {"name": "王五", "id_number": resident_id(3), "id_type": "visa"}},
                 {"visitor": {"name": "王五", "id_number": resident_id(3), "phone": "1"}}):
        r = alice.patch(f"/orders/{order_id}/tickets/{first['ticket_id']}", body)
        assert r.status_code == 400 and r.json_body["code"] == "VALIDATION_ERROR", (body, r.body)
    r = customer().patch(f"/orders/{order_id}/tickets/{first['ticket_id']}",
                         {"visitor": {"name": "王五", "id_number": resident_id(3)}})
    assert error(r)[:2] == (404, "ORDER_NOT_FOUND")


def test_a_ticket_sold_without_real_names_has_no_visitor_to_change(shop) -> None:  # type: ignore[no-untyped-def]
    alice, order_id, _, (first, _), _ = shop()
    r = change(alice, order_id, first["ticket_id"], {"name": "王五", "id_number": resident_id(3)})
    assert error(r) == (409, "INVALID_STATE", "not_real_name")


def test_the_admission_report_counts_a_rescheduled_ticket_in_its_new_session(  # type: ignore[no-untyped-def]
        make_product, customer, anonymous, staff, figures) -> None:
    """Tickets out per SKU follow a 改签 (the ticket stream moves the count), and a refund of the
    rescheduled ticket takes it out of the new session, not the old one."""
    _, (adult, other) = make_product(ticket_body([20, 20], admission_open=True))
    alice = customer()
    order = alice.post("/orders", order_body((adult, 3))).json_body
    anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {})
    tickets = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    moved = [reschedule(alice, order["order_id"], t["ticket_id"], other).json_body for t in tickets[:2]]
    scanner = staff("scanner")
    assert scanner.post("/redemptions", {"code": moved[0]["qr"], "gate": "东门", "device_id": "pda-1"}
                        ).json_body["result"] == "ok"
    asked = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "ill", "ticket_ids": [moved[1]["ticket_id"]]})
    assert staff("finance").post(f"/admin/refunds/{asked.json_body['refund_id']}/approve").status_code == 200
    figures()
    rows = staff("support").get("/admin/reports/redemptions?group_by=sku").json_body["rows"]
    assert {row["key"]: row["issued"] for row in rows} == {other: 1}      # 2 moved in, 1 refunded
    assert staff("support").get("/admin/reports/redemptions?group_by=session").json_body["rows"][0]["issued"] == 2
