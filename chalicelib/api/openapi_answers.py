"""The JSON Schemas of what the API answers, as api/views.py writes it."""
from __future__ import annotations

from ..domain.model import CANCELLED_PAYMENT_MISMATCH
from ..domain.redemption import ConflictKind, Reason
from ..domain.refunds import REVIEW_ADMISSION_OPEN, REVIEW_GOODS, RefundStatus
from ..domain.figures import ADMISSION_DIMENSIONS, SALES_DIMENSIONS
from .openapi_schemas import BOOL, FEN, INT, ORDER_STATUSES, SESSION, STR, Schema, array, maybe, obj, page, ref

DAY_FIGURES = obj(["gmv", "orders", "aov", "refunded", "redeemed"], gmv=FEN, orders=INT, aov=FEN, refunded=FEN,
                  redeemed=INT)
SALES_FIGURES = obj(["orders", "units", "gross", "discount", "refunded", "net", "aov"], orders=INT, units=INT,
                    gross={**FEN, "description": "what customers paid (after promotions), in fen"},
                    discount={**FEN, "description": "what promotions took off, in fen"}, refunded=FEN,
                    net={**INT, "description": "gross - refunded, in fen (may be negative)"}, aov=FEN)
DIFFERENCE_KINDS = ["missing_in_micromall", "missing_in_bill", "amount_mismatch", "refund_missing_in_micromall",
                    "refund_missing_in_bill", "refund_amount_mismatch"]
NAMED_PERSON = obj(["name", "phone"], name=STR, phone={**STR, "description": "masked"})
SKU = obj(["sku_id", "product_id", "name", "price", "available", "low_stock_threshold"], sku_id=STR,
          product_id=STR, name=STR, price=FEN, available=INT, low_stock_threshold=INT, session=SESSION,
          valid_from=STR, valid_until=STR, attributes={"type": "object", "additionalProperties": STR},
          reserved=INT, sold=INT)
PRODUCT = obj(["product_id", "kind", "name", "description", "category", "tags", "status", "real_name", "skus"],
              product_id=STR, kind={"enum": ["ticket", "merch"]}, name=STR, description=STR, category=STR,
              tags=array(STR), status={"enum": ["listed", "unlisted"]}, list_at=STR, delist_at=STR,
              purchase_limit=INT, reschedule_cutoff_minutes=INT, real_name=BOOL, fulfillment=array({"enum": ["pickup", "shipping"]}),
              skus=array(ref("Sku")))
LINE = obj(["sku_id", "product_id", "product_name", "name", "kind", "unit_price", "price", "quantity", "subtotal",
            "discount", "paid"],
           sku_id=STR, product_id=STR, product_name=STR, name=STR, kind={"enum": ["ticket", "merch"]},
           unit_price=FEN, price={**FEN, "description": "the unit's list price (unit_price)"}, quantity=INT,
           subtotal=FEN, discount={**FEN, "description": "what promotions took off the line"},
           paid={**FEN, "description": "subtotal - discount; the lines' paid sum to total"},
           session=SESSION, valid_from=STR, valid_until=STR)
PROMOTION_STEP = obj(["kind", "id", "name", "amount"], kind={"enum": ["member", "full_reduction", "coupon"]}, id=STR,
                     name=STR, amount=FEN)
SCOPE_OUT = obj([], kinds=array(STR), product_ids=array(STR), categories=array(STR))
_COUPON_TERMS: dict[str, Schema] = dict(coupon_id=STR, name=STR, kind={"enum": ["cash", "percent"]}, amount=FEN,
                                        percent_off=INT, max_discount=FEN, threshold=FEN, scope=SCOPE_OUT)
COUPON = obj(["coupon_id", "name", "kind", "threshold", "scope", "claim_until", "per_user_limit"], **_COUPON_TERMS,
             remaining=INT, claim_until=STR, valid_days=INT, valid_from=STR, valid_until=STR, per_user_limit=INT)
STAFF_COUPON = obj(["coupon_id", "name", "kind", "threshold", "scope", "status", "issued", "available", "locked",
                    "used", "expired", "redemption_rate"],
                   **_COUPON_TERMS, remaining=INT, claim_from=STR, claim_until=STR, valid_days=INT, valid_from=STR,
                   valid_until=STR, per_user_limit=INT, status={"enum": ["active", "stopped"]}, total=maybe(INT),
                   returnable=BOOL, created_by=STR, created_at=maybe(STR), issued=INT, available=INT, locked=INT,
                   used=INT, expired=INT, redemption_rate={"type": "number"})
