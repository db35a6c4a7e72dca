"""GET /openapi.json: an OpenAPI 3.1 document generated from the access table (api.access),
so that the routes, their roles, bodies and errors cannot drift from what the app serves."""
from __future__ import annotations

import functools
import re
from typing import Any

from .. import config
from .access import ROUTES, Rule

ERROR_STATUS = {
    "INVALID_LOGIN_CODE": 401, "INVALID_CREDENTIALS": 401, "TOO_MANY_ATTEMPTS": 429, "USERNAME_TAKEN": 409,
    "PRODUCT_NOT_FOUND": 404, "EDIT_CONFLICT": 409, "TOO_MANY_SKUS": 409, "SKU_NOT_FOUND": 404,
    "NEGATIVE_STOCK": 409, "STOCK_CHANGED": 409, "SOLD_OUT": 409, "NOT_ON_SALE": 409,
    "PURCHASE_LIMIT_EXCEEDED": 422, "VISITORS_REQUIRED": 422, "DUPLICATE_VISITOR": 422,
    "FULFILLMENT_NOT_AVAILABLE": 422, "IDEMPOTENCY_KEY_REUSED": 422, "TRY_AGAIN": 409,
    "ORDER_NOT_FOUND": 404, "INVALID_STATE": 409, "TICKET_NOT_FOUND": 404, "PAYMENT_UNAVAILABLE": 409,
    "NOT_REFUNDABLE": 409, "TOO_MANY_TICKETS": 422, "REFUND_NOT_FOUND": 404, "GOODS_NOT_RETURNED": 409,
    "TRADE_CLOSED": 409,
}

_STR = {"type": "string"}
_INT = {"type": "integer"}
_TIME = {"type": "string", "format": "date-time", "description": "ISO-8601 with an offset"}
_FEN = {"type": "integer", "minimum": 0, "description": "money in fen (1 yuan = 100)"}


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _page(item: str) -> dict[str, Any]:
    return _obj(["items", "next"], items={"type": "array", "items": _ref(item)},
                next={"type": ["string", "null"], "description": "cursor of the next page"})


