"""The JSON Schemas of /openapi.json: every body as the validators read it (types, required
fields, lengths as sent, ranges, patterns, enums, nullable optional fields) and every answer as
the views write it. The limits come from the domain's own constants, so the document and the
validators cannot drift; what a schema cannot say (a time after another, a check digit, the
stored product's kind) is named in `description` and answered 400 or 422."""
from __future__ import annotations

from typing import Any

from ..domain import csv_import
from ..domain.back_office import AUDIT_NAME_LENGTH
from ..domain.coupons import MAX_GRANTS, MAX_SCOPE_ITEMS, MAX_VALID_DAYS
from ..domain.identifiers import SKU_ID, USER_COUPON_ID
from ..domain.promotions import MAX_MEMBER_TIERS, MAX_REDUCTION_TIERS
from ..domain.catalog_commands import MAX_PRICE, MAX_SKUS_PER_REQUEST
from ..domain.commands import (MAX_LINE_QUANTITY, MAX_ORDER_LINES, MAX_STOCK, MAX_STOCKTAKE_LINES, ROLES,
                               USERNAME_PATTERN)
from ..domain.personal_data import ID_NUMBER_PATTERN, PHONE_PATTERN
from ..domain.refunds import RefundStatus
from ..domain.stock_shards import MAX_STOCK_SHARDS
from ..domain.ticket_changes import MAX_RESCHEDULE_CUTOFF_MINUTES
from ..domain.timeutil import EARLIEST_YEAR, LATEST_YEAR, MAX_INSTANT_LENGTH, YEAR_PATTERN

Schema = dict[str, Any]
STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time", "maxLength": MAX_INSTANT_LENGTH, "pattern": YEAR_PATTERN,
                "description": f"RFC 3339 with an offset, e.g. 2026-12-01T09:00:00+08:00, in the years "
                               f"{EARLIEST_YEAR} to {LATEST_YEAR}"}
# An instant a body must give (a promotion's or a coupon's window), its whole shape a pattern that
# a generator can follow: TIME's `format` with a year prefix leaves one to filter nearly every
# date-time it makes (days up to 28, so that every match is a real date).
INSTANT: Schema = {"type": "string", "maxLength": MAX_INSTANT_LENGTH,
                   "pattern": r"^2[01][0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]"
                              r":[0-5][0-9](Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$",
                   "description": TIME["description"]}
FEN: Schema = {"type": "integer", "minimum": 0, "description": "money in fen (1 yuan = 100)"}
# A calendar day, its shape stated whole (a bare `format: date` leaves a generator to find the few
# strings that are dates among all those the year's prefix allows).
DATE: Schema = {"type": "string", "format": "date",
                "pattern": YEAR_PATTERN + r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"}
ORDER_STATUSES = ["PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED", "CANCELLED", "EXPIRED", "REFUNDING",
                  "REFUNDED", "PARTIALLY_REFUNDED"]


SKU_ID_SCHEMA: Schema = {"type": "string", "pattern": SKU_ID.pattern,
                         "description": "a SKU id (P<12>-S<6>)"}
# The catalogue CSV: its first line names the columns (at least the required ones, shown here in
# one order; any order is read), at most MAX_BYTES of UTF-8.
CATALOG_CSV: Schema = {
    "type": "string", "maxLength": csv_import.MAX_BYTES // 4,
    "pattern": "^\ufeff?" + ",".join(csv_import.REQUIRED) + "(,[a-z_]{1,30})*\r?\n",
    "description": f"UTF-8 CSV, a byte-order mark allowed; the first line names the columns, among them "
                   f"{', '.join(csv_import.REQUIRED)} (in any order); at most {csv_import.MAX_ROWS} rows"}
MEDIA_SCHEMAS: dict[str, Schema] = {"text/csv": CATALOG_CSV}


def text(max_len: int, min_len: int = 1, **extra: Any) -> Schema:
    """A string as Fields.string reads it: its length as sent, and not all blank unless empty
    is allowed (surrounding whitespace is dropped when stored)."""
    schema: Schema = {"type": "string", "minLength": min_len, "maxLength": max_len, **extra}
    if min_len:
        schema["pattern"] = r"\S"
    return schema


def integer(minimum: int, maximum: int, **extra: Any) -> Schema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **extra}