USER_COUPON = obj(["user_coupon_id", "coupon_id", "name", "status", "kind", "threshold", "scope", "valid_from",
                   "valid_until"], **_COUPON_TERMS, user_coupon_id=STR,
                  status={"enum": ["AVAILABLE", "LOCKED", "USED", "EXPIRED"]}, valid_from=STR, valid_until=STR,
                  order_id={**STR, "description": "the order that holds or used it"}, user_id=STR,
                  discount={**FEN, "description": "a quote's applicable coupon: what it would take off"})
PROMOTION = obj(["promotion_id", "name", "kind", "tiers", "scope", "starts_at", "ends_at", "status", "running"],
                promotion_id=STR, name=STR, kind={"const": "full_reduction"},
                tiers=array(obj(["threshold", "amount"], threshold=FEN, amount=FEN)), scope=SCOPE_OUT, starts_at=STR,
                ends_at=STR, status={"enum": ["active", "stopped"]}, running=BOOL)
TIERS = obj(["tiers"], tiers=array(obj(["tier", "name", "min_spend", "percent_off"], tier=INT, name=STR,
                                       min_spend=FEN, percent_off=INT)))
REVIEW_REASONS = {**array({"enum": [REVIEW_GOODS, REVIEW_ADMISSION_OPEN]}),
                  "description": "why staff review it: goods (they come back through staff), admission_open (its "
                  "tickets' admission has opened: an offline gate may have let the visitor in)"}
PAYMENT_PARAMS = obj(["appId", "timeStamp", "nonceStr", "package", "signType", "paySign"], appId=STR,
                     timeStamp=STR, nonceStr=STR, package=STR, signType={"const": "RSA"}, paySign=STR,
                     out_trade_no={**STR, "description": "the payment attempt these parameters pay: the order id, "
                                   "then <order_id>-N after a change"})
ORDER = obj(
    ["order_id", "status", "subtotal", "discount", "total", "currency", "created_at", "expires_at", "items", "contact",
     "history", "promotions"],
    order_id=STR, status={"enum": ORDER_STATUSES}, subtotal={**FEN, "description": "at list prices"},
    discount={**FEN, "description": "what promotions took off"}, total={**FEN, "description": "to pay"},
    promotions=array(PROMOTION_STEP), currency={"const": "CNY"}, created_at=STR,
    expires_at=STR, items=array(LINE), contact=NAMED_PERSON,
    history=array(obj(["status", "at", "by"], status={"enum": ORDER_STATUSES}, at=STR,
                      by={**STR, "description": "to customers: customer, staff, wechatpay, gate, refunds or system"})),
    visitors=array(obj(["name", "id_type", "id_number", "sku_id"], name=STR, id_type={"enum": ["id_card", "passport"]},
                       id_number={**STR, "description": "masked: at least half hidden"}, sku_id=STR)),
    fulfillment={"enum": ["pickup", "shipping"]},
    address=obj(["recipient", "phone", "region", "detail"], recipient=STR, phone=STR, region=STR, detail=STR),
    shipment=obj(["carrier", "tracking_no"], carrier=STR, tracking_no=STR), paid_at=STR,
    cancel_reason={"enum": [CANCELLED_PAYMENT_MISMATCH], "description": "why the system ended the unpaid order: "
                   "payment_amount_mismatch (paid the wrong amount: the money is refunded automatically)"},
    pickup={**obj(["code", "status"], code=STR, qr=STR, status=STR),
            "description": "whole (code and qr) only to the customer; staff see ****-****-<last 4> and no qr, and hand "
                           "goods over by scanning what the customer shows"},
    payment={**maybe(ref("PaymentParams")), "description": "while PENDING_PAYMENT, to its customer: the "
             "wx.requestPayment parameters of its open attempt (null while WeChat Pay cannot be reached)"},
    changes_left={**INT, "description": "how often it may still be changed while unpaid (改单, PATCH)"},
    out_trade_no={**STR, "description": "staff only: its open or paid payment attempt at WeChat"},
    user_id={**STR, "description": "staff only: the customer (GET /admin/customers/{user_id}/holds)"})