SESSION = _obj(["start", "end"], start=_TIME, end=_TIME)
SCHEMAS: dict[str, Any] = {
    "Error": _obj(["code", "message", "details"], code=_STR, message=_STR, details={"type": "object"}),
    "Health": _obj(["status"], status={"const": "ok"}),
    "WeChatLogin": _obj(["code"], code={**_STR, "description": "wx.login code; locally dev:<openid>"}),
    "CustomerToken": _obj(["token", "user_id", "expires_in"], token=_STR, user_id=_STR, expires_in=_INT),
    "StaffLogin": _obj(["username", "password"], username=_STR, password=_STR),
    "StaffToken": _obj(["token", "roles", "expires_in"], token=_STR, roles={"type": "array", "items": _STR},
                       expires_in=_INT),
    "NewStaff": _obj(["username", "password", "roles"], username=_STR, password={**_STR, "minLength": 10},
                     roles={"type": "array", "items": {"enum": ["admin", "merchandiser", "finance", "support",
                                                                 "scanner", "auditor"]}}),
    "Staff": _obj(["username", "roles"], username=_STR, roles={"type": "array", "items": _STR}),
    "NewSku": _obj(["name", "price"], name=_STR, price=_FEN, stock={**_INT, "minimum": 0},
                   low_stock_threshold={**_INT, "minimum": 0}, session=SESSION, valid_from=_TIME,
                   valid_until=_TIME, attributes={"type": "object", "additionalProperties": _STR}),
    "Sku": _obj(["sku_id", "name", "price", "available", "low_stock_threshold"], sku_id=_STR, product_id=_STR,
                name=_STR, price=_FEN, available=_INT, low_stock_threshold=_INT, session=SESSION,
                valid_from=_TIME, valid_until=_TIME, attributes={"type": "object"}, reserved=_INT, sold=_INT),
    "NewProduct": _obj(["kind", "name", "skus"], kind={"enum": ["ticket", "merch"]}, name=_STR, description=_STR,
                       category=_STR, tags={"type": "array", "items": _STR},
                       status={"enum": ["listed", "unlisted"]}, list_at=_TIME, delist_at=_TIME,
                       purchase_limit={**_INT, "minimum": 1}, real_name={"type": "boolean"},
                       fulfillment={"type": "array", "items": {"enum": ["pickup", "shipping"]}},
                       skus={"type": "array", "items": _ref("NewSku"), "maxItems": 40}),
    "ProductChanges": {"type": "object", "description": "only the fields given change; null clears list_at, "
                       "delist_at and purchase_limit",
                       "properties": {k: v for k, v in {
                           "name": _STR, "description": _STR, "category": _STR,
                           "tags": {"type": "array", "items": _STR}, "status": {"enum": ["listed", "unlisted"]},
                           "list_at": {"type": ["string", "null"]}, "delist_at": {"type": ["string", "null"]},
                           "purchase_limit": {"type": ["integer", "null"]}, "real_name": {"type": "boolean"},
                           "fulfillment": {"type": "array", "items": {"enum": ["pickup", "shipping"]}}}.items()},
                       "additionalProperties": False},
    "Product": _obj(["product_id", "kind", "name", "status", "skus"], product_id=_STR,
                    kind={"enum": ["ticket", "merch"]}, name=_STR, description=_STR, category=_STR,
                    tags={"type": "array", "items": _STR}, status={"enum": ["listed", "unlisted"]},
                    list_at=_TIME, delist_at=_TIME, purchase_limit=_INT, real_name={"type": "boolean"},
                    fulfillment={"type": "array", "items": _STR}, skus={"type": "array", "items": _ref("Sku")}),
    "ProductPage": _page("Product"),
    "ImportResult": _obj(["created", "errors"], created=_INT, errors={"type": "array", "items": _obj(
        ["line", "message"], line=_INT, message=_STR)}),
    "InventoryItem": _obj(["sku_id", "product_id", "name", "available", "reserved", "sold", "low_stock_threshold"],
                          sku_id=_STR, product_id=_STR, name=_STR, available=_INT, reserved=_INT, sold=_INT,
                          low_stock_threshold=_INT),
    "InventoryPage": _page("InventoryItem"),
    "Adjustment": _obj(["delta", "reason"], delta={**_INT, "not": {"const": 0}}, reason=_STR),
    "Available": _obj(["sku_id", "available"], sku_id=_STR, available=_INT),
    "Stocktake": _obj(["counts"], counts={"type": "array", "items": _obj(["sku_id", "counted"], sku_id=_STR,
                                                                         counted={**_INT, "minimum": 0})},
                      note=_STR),
    "StocktakeResult": _obj(["stocktake_id", "lines"], stocktake_id=_STR, note=_STR, lines={
        "type": "array", "items": _obj(["sku_id", "expected", "counted", "difference"], sku_id=_STR,
                                       expected=_INT, counted=_INT, difference=_INT)}),
    "Movement": _obj(["delta", "reason", "at"], delta=_INT, reason=_STR, actor={"type": ["string", "null"]},
                     order_id={"type": ["string", "null"]}, at=_TIME),
    "MovementPage": _page("Movement"),
    "PlaceOrder": _obj(["items", "contact"],
                       items={"type": "array", "minItems": 1, "maxItems": 20, "items": _obj(
                           ["sku_id", "quantity"], sku_id=_STR, quantity={**_INT, "minimum": 1, "maximum": 99})},
                       contact=_obj(["name", "phone"], name=_STR, phone=_STR),
                       visitors={"type": "array", "items": _obj(
                           ["name", "id_number"], name=_STR, id_number=_STR,
                           id_type={"enum": ["id_card", "passport"], "default": "id_card"})},
                       fulfillment={"enum": ["pickup", "shipping"]},
                       address=_obj(["recipient", "phone", "region", "detail"], recipient=_STR, phone=_STR,
                                    region=_STR, detail=_STR)),
    "Order": _obj(["order_id", "status", "total", "items", "history"], order_id=_STR, status={"enum": [
        "PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED", "CANCELLED", "EXPIRED", "REFUNDING", "REFUNDED",
        "PARTIALLY_REFUNDED"]}, total=_FEN, currency={"const": "CNY"}, created_at=_TIME, expires_at=_TIME,
        items={"type": "array", "items": {"type": "object"}},
        contact=_obj(["name", "phone"], name=_STR, phone={**_STR, "description": "masked"}),
        visitors={"type": "array", "items": {"type": "object", "description": "ID numbers masked"}},
        fulfillment=_STR, address={"type": "object"}, shipment={"type": "object"},
        history={"type": "array", "items": _obj(["status", "at", "by"], status=_STR, at=_TIME, by=_STR)},
        payment={"type": ["object", "null"], "description": "wx.requestPayment parameters (on creation)"}),
    "OrderPage": _page("Order"),
    "Shipment": _obj(["carrier", "tracking_no"], carrier=_STR, tracking_no=_STR),
    "AuditEntry": _obj(["actor", "action", "at"], actor=_STR, action=_STR, target={"type": ["string", "null"]},
                       source_ip={"type": ["string", "null"]}, details={"type": "object"}, at=_TIME),
    "AuditPage": _page("AuditEntry"),
    "RefundRequest": _obj(["reason"], reason=_STR, ticket_ids={"type": "array", "items": _STR,
                                                               "description": "default: all that is refundable"}),
    "RefundAccepted": _obj(["refund_id", "status", "amount"], refund_id=_STR,
                           status={"enum": ["REQUESTED", "APPROVED"]}, amount=_FEN),
    "Refund": _obj(["refund_id", "order_id", "status", "amount"], refund_id=_STR,
                   order_id=_STR, status={"enum": ["REQUESTED", "APPROVED", "PROCESSING", "SUCCEEDED", "FAILED",
                                                   "REJECTED"]}, amount=_FEN, reason=_STR,
                   source={"enum": ["customer", "automatic"]}, created_at=_TIME, tickets=_INT, decided_by=_STR,
                   reject_reason=_STR, last_error=_STR, out_refund_no={**_STR, "description": "the number at WeChat"},
                   gateway_status=_STR, superseded_by=_STR, goods={"type": "boolean"},
                   goods_returned={"type": "boolean"}),
    "RefundPage": _page("Refund"),
    "RefundRejection": _obj(["reason"], reason=_STR),
    "Alert": _obj(["alert_id", "kind", "severity", "message", "created_at"], alert_id=_STR,
                  kind={"enum": ["low_stock", "refund_failed", "refund_twice", "refund_unexpected",
                                 "refund_amount_mismatch", "scan_conflict", "other"]},
                  severity={"enum": ["info", "warning", "critical"]}, message=_STR, details={"type": "object"},
                  created_at=_TIME),
    "AlertPage": _page("Alert"),
    "PaymentParams": _obj(["appId", "timeStamp", "nonceStr", "package", "signType", "paySign"], appId=_STR,
                          timeStamp=_STR, nonceStr=_STR, package=_STR, signType={"const": "RSA"}, paySign=_STR),
    "WeChatPayNotice": {"type": "object", "description": "WeChat Pay API v3 notification; Wechatpay-Signature, "
                        "-Timestamp, -Nonce, -Serial headers required; resource AEAD_AES_256_GCM"},
    "SandboxPayment": {"type": "object", "properties": {
        "amount": {**_FEN, "description": "override the paid amount"},
        "transaction_id": {**_STR, "description": "repeat a payment: WeChat's redelivery of the same transaction"},
        "notification_id": _STR,
        "notify": {"type": "boolean", "description": "false: WeChat records the payment but its notice is lost"}}},
    "SandboxNotifyResult": _obj(["notify_status"], notify_status={
        "type": ["integer", "null"], "description": "what the notify endpoint answered; null when the notice was lost"}),
    "SandboxRefundOutcomes": _obj(["outcomes"], outcomes={"type": "array", "maxItems": 100, "items": {
        "enum": ["SUCCESS", "SUCCESS_NO_NOTICE", "PENDING", "ABNORMAL", "CLOSED", "ERROR"]}}),
    "SandboxRefundNotice": _obj(["status"], status={"enum": ["SUCCESS", "ABNORMAL", "CLOSED"]}),
    "RefundApproval": {"type": "object", "properties": {"goods_returned": {
        "type": "boolean", "description": "the goods the customer had are back"}}},
    "ScheduleRun": _obj(["expired", "listing_changes", "refunds_resent", "refunds_queried", "received"],
                        expired=_INT, listing_changes=_INT, refunds_resent=_INT, refunds_queried=_INT, received=_INT),
    "SandboxRefunds": _obj(["items"], items={"type": "array", "items": _obj(
        ["out_refund_no", "out_trade_no", "amount", "status"], out_refund_no=_STR, out_trade_no=_STR, amount=_FEN,
        status={"enum": ["SUCCESS", "PROCESSING", "ABNORMAL", "CLOSED"]})}),
    "Ticket": _obj(["ticket_id", "sku_id", "status", "code", "qr", "valid_from", "valid_until"], ticket_id=_STR,
                   kind={"enum": ["ticket", "pickup"]}, sku_id=_STR,
                   status={"enum": ["VALID", "REDEEMED", "REVOKED", "EXPIRED"]},
                   code={**_STR, "description": "manual entry, 12 digits shown 4-4-4"},
                   qr={**_STR, "description": "MM1.<kid>.<payload>.<Ed25519 signature>, base64url"},
                   valid_from=_TIME, valid_until=_TIME, session=SESSION, visitor={"type": "object"},
                   redeemed_at=_TIME),
    "TicketList": _obj(["items"], items={"type": "array", "items": _ref("Ticket")}),
    "Scan": _obj(["code", "gate", "device_id"], code={**_STR, "description": "QR payload or manual code"},
                 gate=_STR, device_id=_STR, nonce=_STR, scanned_at=_TIME),
    "Redemption": _obj(["result"], result={"enum": ["ok", "rejected"]}, kind={"enum": ["ticket", "pickup"]},
                       reason={"enum": ["invalid", "unpaid", "revoked", "not_yet_valid", "expired",
                                        "already_redeemed"]},
                       redeemed_at=_TIME, first_redeemed_at=_TIME, first_gate=_STR, ticket_id=_STR),
    "ScanBatch": _obj(["scans"], scans={"type": "array", "maxItems": 500, "items": _ref("Scan")}),
    "ScanBatchResult": _obj(["results"], results={"type": "array", "items": _obj(
        ["nonce", "result"], nonce={"type": ["string", "null"]}, result=_STR, reason=_STR)}),
    "OfflinePack": _obj(["keys", "revoked", "generated_at"], keys={"type": "array", "items": _obj(
        ["kid", "alg", "public_key"], kid=_STR, alg={"const": "Ed25519"},
        public_key={**_STR, "description": "raw 32-byte key, base64url"})},
        revoked={"type": "array", "items": _STR, "description": "ticket ids"}, generated_at=_TIME),
}