def nullable(schema: Schema) -> Schema:
    """An optional field: absent or null both mean "not given"."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: list[str], **properties: Any) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


def body(required: list[str], **properties: Schema) -> Schema:
    """A request object: fields not listed in `required` are optional, so null is read as absent."""
    return obj(required, **{name: (schema if name in required else nullable(schema))
                            for name, schema in properties.items()})


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema, max_items: int | None = None, min_items: int = 0) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if min_items:
        schema["minItems"] = min_items
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


def page(item: str) -> Schema:
    return obj(["items", "next"], items=array(ref(item)),
               next={"type": ["string", "null"], "description": "cursor of the next page"})


def maybe(schema: Schema) -> Schema:
    """An answer field that may be null."""
    return {"anyOf": [schema, {"type": "null"}]}


SCOPE = {**body([], kinds=array({"enum": ["ticket", "merch"]}, max_items=2),
                 product_ids=array(text(40), max_items=MAX_SCOPE_ITEMS),
                 categories=array(text(50), max_items=MAX_SCOPE_ITEMS)),
         "additionalProperties": False, "description": "all its criteria hold together; empty: everything"}
SESSION_IN = obj(["start", "end"], start=TIME, end=TIME)
SESSION = obj(["start", "end"], start=STR, end=STR)
ATTRIBUTES = {"type": "object", "maxProperties": 10, "propertyNames": {"minLength": 1, "maxLength": 50},
              "additionalProperties": {"type": "string", "maxLength": 50}}
_SKU_FIELDS: dict[str, Schema] = {
    "name": text(100), "price": integer(0, MAX_PRICE, description="fen"), "stock": integer(0, MAX_STOCK),
    "low_stock_threshold": integer(0, MAX_STOCK)}
TICKET_SKU = {**body(["name", "price", "session"], **_SKU_FIELDS, session=SESSION_IN, valid_from=TIME,
                     valid_until=TIME),
              "description": "a session (场次): end after start, valid_until after valid_from"}
MERCH_SKU = {**body(["name", "price"], **_SKU_FIELDS, attributes=ATTRIBUTES),
             "not": {"anyOf": [{"required": [k]} for k in ("session", "valid_from", "valid_until")]},
             "description": "a spec of goods: no session or validity"}
_PRODUCT_FIELDS: dict[str, Schema] = {
    "name": text(100), "description": text(5000, min_len=0), "category": text(50),
    "tags": array(text(30), max_items=20), "status": {"enum": ["listed", "unlisted"]},
    "list_at": TIME, "delist_at": TIME, "purchase_limit": integer(1, 999)}
_CUTOFF = {**integer(0, MAX_RESCHEDULE_CUTOFF_MINUTES),
           "description": "改签 closes this many minutes before a session (default 120); tickets only"}
_FULFILLMENT = array({"enum": ["pickup", "shipping"]}, max_items=2)
NEW_TICKET_PRODUCT = body(["kind", "name", "skus"], kind={"const": "ticket"}, **_PRODUCT_FIELDS, real_name=BOOL,
                          reschedule_cutoff_minutes=_CUTOFF,
                          fulfillment=array(STR, max_items=0),
                          skus=array(ref("NewTicketSku"), max_items=MAX_SKUS_PER_REQUEST, min_items=1))
NEW_MERCH_PRODUCT = body(["kind", "name", "skus"], kind={"const": "merch"}, **_PRODUCT_FIELDS,
                         real_name={"const": False}, fulfillment=_FULFILLMENT,
                         skus=array(ref("NewMerchSku"), max_items=MAX_SKUS_PER_REQUEST, min_items=1))

REQUESTS: dict[str, Schema] = {
    "StaffLogin": obj(["username", "password"], username={"type": "string", "minLength": 1, "maxLength": 64},
                      password={"type": "string", "minLength": 1, "maxLength": 200}),
    "NewStaff": obj(["username", "password", "roles"],
                    username={"type": "string", "pattern": USERNAME_PATTERN.replace("a-z", "A-Za-z")},
                    password={**text(200, min_len=10), "description": "kept as typed, spaces included"},
                    roles=array({"enum": list(ROLES)}, max_items=len(ROLES), min_items=1)),
    "StaffChanges": {**obj([], roles=array({"enum": list(ROLES)}, max_items=len(ROLES), min_items=1),
                           disabled=BOOL, password={**text(200, min_len=10), "description": "kept as typed"}),
                     "minProperties": 1, "additionalProperties": False,
                     "description": "only what is given changes; any change ends the account's tokens"},
    "PasswordChange": obj(["old_password", "new_password"], old_password=text(200),
                          new_password={**text(200, min_len=10), "description": "not the old password"}),
    "NewTicketSku": TICKET_SKU,
    "NewMerchSku": MERCH_SKU,
    "NewSku": {"oneOf": [ref("NewTicketSku"), ref("NewMerchSku")],
               "description": "a session for a ticket product, a spec for goods (the product decides)"},
    "NewProduct": {"oneOf": [NEW_TICKET_PRODUCT, NEW_MERCH_PRODUCT],
                   "description": "delist_at after list_at; skus as the product's kind needs"},
    "ProductChanges": {
        "type": "object", "minProperties": 1, "additionalProperties": False,
        "description": "only the fields given change; null clears list_at, delist_at and purchase_limit. "
                       "real_name is for tickets, fulfillment for goods",
        "properties": {"name": text(100), "description": nullable(text(5000, min_len=0)), "category": text(50),
                       "tags": nullable(array(text(30), max_items=20)), "status": {"enum": ["listed", "unlisted"]},
                       "list_at": nullable(TIME), "delist_at": nullable(TIME),
                       "purchase_limit": nullable(integer(1, 999)), "real_name": nullable(BOOL),
                       "fulfillment": nullable(_FULFILLMENT),
                       "reschedule_cutoff_minutes": nullable(_CUTOFF)}},
    "Adjustment": obj(["delta", "reason"], delta={**integer(-MAX_STOCK, MAX_STOCK), "not": {"const": 0}},
                      reason=text(200)),
    "StockSplit": obj(["shards"], shards=integer(2, MAX_STOCK_SHARDS)),
    "Stocktake": body(["counts"], counts={**array(obj(["sku_id", "counted"], sku_id=SKU_ID_SCHEMA,
                                                      counted=integer(0, MAX_STOCK)),
                                                  max_items=MAX_STOCKTAKE_LINES, min_items=1),
                                          "description": "a SKU counted on several lines (shelf, storeroom) has "
                                                         "their sum, at most 1,000,000"},
                      note=text(500, min_len=0)),
    "PlaceOrder": {**body(
        ["items", "contact"],
        items=array(obj(["sku_id", "quantity"], sku_id=SKU_ID_SCHEMA, quantity=integer(1, MAX_LINE_QUANTITY)),
                    max_items=MAX_ORDER_LINES, min_items=1),
        contact=obj(["name", "phone"], name=text(50), phone={"type": "string", "pattern": PHONE_PATTERN}),
        visitors=array(body(["name", "id_number"], name=text(50), id_type={"enum": ["id_card", "passport"]},
                            id_number={"type": "string", "pattern": ID_NUMBER_PATTERN,
                                       "examples": ["11010519491231002X"]}),
                       max_items=MAX_ORDER_LINES * MAX_LINE_QUANTITY),
        fulfillment={"enum": ["pickup", "shipping"]},
        address=obj(["recipient", "phone", "region", "detail"], recipient=text(50),
                    phone={"type": "string", "pattern": PHONE_PATTERN}, region=text(100), detail=text(200)),
        coupon_id={"type": "string", "pattern": USER_COUPON_ID.pattern, "description": "a user coupon of yours"}),
        "description": "lines of one SKU are added up (at most 99; with visitors, one line per SKU); one "
                       "visitor per real-name admission (resident ID check digit "
                       "checked); fulfillment and address for goods only, an address for shipping"},
    "NewCoupon": {**body(["name", "kind", "threshold", "claim_from", "claim_until"], name=text(60),
                         kind={"enum": ["cash", "percent"]}, amount=integer(1, 10_000_000), percent_off=integer(1, 99),
                         max_discount=integer(1, 10_000_000), threshold=integer(0, 100_000_000), scope=SCOPE,
                         total=integer(1, 10_000_000), per_user_limit=integer(1, 100), claim_from=INSTANT,
                         claim_until=INSTANT, valid_days=integer(1, MAX_VALID_DAYS), valid_from=INSTANT,
                         valid_until=INSTANT,
                         returnable=BOOL),
                  "additionalProperties": False,
                  "description": "cash: amount (at most the threshold when there is one); percent: percent_off and "
                                 "max_discount; valid_days or valid_from and valid_until; claim_until after "
                                 "claim_from"},
    "CouponChanges": {**body([], status={"enum": ["stopped"]}, total=integer(1, 10_000_000), claim_until=INSTANT),
                      "minProperties": 1, "additionalProperties": False,
                      "description": "total only grows (409 INVALID_CHANGE); a claim_until already past ends claims "
                                     "now"},
    "CouponGrant": {**obj(["user_ids", "reason"],
                          user_ids={**array(text(40), max_items=MAX_GRANTS, min_items=1), "uniqueItems": True},
                          reason=text(200)), "additionalProperties": False},
    "NewPromotion": {**body(["name", "kind", "tiers", "starts_at", "ends_at"], name=text(60),
                            kind={"const": "full_reduction"},
                            tiers=array(obj(["threshold", "amount"], threshold=integer(1, 100_000_000),
                                            amount=integer(1, 100_000_000)),
                                        max_items=MAX_REDUCTION_TIERS, min_items=1),
                            scope=SCOPE, starts_at=INSTANT, ends_at=INSTANT),
                     "additionalProperties": False,
                     "description": "each tier's amount at most its threshold, a higher threshold taking more off; "
                                    "ends_at after starts_at"},
    "PromotionChanges": {**obj(["status"], status={"enum": ["stopped"]}), "additionalProperties": False},
    "MemberTiers": {**obj(["tiers"], tiers=array(
        {**obj(["tier", "name", "min_spend", "percent_off"], tier=integer(1, MAX_MEMBER_TIERS), name=text(20),
               min_spend=integer(1, 10_000_000_000), percent_off=integer(0, 99)), "additionalProperties": False},
        max_items=MAX_MEMBER_TIERS)), "additionalProperties": False,
        "description": "tiers numbered 1, 2, ... without gaps, a higher one with a higher min_spend and at least "
                       "the discount of the one below (else 400); an empty list removes the tiers"},
    "Shipment": obj(["carrier", "tracking_no"], carrier=text(50), tracking_no=text(64)),
    "RefundRequest": body(["reason"], reason=text(200), ticket_ids=array(text(40), max_items=200)),
    "RefundRejection": obj(["reason"], reason=text(200)),
    "RefundApproval": body([], goods_returned=BOOL),
    "Scan": body(["code", "gate", "device_id"], code=text(600, description="QR payload or manual code"),
                 gate=text(50), device_id=text(100),
                 nonce={**text(100), "description": "the device's id of this scan: sent again from the same "
                        "device_id it gets the first answer; from another device it is an ordinary scan"},
                 scanned_at={**TIME, "description": TIME["description"] + ". Offline uploads (/redemptions/batch) are judged at this time; "
                             "it must lie between the code's issue and now, at most OFFLINE_SCAN_MAX_AGE_HOURS "
                             "(default 72) in the past, and up to 5 minutes ahead of the server's clock (a scanner's "
                             "clock skew): else rejected invalid_time and kept for review. /redemptions judges at "
                             "the server's time"}),
    "ScanBatch": obj(["scans"], scans=array({"description": "a Scan; a malformed one is answered rejected: "
                                                            "invalid"}, max_items=500, min_items=1)),
    "WeChatPayNotice": {"type": "object", "description": "WeChat Pay API v3 notification; Wechatpay-Signature, "
                        "-Timestamp, -Nonce, -Serial headers required; resource AEAD_AES_256_GCM"},
    "SandboxPayment": body([], amount={**integer(1, 10 ** 9), "description": "override the paid amount"},
                           voucher={**integer(0, 10 ** 9), "description": "fen of the trade's total paid by a WeChat "
                                    "voucher (免充值型): payer_total = total - voucher; below the total"},
                           transaction_id={**text(32), "description": "WeChat's redelivery of the same payment"},
                           notification_id=text(64),
                           notify={**BOOL, "description": "false: WeChat records the payment, its notice is lost"}),
    "SandboxRefundOutcomes": obj(["outcomes"], outcomes=array(
        {"enum": ["SUCCESS", "SUCCESS_NO_NOTICE", "PENDING", "ABNORMAL", "CLOSED", "ERROR"]}, max_items=100)),
    "SandboxRefundNotice": obj(["status"], status={"enum": ["SUCCESS", "ABNORMAL", "CLOSED"]}),
}


def wechat_login(local: bool) -> Schema:
    """Locally any `dev:<openid>` logs in; deployed, the code wx.login gave the mini-program."""
    code = {"type": "string", "pattern": r"^dev:[A-Za-z0-9_-]{1,64}$"} if local else \
        {"type": "string", "minLength": 1, "maxLength": 200, "description": "the code from wx.login"}
    return obj(["code"], code=code)


QUERY: dict[str, Schema] = {
    "limit": integer(1, 200, description="default 50"),
    "cursor": {"type": "string", "maxLength": 2000, "description": "the `next` of the page before"},
    "since": {"type": "string", "pattern": r"^rv1\.[0-9]{1,13}$", "description": "the `next` of an earlier "
              "offline pack; anything else (or a mark still to come) is a 400"},
    "q": {"type": "string", "maxLength": 2000, "description": "order id, contact phone or product name"},
    "kind": {"enum": ["ticket", "merch"]},
    "category": {"type": "string", "maxLength": 2000}, "tag": {"type": "string", "maxLength": 2000},
    "below_threshold": {"enum": ["true", "false"]},
    "date": {**DATE, "description": "YYYY-MM-DD: a UTC day (audit), a venue day (reports), a day of WeChat "
                                    "Pay's bill, Beijing time (reconciliation)"},
    "from": {**DATE, "description": "first venue day, inclusive"}, "to": {**DATE, "description": "last venue day, "
                                                                                                 "inclusive"},
    "time": TIME,
    "sales_group": {"enum": ["day", "hour", "product", "sku", "category"], "description": "default day"},
    "admission_group": {"enum": ["hour", "gate", "sku", "session"], "description": "default hour"},
    "top": integer(1, 1000, description="keep the N rows of highest gross"),
    "format": {"enum": ["json", "csv"], "description": "csv: UTF-8 with a byte-order mark, Chinese column names"},
    "actor": {"type": "string", "maxLength": AUDIT_NAME_LENGTH},
    "action": {"type": "string", "maxLength": AUDIT_NAME_LENGTH},
    "order_status": {"enum": ORDER_STATUSES},
    "coupon_status": {"enum": ["AVAILABLE", "LOCKED", "USED", "EXPIRED"]},
    "refund_status": {"enum": [s.value for s in RefundStatus], "description": "default REQUESTED"},
}