REFUND = obj(["refund_id", "order_id", "status", "amount", "reason", "source", "created_at", "tickets"],
             refund_id=STR, order_id=STR, status={"enum": [s.value for s in RefundStatus]}, amount=FEN, reason=STR,
             source={"enum": ["customer", "automatic"]}, created_at=STR, tickets=INT, reject_reason=STR,
             decided_by=STR, last_error=STR, gateway_status=STR, superseded_by=STR, goods=BOOL, goods_returned=BOOL,
             out_refund_no={**STR, "description": "the number at WeChat (staff only)"}, review_reasons=REVIEW_REASONS,
             unsettled={**BOOL, "description": "staff only: WeChat paid it after its order had moved on (its codes "
                        "taken over by a newer refund): money paid twice, nothing returned to stock"},
             items={**array(obj(["sku_id", "product_name", "name", "quantity"], sku_id=STR, product_name=STR,
                                name={**STR, "description": "the SKU's spec or session name"}, quantity=INT,
                                amount={**FEN, "description": "what this refund pays for these units (absent on a "
                                        "refund made before this was kept, when not known exactly)"},
                                session=SESSION)),
                    "description": "staff only: what this refund takes back, by SKU (its tickets, its goods lines); "
                    "empty for a refund of money that bought nothing"},
             contact={**obj(["name", "phone"], name=STR, phone=STR),
                      "description": "staff only: for whom (the order's contact), masked"})
TICKET = obj(["ticket_id", "kind", "sku_id", "product_name", "name", "status", "code", "valid_from",
              "valid_until"], ticket_id=STR, kind={"enum": ["ticket", "pickup"]}, sku_id=STR, product_name=STR,
             name=STR, status={"enum": ["VALID", "REDEEMED", "REVOKED", "EXPIRED"]},
             code={**STR, "description": "manual entry, 12 digits shown 4-4-4"},
             qr={**STR, "description": "MM1.<kid>.<payload>.<Ed25519 signature>, base64url (to its customer only)"},
             valid_from=STR, valid_until=STR, session=SESSION, visitor={"type": "object"}, redeemed_at=STR,
             reschedules_left={**INT, "description": "改签 its customer may still make (1 or 0)"},
             rescheduled_from={**STR, "description": "the ticket this one replaced (改签)"})
REASONS = [r.value for r in Reason]
CONFLICTS = {"enum": [c.value for c in ConflictKind], "description": "an offline scan to review: earlier_scan (another "
             "gate admitted the code first), admitted_then_refunded (let in before the refund that revoked it was "
             "approved: a critical alert), admitted_while_revoked (let in by an out-of-date offline pack after a refund took it "
             "back: the ticket counts as used, its refund is never sent again nor taken over, a critical alert), "
             "invalid_time (scanned_at before the code's issue, older than OFFLINE_SCAN_MAX_AGE_HOURS or over 5 "
             "minutes ahead: refused, an alert scan_invalid_time)"}