_COMMON = {400: ("VALIDATION_ERROR", "malformed input"), 401: ("UNAUTHORIZED", "missing or invalid token"),
           403: ("FORBIDDEN", "the role may not call this")}


def _error_responses(rule: Rule) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {400: [_COMMON[400][0]]}
    if not rule.public:
        by_status[401], by_status[403] = [_COMMON[401][0]], [_COMMON[403][0]]
    for code in rule.errors:
        by_status.setdefault(ERROR_STATUS[code], []).append(code)
    return {str(status): {"description": "codes: " + ", ".join(codes),
                          "content": {"application/json": {"schema": _ref("Error")}}}
            for status, codes in sorted(by_status.items())}


def _operation(method: str, path: str, rule: Rule) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_') or 'root'}",
        "summary": rule.summary, "tags": list(rule.tags),
        "x-roles": sorted(rule.who), "security": [] if rule.public else [{"bearer": []}],
        "parameters": [{"name": name, "in": "path", "required": True, "schema": _STR}
                       for name in re.findall(r"{(\w+)}", path)]
        + [{"name": name, "in": "query", "required": False, "schema": _STR} for name in rule.query],
    }
    if rule.idempotent:
        operation["parameters"].append({"name": "Idempotency-Key", "in": "header", "required": False,
                                        "schema": {"type": "string", "maxLength": 128}})
    if rule.request:
        media = rule.request if "/" in rule.request else "application/json"
        schema = {"type": "string"} if "/" in rule.request else _ref(rule.request)
        operation["requestBody"] = {"required": True, "content": {media: {"schema": schema}}}
    success: dict[str, Any] = {"description": "success"}
    if rule.response and "/" in rule.response:
        success["content"] = {rule.response: {"schema": {"type": "string", "format": "binary"}}}
    elif rule.response:
        success["content"] = {"application/json": {"schema": _ref(rule.response)}}
    operation["responses"] = {str(rule.status): success, **_error_responses(rule)}
    if rule.response == "Redemption":
        for status, what in (("404", "rejected: invalid"), ("409", "rejected: any other reason")):
            operation["responses"][status] = {"description": what, "content": {
                "application/json": {"schema": _ref("Redemption")}}}
    return operation


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    local = config.settings().is_local
    for (method, path), rule in sorted(ROUTES.items(), key=lambda item: (item[0][1], item[0][0])):
        if rule.local_only and not local:
            continue
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, rule)
    return {
        "openapi": "3.1.0",
        "info": {"title": "micromall", "version": "1.0.0",
                 "description": "Tickets and goods of a venue, sold through a WeChat mini-program. "
                                "Money is integer fen; times are ISO-8601 with an offset."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
