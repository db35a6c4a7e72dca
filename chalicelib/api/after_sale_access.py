"""The routing table's rules of API.md's "After-sales for goods" (售后: 退货退款, 换货)."""
from __future__ import annotations

from .access_rule import CUSTOMER, ORDER_STAFF, PAGE, Rule, who as _who

AFTER_SALE_DECIDERS = _who("support", "admin")
_STEP_ERRORS = ("AFTER_SALE_NOT_FOUND", "INVALID_STATE")

AFTER_SALE_ROUTES: dict[tuple[str, str], Rule] = {
    ("POST", "/orders/{order_id}/after-sales"): Rule(
        _who(CUSTOMER), "Ask to return (return_refund) or exchange goods already handed over (pickup code redeemed) "
        "or received (COMPLETED after shipping), within AFTER_SALES_DAYS (default 7) of that: 422 AFTER_SALES_CLOSED "
        "after. Never more units than were bought, never units already under after-sales (409 INVALID_STATE). An "
        "exchange is of one line, for another spec (SKU) of the same product at the same price",
        request="AfterSaleRequest", response="AfterSale", status=201, idempotent=True,
        errors=("ORDER_NOT_FOUND", "SKU_NOT_FOUND", "INVALID_STATE", "AFTER_SALES_CLOSED", "IDEMPOTENCY_KEY_REUSED"),
        tags=("after-sales",)),
    ("GET", "/orders/{order_id}/after-sales"): Rule(
        _who(CUSTOMER) | ORDER_STAFF, "The after-sales of an order, oldest first, each with its history",
        response="AfterSaleList", errors=("ORDER_NOT_FOUND",), tags=("after-sales",)),
    ("POST", "/orders/{order_id}/after-sales/{after_sale_id}/return"): Rule(
        _who(CUSTOMER), "The goods were sent back ({carrier, tracking_no}) or brought to the shop ({at_counter: "
        "true}): APPROVED -> RETURNING", request="AfterSaleReturn", response="AfterSale",
        errors=("ORDER_NOT_FOUND",) + _STEP_ERRORS, tags=("after-sales",)),
    ("POST", "/orders/{order_id}/after-sales/{after_sale_id}/cancel"): Rule(
        _who(CUSTOMER), "Withdraw the request before the goods are received: its units may be asked for again, a "
        "reserved replacement is released", response="AfterSale", optional_body=True,
        errors=("ORDER_NOT_FOUND",) + _STEP_ERRORS, tags=("after-sales",)),
    ("GET", "/admin/after-sales"): Rule(
        ORDER_STAFF, "After-sales by status (default REQUESTED) and type (both when left out), newest first",
        response="AfterSalePage", query=("status:after_sale_status", "type:after_sale_type") + PAGE,
        tags=("after-sales",)),
    ("POST", "/admin/after-sales/{after_sale_id}/approve"): Rule(
        AFTER_SALE_DECIDERS, "Accept a request; an exchange's replacement is reserved in the same transaction (409 "
        "SOLD_OUT)", response="AfterSale", optional_body=True, errors=_STEP_ERRORS + ("SOLD_OUT",),
        tags=("after-sales",)),
    ("POST", "/admin/after-sales/{after_sale_id}/reject"): Rule(
        AFTER_SALE_DECIDERS, "Refuse a request (before its goods are received): its units may be asked for again, "
        "a reserved replacement is released", request="AfterSaleReject", response="AfterSale",
        errors=_STEP_ERRORS, tags=("after-sales",)),
    ("POST", "/admin/after-sales/{after_sale_id}/receive"): Rule(
        _who("support", "merchandiser", "admin"), "The goods are back (APPROVED or RETURNING -> RECEIVED): restocked "
        "units go on sale again (movement reason return); a return becomes a refund of exactly those units' paid, "
        "approved with goods_returned and sent by the refunds queue (it moves no stock itself); the after-sale "
        "completes when WeChat Pay confirms it", request="AfterSaleReceive", response="AfterSale",
        errors=_STEP_ERRORS, tags=("after-sales",)),
    ("POST", "/admin/after-sales/{after_sale_id}/ship"): Rule(
        AFTER_SALE_DECIDERS, "An exchange's replacement goes out ({carrier, tracking_no}) or waits at the counter "
        "({pickup: true}: a new pickup code, in the order's tickets): the reserved units are sold; RECEIVED -> "
        "COMPLETED", request="AfterSaleShip", response="AfterSale", errors=_STEP_ERRORS, tags=("after-sales",)),
}