ANSWERS: dict[str, Schema] = {
    "Error": obj(["code", "message", "details"], code=STR, message=STR, details={"type": "object"}),
    "Health": obj(["status"], status={"const": "ok"}),
    "CustomerToken": obj(["token", "user_id", "expires_in"], token=STR, user_id=STR, expires_in=INT),
    "StaffToken": obj(["token", "roles", "expires_in"], token=STR, roles=array(STR), expires_in=INT),
    "Staff": obj(["username", "roles"], username=STR, roles=array(STR)),
    "StaffAccount": obj(["username", "roles", "disabled", "created_at", "last_login_at"], username=STR,
                        roles=array(STR), disabled=BOOL, created_at=maybe(STR), last_login_at=maybe(STR)),
    "StaffPage": page("StaffAccount"),
    "Sku": SKU,
    "Product": PRODUCT,
    "ProductPage": page("Product"),
    "ImportResult": obj(["created", "errors"], created=INT, errors=array(obj(["line", "message"], line=INT,
                                                                              message=STR))),
    "InventoryItem": obj(["sku_id", "product_id", "name", "available", "reserved", "sold", "low_stock_threshold",
                          "stock_shards"],
                         sku_id=STR, product_id=STR, name=STR, available=INT, reserved=INT, sold=INT,
                         low_stock_threshold=INT, stock_shards=INT),
    "InventoryPage": page("InventoryItem"),
    "Available": obj(["sku_id", "available"], sku_id=STR, available=INT),
    "StocktakeResult": obj(["stocktake_id", "note", "lines"], stocktake_id=STR, note=STR, lines=array(obj(
        ["sku_id", "expected", "counted", "difference"], sku_id=STR, expected=INT, counted=INT, difference=INT))),
    "Movement": obj(["delta", "reason", "actor", "order_id", "at"], delta=INT, reason=STR, actor=maybe(STR),
                    order_id=maybe(STR), at=STR),
    "MovementPage": page("Movement"),
    "Order": ORDER,
    "Quote": {**obj(["subtotal", "discount", "total", "items", "promotions", "applicable_coupons"],
                    **{k: v for k, v in ORDER["properties"].items()
                       if k not in ("order_id", "status", "history", "expires_at", "created_at")},
                    applicable_coupons=array(ref("UserCoupon"))),
              "description": "the order as placing it would answer it, without id, status or deadline"},
    "CouponList": obj(["items"], items=array(ref("Coupon"))),
    "Coupon": COUPON,
    "StaffCoupon": STAFF_COUPON,
    "StaffCouponList": obj(["items"], items=array(ref("StaffCoupon"))),
    "UserCoupon": USER_COUPON,
    "UserCouponList": obj(["items"], items=array(ref("UserCoupon"))),
    "CouponGrants": obj(["granted", "refused"], granted=array(ref("UserCoupon")),
                        refused=array(obj(["user_id", "code"], user_id=STR, code=STR))),
    "Promotion": PROMOTION,
    "PromotionList": obj(["items"], items=array(ref("Promotion"))),
    "MemberTiers": TIERS,
    "Membership": obj(["user_id", "tier", "tier_name", "percent_off", "spend"], user_id=STR, tier=INT, tier_name=STR,
                      percent_off=INT, spend=FEN),
    "OrderPage": page("Order"),
    "UnpaidHolds": obj(["user_id", "unpaid_orders", "units", "max_unpaid_orders", "max_unpaid_units_per_sku"],
                       user_id=STR, unpaid_orders=INT, units=array(obj(["sku_id", "quantity"], sku_id=STR, quantity=INT)),
                       max_unpaid_orders=INT, max_unpaid_units_per_sku=INT),
    "PaymentParams": PAYMENT_PARAMS,
    "AuditEntry": obj(["actor", "action", "target", "source_ip", "details", "at"], actor=STR, action=STR,
                      target=maybe(STR), source_ip=maybe(STR), details={"type": "object"}, at=STR),
    "AuditPage": page("AuditEntry"),
    "RefundAccepted": obj(["refund_id", "status", "amount", "tickets"], refund_id=STR,
                          status={"enum": ["REQUESTED", "APPROVED"]}, amount=FEN,
                          tickets={**INT, "description": "codes it takes back (tickets, and a pickup code)"},
                          review_reasons=REVIEW_REASONS),
    "Refund": REFUND,
    "RefundPage": page("Refund"),
    "Alert": obj(["alert_id", "kind", "severity", "message", "details", "created_at"], alert_id=STR, kind=STR,
                 severity={"enum": ["info", "warning", "critical"]}, message=STR, details={"type": "object"},
                 created_at=STR),
    "AlertPage": page("Alert"),
    "Ticket": TICKET,
    "TicketList": obj(["items"], items=array(ref("Ticket"))),
    "Redemption": obj(["result"], result={"enum": ["ok", "rejected"]}, kind={"enum": ["ticket", "pickup"]},
                      reason={"enum": REASONS}, code=STR, message=STR, details={"type": "object"}, redeemed_at=STR,
                      first_redeemed_at=maybe(STR), first_gate=maybe(STR), ticket_id=STR, gate=STR),
    "ScanBatchResult": obj(["results"], results=array(obj(["nonce", "result"], nonce=maybe(STR),
                                                          result={"enum": ["ok", "rejected"]},
                                                          reason={"enum": REASONS}, conflict=CONFLICTS,
                                                          first_redeemed_at=maybe(STR), first_gate=maybe(STR)))),
    "OfflinePack": obj(["keys", "revoked", "revoked_until", "generated_at", "next", "venue_timezone"], keys=array(obj(
        ["kid", "alg", "public_key"], kid=STR, alg={"const": "Ed25519"},
        public_key={**STR, "description": "raw 32-byte key, base64url"})),
        revoked={**array(STR), "description": "ticket ids taken back (refunded) that could still be admitted: none "
                 "past its valid_until, so the pack is bounded by the tickets on sale. With ?since=, only those taken "
                 "back after that mark: ids to add to the list kept"},
        revoked_until={"type": "object", "additionalProperties": STR, "description": "each revoked id's valid_until: "
                       "a gate drops an id once it has passed (its QR no longer admits anyway)"},
        generated_at=STR,
        next={**STR, "description": "opaque: ask ?since=<next> for the revocations after this pack. It lies a "
              "minute behind generated_at, so a revocation still on its way is not missed (one may be listed "
              "twice)"},
        venue_timezone={**STR, "description": "the venue's IANA time zone (VENUE_TIMEZONE), e.g. Asia/Shanghai: a "
                        "gate shows times and counts its days in it, also offline"}),
    "SandboxNotifyResult": obj(["notify_status"], notify_status={
        "type": ["integer", "null"], "description": "what the notify endpoint answered; null when the notice was lost"},
        out_trade_no={**STR, "description": "the trade paid: the order's open attempt, or the one named"},
        amount={**FEN, "description": "what WeChat took for it (its total)"}),
    "ScheduleRun": obj(["expiries_due", "listing_changes", "refunds_resent", "refunds_queried", "received",
                        "reconciled", "reminders"],
                       expiries_due={**INT, "description": "unpaid orders past their expiry handed to the expiry "
                                     "workers (asked at WeChat, then expired)"}, listing_changes=INT, refunds_resent=INT, refunds_queried=INT, received=INT,
                       reconciled=INT, reminders={**INT, "description": "sessions of tomorrow queued to be "
                                                  "reminded of (once a day, from 10:00 venue time)"}),
    "Dashboard": obj(["today", "yesterday", "todo"], today=DAY_FIGURES, yesterday=DAY_FIGURES, todo=obj(
        ["refund_requests", "to_ship", "low_stock", "failed_refunds", "reconciliation_differences", "after_sales"],
        refund_requests=INT, to_ship=INT, low_stock={**INT, "description": "SKUs below their threshold, still on sale"},
        failed_refunds=INT, reconciliation_differences={**INT, "description": "in yesterday's reconciliation"},
        after_sales={**INT, "description": "after-sales waiting for staff: to review, goods on their way back, "
                     "exchanges received and not shipped"})),
    "SalesReport": obj(["from", "to", "group_by", "totals", "rows"], **{"from": STR}, to=STR,
                       group_by={"enum": list(SALES_DIMENSIONS)}, totals=SALES_FIGURES,
                       rows=array({**SALES_FIGURES, "required": ["key", "label", *SALES_FIGURES["required"]],
                                   "properties": {"key": STR, "label": STR, **SALES_FIGURES["properties"]}})),
    "PromotionReport": obj(
        ["from", "to", "rows", "coupons"], **{"from": STR}, to=STR,
        rows=array(obj(["key", "label", "kind", "orders", "discount", "gross"],
                       key={**STR, "description": "the coupon's id (its template), the promotion's id, or member"},
                       label=STR, kind={"enum": ["member", "full_reduction", "coupon"]}, orders=INT,
                       discount={**FEN, "description": "what it took off those orders"},
                       gross={**FEN, "description": "what those orders paid"})),
        coupons={**array(obj(["coupon_id", "issued", "used", "redemption_rate"], coupon_id=STR, name=STR,
                             issued={**INT, "description": "claims made between from and to"},
                             used={**INT, "description": "of those claims, how many are used now"},
                             redemption_rate={"type": "number", "minimum": 0, "maximum": 1,
                                              "description": "used / issued, 4 decimals; 0 when none issued"})),
                 "description": "coupons claimed between from and to (by the day of the claim)"}),
    "RedemptionReport": obj(["date", "group_by", "totals", "rows"], date=STR,
                            group_by={"enum": list(ADMISSION_DIMENSIONS)},
                            totals=obj(["redeemed", "issued"], redeemed=INT, issued=maybe(INT)),
                            rows=array(obj(["key", "label", "redeemed", "issued"], key=STR, label=STR, redeemed=INT,
                                           issued=maybe(INT)))),
    "Reconciliation": obj(
        ["date", "status", "checked_at", "bill", "differences", "differences_total"], date=STR,
        status={"enum": ["MATCHED", "DIFFERENCES", "NOT_RUN"]}, checked_at=maybe(STR),
        bill=maybe(obj(["trades", "amount", "refunds", "refunded"], trades=INT,
                       amount={**FEN, "description": "订单金额 summed: the trades' totals, WeChat's vouchers included"},
                       refunds=INT, refunded=FEN,
                       voucher={**FEN, "description": "代金券金额 summed: what WeChat Pay's vouchers paid of `amount` "
                                "(never a difference: the orders were paid in full); absent before vouchers were read"},
                       settlement={**FEN, "description": "应结订单金额 summed: what WeChat settles, `amount` less "
                                   "免充值 (merchant-funded) vouchers"})),
        differences=array(obj(["kind", "out_trade_no"], kind={"enum": DIFFERENCE_KINDS}, out_trade_no=STR,
                              out_refund_no=STR, ours={"type": "object"}, theirs={"type": "object"})),
        differences_total={**INT, "description": "all differences; at most 500 are listed"},
        failure={**maybe(obj(["code", "at"], code={"enum": ["BILL_UNAVAILABLE", "BILL_UNREADABLE"]}, at=STR)),
                 "description": "NOT_RUN after the schedule's last try: why (the bill could not be fetched or read) "
                                "and when; tried again hourly"}),
    "SandboxRefunds": obj(["items"], items=array(obj(
        ["out_refund_no", "out_trade_no", "amount", "status"], out_refund_no=STR, out_trade_no=STR, amount=FEN,
        status={"enum": ["SUCCESS", "PROCESSING", "ABNORMAL", "CLOSED"]}))),
}


