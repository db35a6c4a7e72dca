"""Promotions at their edges through the API (from the review of issue 22): a free order refunded
sandbox. Each test states what the contract expects and FAILS on the reviewed code."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib import bootstrap
from chalicelib.adapters.tables import SkuRecord, UserCouponRecord
from chalicelib.service_layer import refund_settlement

from .conftest import drain_queues, iso, order_body, ticket_body

NOW = datetime.now(timezone.utc)


def coupon_body(**extra: Any) -> dict[str, Any]:
    return {"name": "免费入场", "kind": "cash", "amount": 5000, "threshold": 0,
            "claim_from": iso(NOW - timedelta(hours=1)), "claim_until": iso(NOW + timedelta(days=1)),
            "valid_days": 7, **extra}


def test_a_free_order_can_be_refunded_and_gives_its_coupon_back(staff, make_product, customer) -> None:  # type: ignore[no-untyped-def]
    """F2 through the sandbox: an order promotions paid in full (no WeChat trade) is refunded
    before admission opens (approved at once). Its refund of 0 fen is sent to WeChat for a trade
    WeChat never had: the sandbox answers 400 (订单不存在或未支付), the refund FAILS on its last
    attempt with a critical alert, the tickets stay revoked, the seats never come back and the
    coupon stays USED. Expected: the order REFUNDED, stock back, the coupon AVAILABLE."""
    editor = staff("merchandiser")
    _, (sku,) = make_product(ticket_body([10], price=1500))
    alice = customer()
    coupon = editor.post("/admin/coupons", coupon_body()).json_body
    mine = alice.post(f"/coupons/{coupon['coupon_id']}/claim", {}).json_body["user_coupon_id"]
    order = alice.post("/orders", order_body((sku, 2), coupon_id=mine)).json_body
    assert order["status"] == "PAID" and order["total"] == 0
    r = alice.post(f"/orders/{order['order_id']}/refunds", {"reason": "plans changed"})
    assert r.status_code == 202, r.body
    refund_id = r.json_body["refund_id"]
    ctx = bootstrap.context()
    try:
        drain_queues()
    except Exception:
        pass
    try:
        refund_settlement.process_refund(ctx, refund_id, ctx.refund_max_attempts)
    except Exception:
        pass
    refund = ctx.refunds.get(refund_id)
    assert refund is not None
    states = (refund.status.value, alice.get(f"/orders/{order['order_id']}").json_body["status"],
              UserCouponRecord.get(mine).status, int(SkuRecord.get(sku).available))
    assert states == ("SUCCEEDED", "REFUNDED", "AVAILABLE", 10), states


def test_staff_reading_a_coupon_costs_the_same_however_many_claims_it_has(staff, customer, ddb_calls) -> None:  # type: ignore[no-untyped-def]
    """GET /admin/coupons/{id} (and GET /admin/coupons, and the answers of POST and PATCH
    /admin/coupons) count a coupon's claims by reading every user coupon: a Query of the
    coupon-index and one BatchGetItem per 100 claims, per coupon. A grab's coupon of 100,000
    claims makes a staff page (or the PATCH that stops it) read 100,000 items and time out.
    The claims' statuses are already counted in the figures (coupons#<day> buckets)."""
    admin = staff("admin")
    coupon = admin.post("/admin/coupons", coupon_body(total=500, per_user_limit=1)).json_body
    path = f"/admin/coupons/{coupon['coupon_id']}"

    def reads() -> int:
        ddb_calls.reset()
        assert admin.get(path).status_code == 200
        return len(ddb_calls.operations)
    with_none = reads()
    users = [f"U{n:016x}" for n in range(1, 251)]
    for start in range(0, len(users), 50):
        r = admin.post(f"{path}/grants", {"user_ids": users[start:start + 50], "reason": "goodwill"})
        assert r.status_code == 200 and len(r.json_body["granted"]) == 50, r.body
    with_many = reads()
    assert with_many == with_none, (with_none, with_many, ddb_calls.operations)
