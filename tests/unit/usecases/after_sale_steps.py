"""The steps of after-sales as the use-case tests take them: goods handed over at the counter, a
return or an exchange asked, received by support, a refund answered by WeChat."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.after_sales import parse_receipt, parse_request
from chalicelib.domain.coupons import Coupon
from chalicelib.domain.model import Fulfillment, Order
from chalicelib.domain.tickets import CodeKind
from chalicelib.service_layer import after_sale_receipts, after_sales, coupons, redemption, refund_settlement
from chalicelib.service_layer.context import Actor, Context

from .shop import customer, paid_order, refund_of, staff, stock_of, tickets_of

SUPPORT = staff("support", name="kefu")


def handed_over(ctx: Context, order: Order) -> None:
    [pickup] = tickets_of(ctx, order.order_id, CodeKind.PICKUP)
    redemption.redeem(ctx, staff("scanner", name="gate"), redemption.ScanRequest(pickup.qr, "g", "d", None, None))


def ask(ctx: Context, alice: Actor, order: Order, sku_id: str, quantity: int = 1, **body: Any) -> str:
    """A return of `quantity` units of a spec: the after-sale's id."""
    made = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(
        {"type": "return_refund", "lines": [{"sku_id": sku_id, "quantity": quantity}], "reason": "damaged", **body}))
    return made.after_sale_id


def approved_return(ctx: Context, sku_id: str, units: int = 2, coupon: Coupon | None = None
                    ) -> tuple[Actor, Order, str]:
    """A customer's `units` of a spec (paid with `coupon` when given), picked up, all asked back and
    approved: (the customer, the order, the after-sale's id)."""
    alice = customer(ctx)
    coupon_id = coupons.claim(ctx, alice, coupon.coupon_id)[0].user_coupon_id if coupon else None
    order = paid_order(ctx, alice, (sku_id, units), fulfillment=Fulfillment.PICKUP, coupon_id=coupon_id)
    handed_over(ctx, order)
    made = ask(ctx, alice, order, sku_id, units)
    after_sales.approve(ctx, SUPPORT, made)
    return alice, order, made


def exchange(ctx: Context, alice: Actor, order: Order, sku_id: str, to: str, quantity: int = 1) -> str:
    made = after_sales.request_after_sale(ctx, alice, order.order_id, parse_request(
        {"type": "exchange", "lines": [{"sku_id": sku_id, "quantity": quantity}], "reason": "size",
         "exchange_sku_id": to}))
    return made.after_sale_id


def receive(ctx: Context, after_sale_id: str, restock: bool = True) -> str | None:
    """Support receive the goods: the return's refund id (None for an exchange)."""
    _, refund = after_sale_receipts.receive(ctx, SUPPORT, after_sale_id, parse_receipt({"restock": restock}))
    return refund.refund_id if refund else None


def settle(ctx: Context, refund_id: str, answer: str = "SUCCESS") -> str:
    ctx.wechat_pay.refund_answers[refund_of(ctx, refund_id).out_refund_no] = answer   # type: ignore[attr-defined]
    return refund_settlement.process_refund(ctx, refund_id, 1)


def ledger_agrees(ctx: Context, sku_id: str) -> bool:
    return sum(ctx.stock.all_movements(sku_id)) == stock_of(ctx, sku_id)[0]      # type: ignore[attr-defined]