# ------------------------------------------------------------------ session cancellation (场次取消)
# Kept together at the end, so that this block merges apart from the others' edits.
from ..domain.refunds import SOURCE_SESSION_CANCELLED as _SESSION_CANCELLED  # noqa: E402
from ..domain.session_cancellation import ORDER_CANCEL_REASON as _ORDER_SESSION_CANCELLED  # noqa: E402

SKU["properties"].update(
    cancelled={**BOOL, "description": "the venue cancelled this session: not on sale (available 0)"},
    cancel_reason={**STR, "description": "the venue's reason, for customers"})
REFUND["properties"]["source"]["enum"].append(_SESSION_CANCELLED)
ORDER["properties"]["cancel_reason"]["enum"].append(_ORDER_SESSION_CANCELLED)
_CANCEL_COUNTS = dict(
    sku_id=STR, status={"enum": ["RUNNING", "DONE"]}, reason=STR,
    orders={**INT, "description": "orders settled so far: unpaid ones cancelled plus paid ones refunded"},
    tickets={**INT, "description": "units orders held when sales stopped (reserved and sold)"},
    orders_cancelled=INT, orders_refunded=INT, tickets_refunded=INT, cancelled_at=STR, cancelled_by=STR,
    finished_at=maybe(STR))
ANSWERS["SessionCancelAccepted"] = obj(["sku_id", "orders", "tickets", "status"], **_CANCEL_COUNTS)
ANSWERS["SessionCancellation"] = obj(
    ["sku_id", "status", "reason", "refunds_requested", "refunds_succeeded", "refunds_failed", "orders", "tickets"],
    **_CANCEL_COUNTS, refunds_requested=INT, refunds_succeeded=INT, refunds_failed=INT,
    refunds_in_flight={**INT, "description": "approved or processing at WeChat"},
    refunded={**FEN, "description": "what the succeeded refunds paid back, in fen"})


