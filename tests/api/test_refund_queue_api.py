"""The refund queue says what each refund takes back (product, session or spec, units, fen) and
for whom (the order's contact, masked), to staff only, without a read per refund."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.refund_repository import REFUND_INDEX_SHARDS
from chalicelib.adapters.tables import RefundRecord

from .conftest import merch_body, order_body, ticket_body

CONTACT = {"name": "王小明", "phone": "13912340000"}


@pytest.fixture
def paid(customer, make_product, anonymous):  # type: ignore[no-untyped-def]
    def buy(body: dict[str, Any], *quantities: int, **order_extra: Any):  # type: ignore[no-untyped-def]
        product, skus = make_product(body)
        alice = customer()
        lines = [(sku, q) for sku, q in zip(skus, quantities) if q]
        order = alice.post("/orders", {**order_body(*lines, **order_extra), "contact": CONTACT}).json_body
        assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204
        return alice, order, product
    return buy


def _ask(alice, order: dict[str, Any], **body: Any) -> str:  # type: ignore[no-untyped-def]
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "plans changed", **body})
    assert r.status_code == 202, r.body
    assert set(r.json_body) <= {"refund_id", "status", "amount", "tickets", "review_reasons"}
    return r.json_body["refund_id"]


def test_staff_see_what_a_refund_takes_back_and_for_whom_customers_do_not(paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, product = paid(ticket_body([10, 10], admission_open=True), 2, 1)
    tickets = alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]
    first_session = [t["ticket_id"] for t in tickets if t["sku_id"] == product["skus"][0]["sku_id"]]
    refund_id = _ask(alice, order, ticket_ids=first_session)
    finance = staff("finance")
    queue = finance.get("/admin/refunds?status=REQUESTED").json_body["items"]
    (shown,) = [r for r in queue if r["refund_id"] == refund_id]
    sku = product["skus"][0]
    assert shown["items"] == [{"sku_id": sku["sku_id"], "product_name": product["name"], "name": sku["name"],
                               "session": sku["session"], "quantity": 2, "amount": 2 * 6000}]
    assert shown["contact"] == {"name": "王**", "phone": "139****0000"}
    assert shown["amount"] == sum(i["amount"] for i in shown["items"])
    # The phone is encrypted at rest on the refund, as on its order.
    stored = RefundRecord.get(refund_id).attribute_values
    assert "13912340000" not in str(stored) and "王小明" not in str(stored) and stored["contact"]
    # The customer's own list of the order's refunds carries neither.
    (own,) = alice.get(f"/orders/{order['order_id']}/refunds").json_body["items"]
    assert "items" not in own and "contact" not in own and own["refund_id"] == refund_id
    # Staff reading the order's refunds, and the decision's answer, carry both.
    (of_order,) = finance.get(f"/orders/{order['order_id']}/refunds").json_body["items"]
    assert of_order["items"] == shown["items"] and of_order["contact"] == shown["contact"]
    approved = finance.post(f"/admin/refunds/{refund_id}/approve")
    assert approved.status_code == 200 and approved.json_body["items"] == shown["items"]
    assert approved.json_body["contact"] == shown["contact"]


def test_goods_are_named_by_their_spec_and_the_units_they_refund(paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, product = paid(merch_body([5, 5], price=3900), 0, 1, fulfillment="pickup")
    refund_id = _ask(alice, order)
    (shown,) = [r for r in staff("finance").get("/admin/refunds").json_body["items"] if r["refund_id"] == refund_id]
    sku = product["skus"][1]
    assert shown["items"] == [{"sku_id": sku["sku_id"], "product_name": product["name"], "name": sku["name"],
                               "quantity": 1, "amount": 3900}]
    assert shown["goods"] is True and shown["contact"]["phone"] == "139****0000"
    rejected = staff("finance").post(f"/admin/refunds/{refund_id}/reject", {"reason": "used"})
    assert rejected.status_code == 200 and rejected.json_body["items"] == shown["items"]


def test_a_page_of_refunds_is_read_in_the_same_requests_however_many_and_old_ones_from_their_orders_at_once(
        paid, staff, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    made = []
    for _ in range(3):
        alice, order, _ = paid(ticket_body([10], admission_open=True), 2)
        made.append((_ask(alice, order), order))
    finance = staff("finance")
    ddb_calls.reset()
    page = finance.get("/admin/refunds?status=REQUESTED").json_body["items"]
    new = list(ddb_calls.operations)
    assert {r["refund_id"] for r in page} == {refund_id for refund_id, _ in made}
    assert all(r["items"][0]["quantity"] == 2 and r["contact"]["name"] == "王**" for r in page)
    # The status index's shards (one Query each, read together) and one BatchGetItem of the refunds:
    # the summary is on the refunds, no order is read.
    assert sorted(new) == ["BatchGetItem"] + ["Query"] * REFUND_INDEX_SHARDS, new
    # Refunds made before the summary was kept: their orders are read in ONE more BatchGetItem.
    for refund_id, _ in made[:2]:
        RefundRecord(refund_id=refund_id).update(actions=[RefundRecord.items.remove(), RefundRecord.contact.remove()])
    ddb_calls.reset()
    old_page = finance.get("/admin/refunds?status=REQUESTED").json_body["items"]
    assert sorted(ddb_calls.operations) == ["BatchGetItem"] * 2 + ["Query"] * REFUND_INDEX_SHARDS, ddb_calls.operations
    assert [{k: r[k] for k in ("refund_id", "items", "contact")} for r in old_page] == \
        [{k: r[k] for k in ("refund_id", "items", "contact")} for r in page]
    print(f"\nrequests for a page of {len(page)} refunds: summarised {len(new)} {new}; "
          f"two without a summary {len(ddb_calls.operations)}")


def test_an_old_refund_of_several_skus_names_them_all_and_its_amounts_only_where_certain(
        paid, staff) -> None:  # type: ignore[no-untyped-def]
    alice, order, product = paid(ticket_body([10, 10], admission_open=True), 2, 1)
    refund_id = _ask(alice, order)
    finance = staff("finance")
    (before,) = finance.get(f"/orders/{order['order_id']}/refunds").json_body["items"]
    assert [i["quantity"] for i in before["items"]] == [2, 1] or [i["quantity"] for i in before["items"]] == [1, 2]
    RefundRecord(refund_id=refund_id).update(actions=[RefundRecord.items.remove(), RefundRecord.contact.remove()])
    (after,) = finance.get(f"/orders/{order['order_id']}/refunds").json_body["items"]
    # The whole of both lines: each line's paid is what it refunds.
    assert after["items"] == before["items"] and after["contact"] == before["contact"]
    (own,) = alice.get(f"/orders/{order['order_id']}/refunds").json_body["items"]
    assert "items" not in own and "contact" not in own


def test_money_that_bought_nothing_takes_nothing_back_and_still_names_its_contact(
        customer, make_product, anonymous, staff) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([10]))
    order = customer().post("/orders", {**order_body((sku, 2)), "contact": CONTACT}).json_body
    r = anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {"amount": 1, "transaction_id": "4200MISMATCH9"})
    assert r.json_body["notify_status"] == 204
    (shown,) = [r for r in staff("finance").get("/admin/refunds?status=APPROVED").json_body["items"]
                if r["order_id"] == order["order_id"]]
    assert (shown["source"], shown["amount"], shown["items"]) == ("automatic", 1, [])
    assert shown["contact"] == {"name": "王**", "phone": "139****0000"}
