"""The one declarative table of every route: who may call it, and what it takes and answers.

The route decorator (api.http.endpoint) attaches the token authorizer and enforces `who` from
here; /openapi.json is generated from it; a test keeps it equal to the app's routes."""
from __future__ import annotations

from .access_rule import (ALL_STAFF, ANYONE, BACK_OFFICE, CATALOG_EDITORS, CUSTOMER, FINANCE_READERS, ORDER_STAFF,
                          PAGE, Rule, who as _who)
from .promotion_access import PROMOTION_ROUTES
from .ticket_change_access import TICKET_CHANGE_ROUTES
from .session_access import SESSION_ROUTES
from .after_sale_access import AFTER_SALE_ROUTES
from .notification_access import NOTIFICATION_ROUTES

__all__ = ["ALL_STAFF", "ANYONE", "BACK_OFFICE", "CATALOG_EDITORS", "CUSTOMER", "FINANCE_READERS", "ORDER_STAFF",
           "PAGE", "ROUTES", "Rule"]

ROUTES: dict[tuple[str, str], Rule] = {
    ("GET", "/health"): Rule(_who(ANYONE), "Liveness of the API", response="Health", tags=("system",)),
    ("GET", "/openapi.json"): Rule(_who(ANYONE), "This document", tags=("system",)),
    ("GET", "/console"): Rule(_who(ANYONE), "The staff console (zh-CN); /console/ is the same page",
                              response="text/html", redirect="/console/", tags=("console",)),
    ("GET", "/console/scanner"): Rule(_who(ANYONE), "The gate scanner page, offline-first", response="text/html",
                                      redirect="/console/scanner", tags=("console",)),
    ("GET", "/console/sw.js"): Rule(_who(ANYONE), "The pages' service worker (keeps them loadable offline)",
                                    response="text/javascript", tags=("console",)),
    ("GET", "/console/assets/{name}"): Rule(_who(ANYONE), "The pages' scripts and styles (vendored libraries "
                                            "pinned, with their licences in the repository)",
                                            response="text/javascript|text/css", errors=("NOT_FOUND",),
                                            tags=("console",)),
    ("GET", "/console/assets/pages/{name}"): Rule(_who(ANYONE), "The console's pages, a script each",
                                                  response="text/javascript", errors=("NOT_FOUND",),
                                                  tags=("console",)),
    ("GET", "/shop"): Rule(_who(ANYONE), "The customer shop (zh-CN, phone first); /shop/ is the same page",
                           response="text/html", redirect="/shop/", tags=("shop",)),
    ("GET", "/shop/assets/{name}"): Rule(_who(ANYONE), "The shop's scripts and styles (vendored libraries pinned, "
                                         "with their licences in the repository)",
                                         response="text/javascript|text/css", errors=("NOT_FOUND",), tags=("shop",)),
    ("GET", "/shop/assets/pages/{name}"): Rule(_who(ANYONE), "The shop's pages, a script each",
                                               response="text/javascript", errors=("NOT_FOUND",), tags=("shop",)),
    ("POST", "/auth/wechat/login"): Rule(
        _who(ANYONE), "Customer login with a wx.login code", request="WeChatLogin", response="CustomerToken",
        errors=("INVALID_LOGIN_CODE",), tags=("auth",)),
    ("POST", "/auth/staff/login"): Rule(
        _who(ANYONE), "Staff login. Throttled per account and client address (5 failures in 15 minutes) and per "
        "address across accounts (20 in 15 minutes): 429 with Retry-After; a right password does not count",
        request="StaffLogin", response="StaffToken", errors=("INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS"),
        tags=("auth",)),
    ("POST", "/auth/staff/password"): Rule(
        ALL_STAFF, "Change your own password: every other token of the account ends at once, and the answer "
        "carries a fresh token for the caller (the one sent ends too). A wrong old password is 422 WRONG_PASSWORD, "
        "throttled like a login", request="PasswordChange", response="StaffToken",
        errors=("WRONG_PASSWORD", "TOO_MANY_ATTEMPTS", "STAFF_CHANGED"), tags=("auth",)),
    ("POST", "/auth/staff/logout"): Rule(
        ALL_STAFF, "End this token (204); the account's other tokens go on", status=204, tags=("auth",)),
    ("POST", "/admin/staff"): Rule(
        _who("admin"), "Create a staff account", request="NewStaff", response="Staff", status=201,
        errors=("USERNAME_TAKEN",), tags=("auth",)),
    ("GET", "/admin/staff"): Rule(
        _who("admin", "auditor"), "Staff accounts by username", response="StaffPage", query=PAGE, tags=("auth",)),
    ("PATCH", "/admin/staff/{username}"): Rule(
        _who("admin"), "Change an account's roles, disable or enable it, or set its password: at once, also for "
        "tokens already issued (a change ends them all). An admin cannot disable their own account or take "
        "their own admin role (409 LAST_ADMIN)", request="StaffChanges", response="StaffAccount",
        errors=("STAFF_NOT_FOUND", "LAST_ADMIN", "STAFF_CHANGED"), tags=("auth",)),

    ("POST", "/admin/products"): Rule(
        CATALOG_EDITORS, "Create a product with its SKUs and initial stock", request="NewProduct",
        response="Product", status=201, tags=("catalog",)),
    ("GET", "/admin/products/{product_id}"): Rule(
        CATALOG_EDITORS | _who("auditor", "support"), "A product as staff see it, listed or not",
        response="Product", errors=("PRODUCT_NOT_FOUND",), tags=("catalog",)),
    ("PATCH", "/admin/products/{product_id}"): Rule(
        CATALOG_EDITORS, "Edit a product; status, list_at and delist_at list or delist it now or later. A change of "
        "price, listing or sale window reaches new orders within about a second (orders read the catalog "
        "eventually consistently); stock is always decided exactly",
        request="ProductChanges", response="Product", errors=("PRODUCT_NOT_FOUND", "EDIT_CONFLICT"),
        tags=("catalog",)),
    ("POST", "/admin/products/{product_id}/skus"): Rule(
        CATALOG_EDITORS, "Add a SKU (a new session or spec)", request="NewSku", response="Sku", status=201,
        errors=("PRODUCT_NOT_FOUND", "TOO_MANY_SKUS"), tags=("catalog",)),
    ("POST", "/admin/products/import"): Rule(
        CATALOG_EDITORS, "Batch import from CSV (one row per SKU, grouped by the product column); a file "
        "whose first line lacks a required column (product, kind, name, sku_name, price) is refused whole, 400",
        request="text/csv", response="ImportResult", content_type="text/csv", tags=("catalog",)),
    ("GET", "/catalog/products"): Rule(
        _who(ANYONE), "Listed products with live availability", response="ProductPage",
        query=("kind", "category", "tag") + PAGE, tags=("catalog",)),
    ("GET", "/catalog/products/{product_id}"): Rule(
        _who(ANYONE), "A listed product", response="Product", errors=("PRODUCT_NOT_FOUND",), tags=("catalog",)),

    ("GET", "/admin/inventory"): Rule(
        ALL_STAFF, "Stock of every SKU", response="InventoryPage", query=("below_threshold",) + PAGE,
        tags=("inventory",)),
    ("POST", "/admin/inventory/{sku_id}/adjustments"): Rule(
        CATALOG_EDITORS, "Add or remove stock; never below zero", request="Adjustment", response="Available",
        errors=("SKU_NOT_FOUND", "NEGATIVE_STOCK"), tags=("inventory",)),
    ("POST", "/admin/stocktakes"): Rule(
        CATALOG_EDITORS, "Record counted stock and apply the differences", request="Stocktake",
        response="StocktakeResult", status=201, errors=("SKU_NOT_FOUND", "STOCK_CHANGED"), tags=("inventory",)),
    ("POST", "/admin/inventory/{sku_id}/shards"): Rule(
        CATALOG_EDITORS, "Split a SKU's or a coupon's stock over shard items before a busy release (never fewer shards)",
        request="StockSplit", response="InventoryItem",
        errors=("SKU_NOT_FOUND", "SHARDS_CANNOT_SHRINK", "STOCK_CHANGED"), tags=("inventory",)),
    ("GET", "/admin/inventory/{sku_id}/movements"): Rule(
        ALL_STAFF, "The stock ledger of a SKU, oldest first", response="MovementPage", query=PAGE,
        errors=("SKU_NOT_FOUND",), tags=("inventory",)),

    ("POST", "/orders"): Rule(
        _who(CUSTOMER), "Place an order: every line reserved at once or none. A customer holds at most "
        "MAX_UNPAID_ORDERS_PER_CUSTOMER (default 3) unpaid orders and MAX_UNPAID_UNITS_PER_SKU (default 10) unpaid "
        "units of one SKU at once, checked in the order's own transaction: beyond that 422 UNPAID_LIMIT (paying, "
        "cancelling or the expiry of an order frees its part). Prices, listing and sale windows are read as they "
        "were up to about a second ago; stock is decided exactly by the order's own write. 409 TRY_AGAIN with "
        "Retry-After (seconds) when the session is selling faster than its stock can be recorded: nothing was "
        "reserved; the session is split to take more orders and staff are alerted", request="PlaceOrder",
        response="Order", status=201, idempotent=True,
        errors=("SOLD_OUT", "NOT_ON_SALE", "PURCHASE_LIMIT_EXCEEDED", "SKU_NOT_FOUND", "VISITORS_REQUIRED",
                "DUPLICATE_VISITOR", "FULFILLMENT_NOT_AVAILABLE", "IDEMPOTENCY_KEY_REUSED", "TRY_AGAIN",
                "UNPAID_LIMIT", "COUPON_UNAVAILABLE", "COUPON_NOT_APPLICABLE"),
        tags=("orders",)),
    ("GET", "/orders"): Rule(_who(CUSTOMER), "My orders, newest first", response="OrderPage", query=PAGE,
                             tags=("orders",)),
    ("GET", "/orders/{order_id}"): Rule(
        _who(CUSTOMER) | ORDER_STAFF, "An order (its owner, or support/finance/admin)", response="Order",
        errors=("ORDER_NOT_FOUND",), tags=("orders",)),
    ("PATCH", "/orders/{order_id}"): Rule(
        _who(CUSTOMER), "Change an unpaid order (改单): its lines, visitors or coupon, at most 3 times "
        "(`changes_left`) and before `expires_at`, which does not move. The new lines are priced and checked as a "
        "new order's and replace the old ones in one transaction: all or nothing. The open trade is closed at WeChat "
        "first (a trade WeChat reports paid is confirmed instead: 409 INVALID_STATE); the answer carries the next "
        "attempt's payment (out_trade_no <order_id>-N). A change refused after the close leaves the order as it "
        "was, payable on a new attempt", request="ChangeOrder", response="Order",
        errors=("ORDER_NOT_FOUND", "INVALID_STATE", "CHANGE_LIMIT_REACHED", "NOT_CHANGEABLE", "SOLD_OUT",
                "NOT_ON_SALE", "PURCHASE_LIMIT_EXCEEDED", "SKU_NOT_FOUND", "VISITORS_REQUIRED", "DUPLICATE_VISITOR",
                "FULFILLMENT_NOT_AVAILABLE", "TRY_AGAIN", "UNPAID_LIMIT", "COUPON_UNAVAILABLE",
                "COUPON_NOT_APPLICABLE", "PAYMENT_UNAVAILABLE"),
        tags=("orders",)),
    ("POST", "/orders/{order_id}/cancel"): Rule(
        _who(CUSTOMER), "Cancel an order awaiting payment; its stock is released", response="Order",
        errors=("ORDER_NOT_FOUND", "INVALID_STATE"), tags=("orders",)),
    ("GET", "/admin/orders"): Rule(
        ORDER_STAFF, "Search orders by status and by order id, contact phone or product name",
        response="OrderPage", query=("status:order_status", "q") + PAGE, tags=("orders",)),
    ("GET", "/admin/customers/{user_id}/holds"): Rule(
        ORDER_STAFF, "What a customer holds unpaid now (orders, and units by SKU) against the limits beyond which "
        "placing an order answers 422 UNPAID_LIMIT (MAX_UNPAID_ORDERS_PER_CUSTOMER, MAX_UNPAID_UNITS_PER_SKU). A "
        "staff order answer carries its customer's user_id", response="UnpaidHolds", errors=("CUSTOMER_NOT_FOUND",),
        tags=("orders",)),
    ("POST", "/admin/orders/{order_id}/ship"): Rule(
        _who("admin", "support"), "Record the shipment of a postal order", request="Shipment",
        response="Order", errors=("ORDER_NOT_FOUND", "INVALID_STATE"), tags=("orders",)),
    ("POST", "/orders/{order_id}/receipt"): Rule(
        _who(CUSTOMER), "Confirm receipt (确认收货) of a shipped order: it is COMPLETED", response="Order",
        errors=("ORDER_NOT_FOUND", "INVALID_STATE"), tags=("orders",)),

    ("POST", "/orders/{order_id}/payment"): Rule(
        _who(CUSTOMER), "wx.requestPayment parameters for an order awaiting payment (again)",
        response="PaymentParams", errors=("ORDER_NOT_FOUND", "INVALID_STATE", "PAYMENT_UNAVAILABLE"),
        tags=("payments",)),
    ("POST", "/payments/wechat/notify"): Rule(
        _who(ANYONE), "WeChat Pay v3 payment notification (signed, encrypted); 204 when handled, 503 to have "
        "it delivered again", request="WeChatPayNotice", status=204, errors=("FAIL@401", "FAIL@503"),
        tags=("payments",)),
    ("POST", "/payments/wechat/refund-notify"): Rule(
        _who(ANYONE), "WeChat Pay v3 refund notification (REFUND.SUCCESS/ABNORMAL/CLOSED); 204 when handled",
        request="WeChatPayNotice", status=204, errors=("FAIL@401", "FAIL@503", "INVALID_STATE"),
        tags=("payments",)),
    ("POST", "/dev/payments/{order_id}/succeed"): Rule(
        _who(ANYONE), "Local sandbox: the customer pays the trade; WeChat's signed notice goes to the notify "
        "handler (or is lost, with notify: false)", request="SandboxPayment", response="SandboxNotifyResult",
        errors=("ORDER_NOT_FOUND", "TRADE_CLOSED"), optional_body=True, local_only=True, tags=("local sandbox",)),
    ("POST", "/dev/payments/refund-outcomes"): Rule(
        _who(ANYONE), "Local sandbox: how it answers the next refund requests, in order (then SUCCESS)",
        request="SandboxRefundOutcomes", response="SandboxRefundOutcomes", local_only=True,
        tags=("local sandbox",)),
    ("POST", "/dev/payments/refunds/{out_refund_no}/notify"): Rule(
        _who(ANYONE), "Local sandbox: WeChat decides a refund now and sends its notice",
        request="SandboxRefundNotice", response="SandboxNotifyResult", errors=("REFUND_NOT_FOUND", "INVALID_STATE"),
        local_only=True, tags=("local sandbox",)),
    ("POST", "/dev/schedule/run"): Rule(
        _who(ANYONE), "Local: run the every-minute jobs now (expiry, listing schedule, refund sweep)",
        response="ScheduleRun", local_only=True, tags=("local sandbox",)),
    ("GET", "/dev/payments/refunds"): Rule(
        _who(ANYONE), "Local sandbox: the refunds it received", response="SandboxRefunds", local_only=True,
        tags=("local sandbox",)),

    ("GET", "/orders/{order_id}/tickets"): Rule(
        _who(CUSTOMER) | ORDER_STAFF, "The tickets of a paid order (its owner; support, finance and admin see "
        "each code as ****-****-<last 4> and no qr)", response="TicketList", errors=("ORDER_NOT_FOUND",),
        tags=("tickets",)),
    ("GET", "/tickets/{ticket_id}/qr.png"): Rule(
        _who(CUSTOMER), "QR image of a ticket", response="image/png", errors=("TICKET_NOT_FOUND",),
        tags=("tickets",)),
    ("GET", "/orders/{order_id}/pickup/qr.png"): Rule(
        _who(CUSTOMER), "QR image of an order's pickup code", response="image/png",
        errors=("ORDER_NOT_FOUND", "TICKET_NOT_FOUND"), tags=("tickets",)),
    ("POST", "/redemptions"): Rule(
        _who("scanner", "admin"), "Redeem (核销) a ticket or pickup code by QR payload or manual code",
        request="Scan", response="Redemption", tags=("redemption",)),
    ("POST", "/redemptions/batch"): Rule(
        _who("scanner", "admin"), "Upload offline scans; the earliest scan of a code wins",
        request="ScanBatch", response="ScanBatchResult", tags=("redemption",)),
    ("GET", "/scanner/offline-pack"): Rule(
        _who("scanner", "admin"), "Public keys by key id and the revoked tickets that could still be admitted, to "
        "verify QR codes offline; ?since=<next of an earlier pack> answers only the tickets revoked since",
        response="OfflinePack", query=("since",), tags=("redemption",)),

    ("POST", "/orders/{order_id}/refunds"): Rule(
        _who(CUSTOMER), "Ask for a refund: unused tickets before admission opens (valid_from) are approved at once; "
        "tickets whose admission has opened and goods wait for staff review (review_reasons says why)",
        request="RefundRequest", response="RefundAccepted", status=202,
        errors=("ORDER_NOT_FOUND", "TICKET_NOT_FOUND", "NOT_REFUNDABLE", "INVALID_STATE", "TOO_MANY_TICKETS",
                "PAYMENT_UNAVAILABLE"), tags=("refunds",)),
    ("GET", "/orders/{order_id}/refunds"): Rule(
        _who(CUSTOMER) | ORDER_STAFF, "The refunds of an order", response="RefundPage",
        errors=("ORDER_NOT_FOUND",), tags=("refunds",)),
    ("GET", "/admin/refunds"): Rule(
        _who("finance", "support", "admin"), "Refunds by status (default REQUESTED), newest first, each with what it "
        "takes back (items by SKU) and for whom (the contact, masked)",
        response="RefundPage", query=("status:refund_status",) + PAGE, tags=("refunds",)),
    ("POST", "/admin/refunds/{refund_id}/approve"): Rule(
        _who("finance", "admin"), "Approve a requested refund: its tickets and pickup code revoked, money sent by "
        "the refunds queue; goods already handed over need goods_returned", request="RefundApproval",
        response="Refund", errors=("REFUND_NOT_FOUND", "INVALID_STATE", "NOT_REFUNDABLE", "GOODS_NOT_RETURNED",
                                   "PAYMENT_UNAVAILABLE", "TOO_MANY_TICKETS"), optional_body=True, tags=("refunds",)),
    ("POST", "/admin/refunds/{refund_id}/retry"): Rule(
        _who("finance", "admin"), "Send a FAILED refund again (WeChat is asked first what became of it). One "
        "WeChat found ABNORMAL stays PROCESSING (its order REFUNDING, gateway_status ABNORMAL) and is never sent "
        "again (409 REFUND_ABNORMAL): WeChat holds its money until staff settle it in the merchant platform, and it "
        "completes by itself when WeChat reports SUCCESS",
        response="Refund", status=202, errors=("REFUND_NOT_FOUND", "INVALID_STATE", "PAYMENT_UNAVAILABLE",
                                               "REFUND_ABNORMAL"),
        tags=("refunds",)),
    ("POST", "/admin/refunds/{refund_id}/reject"): Rule(
        _who("finance", "admin"), "Reject a requested refund", request="RefundRejection", response="Refund",
        errors=("REFUND_NOT_FOUND", "INVALID_STATE"), tags=("refunds",)),
    ("GET", "/admin/alerts"): Rule(
        ALL_STAFF, "Operational alerts, newest first: low stock, failed refunds, offline-scan conflicts",
        response="AlertPage", query=PAGE, tags=("back office",)),

    ("GET", "/admin/audit"): Rule(
        _who("admin", "auditor"), "Audit log, newest first: one UTC day (`date`, default today) or a time "
        "range (`from`, `to`, at most 31 days), narrowed by `actor` and `action`; `format=csv` exports every "
        "match (up to 10,000)", response="AuditPage", query=("date", "from:time", "to:time", "actor", "action",
                                                              "format") + PAGE, csv=True, tags=("back office",)),
    ("GET", "/admin/dashboard"): Rule(
        BACK_OFFICE, "Today against yesterday (venue time) and the work waiting", response="Dashboard",
        tags=("reports",)),
    ("GET", "/admin/reports/sales"): Rule(
        FINANCE_READERS, "Sales of paid orders between two venue dates (inclusive; default the last 7 days), "
        "grouped by day, hour of day, product, SKU or category; refunds count on the day the money went back",
        response="SalesReport", query=("from", "to", "group_by:sales_group", "top", "format"), csv=True,
        tags=("reports",)),
    ("GET", "/admin/reports/promotions"): Rule(
        FINANCE_READERS, "What each promotion (member discount, full reduction, coupon) took off the orders paid "
        "between two venue dates (inclusive; default the last 7 days), by the day of payment (a refund leaves it "
        "as it was); and for each coupon the claims made between them and how many of those are used now",
        response="PromotionReport", query=("from", "to"), tags=("reports",)),
    ("GET", "/admin/reports/after-sales"): Rule(
        _who("finance", "support", "admin", "auditor"), "After-sales asked between two venue dates (inclusive; "
        "default the last 7 days) by reason, most first; `refunded`: what returns that completed in them refunded; "
        "`hours_to_resolve`: the mean time to the end of those that ended in them; `refund_rate`: of the orders paid "
        "in them, the share with money back since", response="AfterSalesReport", query=("from", "to"),
        tags=("reports",)),
    ("GET", "/admin/reports/redemptions"): Rule(
        BACK_OFFICE, "Admissions of one venue day (default today) by hour, gate, SKU or session; for SKUs and "
        "sessions also the tickets out (issued, less those refunds took back)", response="RedemptionReport",
        query=("date", "group_by:admission_group", "format"), csv=True, tags=("reports",)),
    ("GET", "/admin/reconciliation"): Rule(
        FINANCE_READERS, "The reconciliation of one day (default yesterday) with WeChat Pay's bill",
        response="Reconciliation", query=("date",), tags=("reports",)),
    ("POST", "/admin/reconciliation/{date}/run"): Rule(
        _who("finance", "admin"), "Download WeChat Pay's bill of that day (Beijing time) now and reconcile it",
        response="Reconciliation", errors=("BILL_UNAVAILABLE@503", "BILL_UNREADABLE@503"), tags=("reports",)),
}
ROUTES.update(PROMOTION_ROUTES)
ROUTES.update(TICKET_CHANGE_ROUTES)
ROUTES.update(SESSION_ROUTES)
ROUTES.update(AFTER_SALE_ROUTES)
ROUTES.update(NOTIFICATION_ROUTES)