# ------------------------------------------------------------------ after-sales for goods (售后)
# Kept together at the end, so that this block merges apart from the others' edits.
from ..domain.after_sales import AfterSaleStatus as _AfterSaleStatus, AfterSaleType as _AfterSaleType  # noqa: E402
from ..domain.refunds import SOURCE_AFTER_SALE as _AFTER_SALE  # noqa: E402

REFUND["properties"]["source"]["enum"].append(_AFTER_SALE)
_AS_STATUS = {"enum": [s.value for s in _AfterSaleStatus]}
ANSWERS["AfterSale"] = obj(
    ["after_sale_id", "order_id", "type", "status", "lines", "reason", "created_at", "history"],
    after_sale_id=STR, order_id=STR, type={"enum": [t.value for t in _AfterSaleType]}, status=_AS_STATUS,
    lines=array(obj(["sku_id", "quantity"], sku_id=STR, quantity=INT)), reason=STR, description=STR,
    exchange_sku_id=STR, created_at=STR,
    history=array(obj(["status", "at", "by"], status=_AS_STATUS, at=STR, by=STR)),
    return_shipment={"type": "object", "additionalProperties": STR,
                     "description": "{carrier, tracking_no} or {at_counter: \"true\"}"},
    reject_reason=STR, restocked=BOOL, receive_note=STR,
    refund_id={**STR, "description": "a return's refund, made when the goods were received"},
    amount={**FEN, "description": "what the return refunds: its units' paid"},
    shipment={"type": "object", "additionalProperties": STR,
              "description": "the replacement's: {carrier, tracking_no} or {pickup_code, pickup_ticket_id}"})
ANSWERS["AfterSaleList"] = obj(["items"], items=array(ref("AfterSale")))
ANSWERS["AfterSalePage"] = page("AfterSale")
