"""Every machine-readable error code the API answers (the `code` of API.md's error body).

One enum rather than string literals at each raise site, so that a misspelt code fails at import
and the API's table of codes to statuses (api.openapi.ERROR_STATUS) can be checked complete.
A StrEnum: the member is its string in JSON, f-strings and stored records, so the wire format is
that of the literals it replaces."""
from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # The categories' own codes (domain.errors), answered when a raise names no finer one.
    ERROR = "ERROR"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    BUSINESS_RULE = "BUSINESS_RULE"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    TRY_AGAIN_LATER = "TRY_AGAIN_LATER"
    TRY_AGAIN = "TRY_AGAIN"

    # The request itself, before any use case (api.http, Chalice, API Gateway).
    MALFORMED_JSON = "MALFORMED_JSON"
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    INVALID_CURSOR = "INVALID_CURSOR"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    BAD_REQUEST = "BAD_REQUEST"
    THROTTLED = "THROTTLED"
    INTERNAL_ERROR = "INTERNAL_ERROR"

    # Logins and tokens.
    INVALID_LOGIN_CODE = "INVALID_LOGIN_CODE"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    WRONG_PASSWORD = "WRONG_PASSWORD"

    # Staff accounts.
    USERNAME_TAKEN = "USERNAME_TAKEN"
    STAFF_NOT_FOUND = "STAFF_NOT_FOUND"
    STAFF_CHANGED = "STAFF_CHANGED"
    LAST_ADMIN = "LAST_ADMIN"

    # Catalog and stock.
    PRODUCT_NOT_FOUND = "PRODUCT_NOT_FOUND"
    EDIT_CONFLICT = "EDIT_CONFLICT"
    TOO_MANY_SKUS = "TOO_MANY_SKUS"
    SKU_NOT_FOUND = "SKU_NOT_FOUND"
    NEGATIVE_STOCK = "NEGATIVE_STOCK"
    STOCK_CHANGED = "STOCK_CHANGED"
    SHARDS_CANNOT_SHRINK = "SHARDS_CANNOT_SHRINK"

    # Orders.
    SOLD_OUT = "SOLD_OUT"
    NOT_ON_SALE = "NOT_ON_SALE"
    PURCHASE_LIMIT_EXCEEDED = "PURCHASE_LIMIT_EXCEEDED"
    UNPAID_LIMIT = "UNPAID_LIMIT"
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE"      # below its threshold, or nothing in its scope
    VISITORS_REQUIRED = "VISITORS_REQUIRED"
    DUPLICATE_VISITOR = "DUPLICATE_VISITOR"
    FULFILLMENT_NOT_AVAILABLE = "FULFILLMENT_NOT_AVAILABLE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    CUSTOMER_NOT_FOUND = "CUSTOMER_NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    TICKET_NOT_FOUND = "TICKET_NOT_FOUND"

    # Promotions.
    COUPON_NOT_FOUND = "COUPON_NOT_FOUND"
    COUPON_EXHAUSTED = "COUPON_EXHAUSTED"                # its total is claimed
    COUPON_LIMIT_REACHED = "COUPON_LIMIT_REACHED"        # this customer's limit
    NOT_CLAIMABLE = "NOT_CLAIMABLE"                      # outside its claim window, or stopped
    COUPON_UNAVAILABLE = "COUPON_UNAVAILABLE"            # used, locked by another order, expired, not yours
    PROMOTION_NOT_FOUND = "PROMOTION_NOT_FOUND"
    INVALID_CHANGE = "INVALID_CHANGE"                    # a change the rules forbid (a coupon's total shrinking)

    # Changes after ordering: an unpaid order's (改单), a ticket's (改签, its visitor), a session's.
    CHANGE_LIMIT_REACHED = "CHANGE_LIMIT_REACHED"        # an unpaid order changed as often as it may be
    NOT_CHANGEABLE = "NOT_CHANGEABLE"                    # contact, fulfilment and address stay as ordered
    NOT_RESCHEDULABLE = "NOT_RESCHEDULABLE"              # details.reason says why
    SESSION_NOT_CANCELLED = "SESSION_NOT_CANCELLED"      # no cancellation of that session to show

    # Payments and refunds. FAIL is WeChat Pay's word for a notice not taken: the status says
    # whether to send it again (401 untrustworthy, 503 not recorded yet).
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    TRADE_CLOSED = "TRADE_CLOSED"
    FAIL = "FAIL"
    NOT_REFUNDABLE = "NOT_REFUNDABLE"
    TOO_MANY_TICKETS = "TOO_MANY_TICKETS"
    REFUND_NOT_FOUND = "REFUND_NOT_FOUND"
    GOODS_NOT_RETURNED = "GOODS_NOT_RETURNED"
    REFUND_ABNORMAL = "REFUND_ABNORMAL"

    # After-sales for goods (售后).
    AFTER_SALES_CLOSED = "AFTER_SALES_CLOSED"            # more than AFTER_SALES_DAYS since the goods were received
    AFTER_SALE_NOT_FOUND = "AFTER_SALE_NOT_FOUND"
    USE_AFTER_SALES = "USE_AFTER_SALES"                  # goods the customer has come back through a return

    # Notifications (订阅消息).
    NO_SUBSCRIPTION = "NO_SUBSCRIPTION"                  # the customer has no credit for the message's template

    # Reconciliation with WeChat Pay's bill.
    BILL_UNAVAILABLE = "BILL_UNAVAILABLE"
    BILL_UNREADABLE = "BILL_UNREADABLE"
