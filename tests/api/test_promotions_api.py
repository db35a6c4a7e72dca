"""Promotions through the API on the embedded AWS: coupons claimed and held by orders, full
reductions and member tiers priced in, zero-total orders, and each unit's refund."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.adapters.tables import SkuRecord, UserCouponRecord

from .conftest import clock_ahead, drain_queues, expire_due, iso, merch_body, order_body, ticket_body

NOW = datetime.now(timezone.utc)


def coupon_body(**extra: Any) -> dict[str, Any]:
    body = {"name": "满100减20", "kind": "cash", "amount": 2000, "threshold": 10000,
            "claim_from": iso(NOW - timedelta(hours=1)), "claim_until": iso(NOW + timedelta(days=1)),
            "valid_days": 7}
    return {**body, **extra}


@pytest.fixture
def make_coupon(staff):  # type: ignore[no-untyped-def]
    editor = staff("merchandiser")

    def make(**extra: Any) -> dict[str, Any]:
        r = editor.post("/admin/coupons", coupon_body(**extra))
        assert r.status_code == 201, r.body
        return r.json_body
    return make


def claimed(api, coupon_id: str) -> str:  # type: ignore[no-untyped-def]
    r = api.post(f"/coupons/{coupon_id}/claim", {})
    assert r.status_code == 201, r.body
    return r.json_body["user_coupon_id"]


def status_of(user_coupon_id: str) -> str:
    return UserCouponRecord.get(user_coupon_id).status


def pay(anonymous, order: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    assert anonymous.post(f"/dev/payments/{order['order_id']}/succeed", {}).json_body["notify_status"] == 204


# ------------------------------------------------------------------ coupons: staff and claims

@pytest.mark.parametrize("change, field", [
    ({"kind": "cash", "amount": None}, "amount"), ({"kind": "percent", "amount": 100}, "amount"),
    ({"kind": "percent", "amount": None, "percent_off": 100}, "percent_off"),
    ({"claim_until": iso(NOW - timedelta(days=1))}, "claim_until"),
    ({"valid_days": None}, "valid_days"), ({"valid_from": iso(NOW)}, "valid_days"),
    ({"amount": 20000}, "amount"), ({"scope": {"kinds": ["boat"]}}, "scope.kinds"), ({"total": 0}, "total"),
])
def test_a_coupon_that_makes_no_sense_is_refused_whole(staff, change, field) -> None:  # type: ignore[no-untyped-def]
    body = {k: v for k, v in {**coupon_body(), **change}.items() if v is not None}
    r = staff("admin").post("/admin/coupons", body)
    assert r.status_code == 400 and r.json_body["details"]["field"] == field, r.body
    assert staff("admin").get("/admin/coupons").json_body["items"] == []


def test_a_claim_is_counted_against_the_total_and_the_customers_limit(make_coupon, customer, anonymous, staff,
                                                                      figures) -> None:  # type: ignore[no-untyped-def]
    coupon = make_coupon(total=2, per_user_limit=1)
    listed = anonymous.get("/coupons").json_body["items"]
    assert [(c["coupon_id"], c["remaining"]) for c in listed] == [(coupon["coupon_id"], 2)]
    alice, bob, carol = customer(), customer(), customer()
    mine = alice.post(f"/coupons/{coupon['coupon_id']}/claim", {})
    assert mine.status_code == 201 and mine.json_body["status"] == "AVAILABLE"
    valid_until = datetime.fromisoformat(mine.json_body["valid_until"])
    assert valid_until.hour == 0 and valid_until.minute == 0           # the end of a venue day
    again = alice.post(f"/coupons/{coupon['coupon_id']}/claim", {})
    assert again.status_code == 422 and again.json_body["code"] == "COUPON_LIMIT_REACHED"
    claimed(bob, coupon["coupon_id"])
    late = carol.post(f"/coupons/{coupon['coupon_id']}/claim", {})
    assert late.status_code == 409 and late.json_body["code"] == "COUPON_EXHAUSTED"
    assert anonymous.get("/coupons").json_body["items"] == []          # nothing left to claim
    figures()                                                          # staff's counts follow the stream
    shown = staff("finance").get(f"/admin/coupons/{coupon['coupon_id']}").json_body
    assert (shown["issued"], shown["available"], shown["remaining"], shown["used"]) == (2, 2, 0, 0)
    assert [c["user_coupon_id"] for c in alice.get("/me/coupons").json_body["items"]] == \
        [mine.json_body["user_coupon_id"]]
    assert SkuRecord.get(coupon["coupon_id"]).inventory is None        # not in staff's stock list


def test_a_coupon_for_a_grab_is_split_at_creation_or_by_staff(make_coupon, customer, staff) -> None:  # type: ignore[no-untyped-def]
    """Its claims left are a stock item split like a hot session's (they were once refused:
    SKU_NOT_FOUND after the coupon was written); staff still cannot adjust them by hand."""
    grab = make_coupon(total=10_000)
    assert int(SkuRecord.get(grab["coupon_id"]).stock_shards) == 4
    claimed(customer(), grab["coupon_id"])
    assert staff("finance").get(f"/admin/coupons/{grab['coupon_id']}").json_body["remaining"] == 9_999
    small = make_coupon(total=40)
    split = staff("admin").post(f"/admin/inventory/{small['coupon_id']}/shards", {"shards": 4})
    assert split.status_code == 200 and split.json_body["stock_shards"] == 4
    r = staff("admin").post(f"/admin/inventory/{small['coupon_id']}/adjustments", {"delta": 5, "reason": "x"})
    assert r.status_code == 404 and r.json_body["code"] == "SKU_NOT_FOUND"


def test_a_claim_with_an_idempotency_key_is_made_once(make_coupon, customer) -> None:  # type: ignore[no-untyped-def]
    coupon = make_coupon(total=5, per_user_limit=3)
    alice = customer()
    first = alice.post(f"/coupons/{coupon['coupon_id']}/claim", {}, headers={"Idempotency-Key": "tap"})
    second = alice.post(f"/coupons/{coupon['coupon_id']}/claim", {}, headers={"Idempotency-Key": "tap"})
    assert first.status_code == second.status_code == 201
    assert first.json_body["user_coupon_id"] == second.json_body["user_coupon_id"]
    assert len(alice.get("/me/coupons").json_body["items"]) == 1


def test_a_stopped_or_closed_coupon_cannot_be_claimed_and_the_total_only_grows(make_coupon, customer, staff) -> None:  # type: ignore[no-untyped-def]
    editor = staff("merchandiser")
    coupon = make_coupon(total=1)
    early = make_coupon(claim_from=iso(NOW + timedelta(hours=1)), claim_until=iso(NOW + timedelta(hours=2)))
    assert customer().post(f"/coupons/{early['coupon_id']}/claim", {}).json_body["code"] == "NOT_CLAIMABLE"
    shrink = editor.patch(f"/admin/coupons/{coupon['coupon_id']}", {"total": 0})
    assert shrink.status_code == 400
    lower = make_coupon(total=5)
    r = editor.patch(f"/admin/coupons/{lower['coupon_id']}", {"total": 3})
    assert r.status_code == 409 and r.json_body["code"] == "INVALID_CHANGE"
    raised = editor.patch(f"/admin/coupons/{coupon['coupon_id']}", {"total": 3})
    assert raised.status_code == 200 and raised.json_body["total"] == 3 and raised.json_body["remaining"] == 3
    for _ in range(3):
        claimed(customer(), coupon["coupon_id"])
    assert customer().post(f"/coupons/{coupon['coupon_id']}/claim", {}).json_body["code"] == "COUPON_EXHAUSTED"
    stopped = editor.patch(f"/admin/coupons/{lower['coupon_id']}", {"status": "stopped"})
    assert stopped.json_body["status"] == "stopped"
    assert customer().post(f"/coupons/{lower['coupon_id']}/claim", {}).json_body["code"] == "NOT_CLAIMABLE"
    assert staff("scanner").get("/admin/coupons").status_code == 403
    assert staff("finance").post("/admin/coupons", coupon_body()).status_code == 403


def test_grants_count_like_claims_and_are_audited(make_coupon, customer, staff) -> None:  # type: ignore[no-untyped-def]
    coupon = make_coupon(total=2)
    alice, bob, carol = customer(), customer(), customer()
    ids = [c.get("/me").json_body["user_id"] for c in (alice, bob, carol)]
    claimed(alice, coupon["coupon_id"])
    r = staff("support").post(f"/admin/coupons/{coupon['coupon_id']}/grants",
                              {"user_ids": ids + ["Unobody"], "reason": "排队太久"})
    assert r.status_code == 200
    assert [g["user_id"] for g in r.json_body["granted"]] == [ids[1]]
    assert {(x["user_id"], x["code"]) for x in r.json_body["refused"]} == {
        (ids[0], "COUPON_LIMIT_REACHED"), (ids[2], "COUPON_EXHAUSTED"), ("Unobody", "CUSTOMER_NOT_FOUND")}
    audit = staff("admin").get("/admin/audit", ).json_body["items"]
    assert any(a["action"] == "coupon_granted" and a["details"]["reason"] == "排队太久" for a in audit)


# ------------------------------------------------------------------ coupons on orders

def test_a_coupon_prices_the_order_and_moves_with_it(make_coupon, make_product, customer, anonymous) -> None:  # type: ignore[no-untyped-def]
    coupon = make_coupon(total=10)
    _, (sku,) = make_product(ticket_body([10], price=3400))
    alice = customer()
    mine = claimed(alice, coupon["coupon_id"])
    r = alice.post("/orders", order_body((sku, 3), coupon_id=mine))
    assert r.status_code == 201, r.body
    order = r.json_body
    assert (order["subtotal"], order["discount"], order["total"]) == (10200, 2000, 8200)
    assert order["items"][0]["paid"] == 8200 and order["items"][0]["discount"] == 2000
    assert order["promotions"] == [{"kind": "coupon", "id": mine, "name": "满100减20", "amount": 2000}]
    assert status_of(mine) == "LOCKED"
    other = alice.post("/orders", order_body((sku, 3), coupon_id=mine))
    assert other.status_code == 409 and other.json_body["code"] == "COUPON_UNAVAILABLE"
    assert alice.post(f"/orders/{order['order_id']}/cancel", {}).status_code == 200
    assert status_of(mine) == "AVAILABLE"
    again = alice.post("/orders", order_body((sku, 3), coupon_id=mine)).json_body
    pay(anonymous, again)
    assert status_of(mine) == "USED"
    assert alice.get("/me/coupons?status=USED").json_body["items"][0]["order_id"] == again["order_id"]
    tickets = alice.get(f"/orders/{again['order_id']}/tickets").json_body["items"]
    assert len(tickets) == 3


@pytest.mark.parametrize("extra, code, status", [
    ({"threshold": 20000, "amount": 2000}, "COUPON_NOT_APPLICABLE", 422),
    ({"scope": {"kinds": ["merch"]}}, "COUPON_NOT_APPLICABLE", 422),
    ({"valid_from": iso(NOW - timedelta(days=2)), "valid_until": iso(NOW - timedelta(minutes=1)),
      "valid_days": None, "claim_from": iso(NOW - timedelta(days=3))}, "COUPON_UNAVAILABLE", 409),
])
def test_a_coupon_that_does_not_apply_is_refused_and_nothing_is_held(make_coupon, make_product, customer, extra, code,
                                                                     status) -> None:  # type: ignore[no-untyped-def]
    coupon = make_coupon(**{k: v for k, v in extra.items() if v is not None},
                         **({"valid_days": None} if "valid_days" in extra else {}))
    _, (sku,) = make_product(ticket_body([10], price=6000))
    alice = customer()
    mine = claimed(alice, coupon["coupon_id"])
    r = alice.post("/orders", order_body((sku, 2), coupon_id=mine))
    assert r.status_code == status and r.json_body["code"] == code, r.body
    assert SkuRecord.get(sku).available == 10 and status_of(mine) == "AVAILABLE"


def test_another_customers_coupon_cannot_be_used(make_coupon, make_product, customer) -> None:  # type: ignore[no-untyped-def]
    coupon = make_coupon()
    _, (sku,) = make_product(ticket_body([10], price=6000))
    mine = claimed(customer(), coupon["coupon_id"])
    r = customer().post("/orders", order_body((sku, 2), coupon_id=mine))
    assert r.status_code == 409 and r.json_body["code"] == "COUPON_UNAVAILABLE"
    bad = customer().post("/orders", order_body((sku, 2), coupon_id="CPN-not-a-user-coupon"))
    assert bad.status_code == 400 and bad.json_body["details"]["field"] == "coupon_id"


def test_expiry_gives_the_coupon_back(make_coupon, make_product, customer) -> None:  # type: ignore[no-untyped-def]
    coupon = make_coupon()
    _, (sku,) = make_product(ticket_body([10], price=6000))
    alice = customer()
    mine = claimed(alice, coupon["coupon_id"])
    alice.post("/orders", order_body((sku, 2), coupon_id=mine))
    with clock_ahead(timedelta(minutes=16)) as ctx:
        assert expire_due(ctx) == 1
    assert status_of(mine) == "AVAILABLE" and SkuRecord.get(sku).available == 10


# ------------------------------------------------------------------ full reductions, tiers, stacking

def test_member_discount_then_full_reduction_then_coupon(make_coupon, make_product, customer, staff, anonymous,
                                                          figures) -> None:  # type: ignore[no-untyped-def]
    admin = staff("admin")
    assert admin.put("/admin/member-tiers", {"tiers": [{"tier": 1, "name": "银卡", "min_spend": 10000,
                                                        "percent_off": 5}]}).status_code == 200
    _, (ticket,) = make_product(ticket_body([20], price=10000))
    _, (goods,) = make_product(merch_body([20], price=5000, member_discount=False))
    alice = customer()
    # Silver once she has paid 100 yuan (a member tier follows what was paid, from the streams).
    pay(anonymous, alice.post("/orders", order_body((ticket, 1))).json_body)
    figures()
    assert alice.get("/me").json_body == {"user_id": alice.get("/me").json_body["user_id"], "tier": 1,
                                          "tier_name": "银卡", "percent_off": 5, "spend": 10000}
    r = admin.post("/admin/promotions", {"name": "满200减30", "kind": "full_reduction",
                                         "tiers": [{"threshold": 20000, "amount": 3000},
                                                   {"threshold": 10000, "amount": 1000}],
                                         "scope": {"kinds": ["ticket"]},
                                         "starts_at": iso(NOW - timedelta(hours=1)),
                                         "ends_at": iso(NOW + timedelta(days=1))})
    assert r.status_code == 201 and r.json_body["running"] is True
    promotion_id = r.json_body["promotion_id"]
    mine = claimed(alice, make_coupon(kind="percent", amount=None, percent_off=10, max_discount=1500,
                                      threshold=0)["coupon_id"])
    quote = alice.post("/orders/quote", order_body((ticket, 2), (goods, 1), coupon_id=mine))
    assert quote.status_code == 200, quote.body
    placed = alice.post("/orders", order_body((ticket, 2), (goods, 1), coupon_id=mine)).json_body
    # member 5% of the tickets only (goods take none): 1000; 满减 on tickets 19000 >= 10000 (not
    # 20000 after the member step): 1000; coupon 10% of 18000 + 5000 = 2300, capped at 1500.
    assert [(p["kind"], p["amount"]) for p in placed["promotions"]] == [
        ("member", 1000), ("full_reduction", 1000), ("coupon", 1500)]
    assert placed["promotions"][1]["id"] == promotion_id
    assert (placed["subtotal"], placed["discount"], placed["total"]) == (25000, 3500, 21500)
    assert sum(i["paid"] for i in placed["items"]) == placed["total"]
    assert {k: quote.json_body[k] for k in ("subtotal", "discount", "total", "promotions")} == \
        {k: placed[k] for k in ("subtotal", "discount", "total", "promotions")}


def test_a_quote_reserves_nothing_and_ranks_the_coupons(make_coupon, make_product, customer, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([10], price=6000))
    alice = customer()
    small = claimed(alice, make_coupon(amount=500, threshold=0)["coupon_id"])
    large = claimed(alice, make_coupon(amount=3000, threshold=10000)["coupon_id"])
    claimed(alice, make_coupon(amount=5000, threshold=50000)["coupon_id"])        # below its threshold
    ddb_calls.reset()
    r = alice.post("/orders/quote", order_body((sku, 2)))
    assert r.status_code == 200
    assert "TransactWriteItems" not in ddb_calls.operations
    assert [(c["user_coupon_id"], c["discount"]) for c in r.json_body["applicable_coupons"]] == [
        (large, 3000), (small, 500)]
    assert r.json_body["total"] == 12000 and "order_id" not in r.json_body
    assert SkuRecord.get(sku).available == 10 and status_of(large) == "AVAILABLE"


def test_placing_with_a_coupon_and_promotions_is_still_one_read_and_one_transaction(make_coupon, make_product,
                                                                                      customer, staff, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    staff("admin").put("/admin/member-tiers", {"tiers": [{"tier": 1, "name": "银卡", "min_spend": 1,
                                                         "percent_off": 5}]})
    _, (sku,) = make_product(ticket_body([10], price=6000))
    alice = customer()
    mine = claimed(alice, make_coupon(threshold=0, amount=100)["coupon_id"])
    alice.post("/orders/quote", order_body((sku, 1)))                       # the cache of promotions, warm
    ddb_calls.reset()
    r = alice.post("/orders", order_body((sku, 2), coupon_id=mine))
    assert r.status_code == 201, r.body
    assert ddb_calls.operations == ["BatchGetItem", "TransactWriteItems"]


# ------------------------------------------------------------------ zero total, refunds by unit

def test_an_order_promotions_pay_in_full_is_paid_at_once_with_no_trade(make_coupon, make_product, customer) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([10], price=1500))
    alice = customer()
    mine = claimed(alice, make_coupon(amount=5000, threshold=0)["coupon_id"])
    r = alice.post("/orders", order_body((sku, 2), coupon_id=mine))
    assert r.status_code == 201, r.body
    assert r.json_body["status"] == "PAID" and r.json_body["total"] == 0 and r.json_body["payment"] is None
    assert len(alice.get(f"/orders/{r.json_body['order_id']}/tickets").json_body["items"]) == 2
    assert status_of(mine) == "USED" and SkuRecord.get(sku).sold == 2
    from .conftest import sandbox
    assert r.json_body["order_id"] not in str(sandbox().refunds())


def test_each_unit_refunds_its_share_and_a_full_refund_gives_the_coupon_back(make_coupon, make_product, customer,
                                                                               anonymous, deliver_notices) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([10], price=1000))
    alice = customer()
    mine = claimed(alice, make_coupon(amount=100, threshold=0)["coupon_id"])
    order = alice.post("/orders", order_body((sku, 3), coupon_id=mine)).json_body
    assert order["total"] == 2900
    pay(anonymous, order)
    tickets = [t["ticket_id"] for t in alice.get(f"/orders/{order['order_id']}/tickets").json_body["items"]]
    amounts = []
    for ticket_id in reversed(tickets):            # refunded one by one, in another order than issued
        r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "plans changed", "ticket_ids": [ticket_id]})
        assert r.status_code == 202, r.body
        amounts.append(r.json_body["amount"])
        drain_queues()
        deliver_notices()
    assert sorted(amounts) == [966, 967, 967] and sum(amounts) == 2900
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "REFUNDED"
    assert status_of(mine) == "AVAILABLE"


def test_a_coupon_not_returnable_stays_used_after_a_full_refund(make_coupon, make_product, customer, anonymous,
                                                                 deliver_notices) -> None:  # type: ignore[no-untyped-def]
    _, (sku,) = make_product(ticket_body([10], price=1000))
    alice = customer()
    mine = claimed(alice, make_coupon(amount=100, threshold=0, returnable=False)["coupon_id"])
    order = alice.post("/orders", order_body((sku, 1), coupon_id=mine)).json_body
    pay(anonymous, order)
    assert alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "x"}).json_body["amount"] == 900
    drain_queues()
    deliver_notices()
    assert alice.get(f"/orders/{order['order_id']}").json_body["status"] == "REFUNDED"
    assert status_of(mine) == "USED"
