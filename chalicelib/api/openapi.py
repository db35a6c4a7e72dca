"""GET /openapi.json: an OpenAPI 3.1 document generated from the access table (api.access),
so that the routes, their roles, bodies, parameters, answers and errors cannot drift from what
the app serves. Bodies and answers are openapi_schemas and openapi_answers."""
from __future__ import annotations

import functools
import re
from typing import Any

from .. import config
from ..domain.error_codes import ErrorCode
from ..domain.identifiers import OUT_TRADE_NO
from ..domain.notifications import Event
from .access import ROUTES, Rule
from .openapi_answers import ANSWERS
from .openapi_change_schemas import CHANGE_REQUESTS
from .openapi_after_sale_schemas import AFTER_SALE_ANSWERS, AFTER_SALE_REQUESTS
from .openapi_notification_schemas import NOTIFICATION_ANSWERS, NOTIFICATION_REQUESTS, subscriptions
from .static_site import ASSET_NAME
from .openapi_schemas import DATE, MEDIA_SCHEMAS, QUERY, REQUESTS, STR, ref, wechat_login

# Every code's status, but FAIL's: a WeChat Pay notice's route names it (FAIL@401, FAIL@503),
# because WeChat decides by the status alone whether to send the notice again.
ERROR_STATUS: dict[ErrorCode, int] = {
    ErrorCode.ERROR: 400, ErrorCode.VALIDATION_ERROR: 400, ErrorCode.UNAUTHORIZED: 401, ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404, ErrorCode.CONFLICT: 409, ErrorCode.BUSINESS_RULE: 422, ErrorCode.TOO_MANY_ATTEMPTS: 429,
    ErrorCode.TRY_AGAIN_LATER: 503, ErrorCode.TRY_AGAIN: 409,
    ErrorCode.MALFORMED_JSON: 400, ErrorCode.BODY_TOO_LARGE: 400, ErrorCode.INVALID_CURSOR: 400,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415, ErrorCode.METHOD_NOT_ALLOWED: 405, ErrorCode.BAD_REQUEST: 400,
    ErrorCode.THROTTLED: 429, ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.INVALID_LOGIN_CODE: 401, ErrorCode.INVALID_CREDENTIALS: 401, ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.TOKEN_EXPIRED: 401, ErrorCode.TOKEN_REVOKED: 401, ErrorCode.WRONG_PASSWORD: 422,
    ErrorCode.USERNAME_TAKEN: 409, ErrorCode.STAFF_NOT_FOUND: 404, ErrorCode.STAFF_CHANGED: 409,
    ErrorCode.LAST_ADMIN: 409,
    ErrorCode.PRODUCT_NOT_FOUND: 404, ErrorCode.EDIT_CONFLICT: 409, ErrorCode.TOO_MANY_SKUS: 409,
    ErrorCode.SKU_NOT_FOUND: 404, ErrorCode.NEGATIVE_STOCK: 409, ErrorCode.STOCK_CHANGED: 409,
    ErrorCode.SHARDS_CANNOT_SHRINK: 409,
    ErrorCode.SOLD_OUT: 409, ErrorCode.NOT_ON_SALE: 409, ErrorCode.PURCHASE_LIMIT_EXCEEDED: 422,
    ErrorCode.UNPAID_LIMIT: 422, ErrorCode.VISITORS_REQUIRED: 422, ErrorCode.DUPLICATE_VISITOR: 422,
    ErrorCode.COUPON_NOT_APPLICABLE: 422,
    ErrorCode.COUPON_NOT_FOUND: 404, ErrorCode.COUPON_EXHAUSTED: 409, ErrorCode.COUPON_LIMIT_REACHED: 422,
    ErrorCode.NOT_CLAIMABLE: 409, ErrorCode.COUPON_UNAVAILABLE: 409, ErrorCode.PROMOTION_NOT_FOUND: 404,
    ErrorCode.INVALID_CHANGE: 409,
    ErrorCode.CHANGE_LIMIT_REACHED: 422, ErrorCode.NOT_CHANGEABLE: 422, ErrorCode.NOT_RESCHEDULABLE: 409,
    ErrorCode.SESSION_NOT_CANCELLED: 404,
    ErrorCode.FULFILLMENT_NOT_AVAILABLE: 422, ErrorCode.IDEMPOTENCY_KEY_REUSED: 422, ErrorCode.ORDER_NOT_FOUND: 404,
    ErrorCode.CUSTOMER_NOT_FOUND: 404, ErrorCode.INVALID_STATE: 409, ErrorCode.TICKET_NOT_FOUND: 404,
    ErrorCode.PAYMENT_UNAVAILABLE: 409, ErrorCode.TRADE_CLOSED: 409, ErrorCode.NOT_REFUNDABLE: 409,
    ErrorCode.TOO_MANY_TICKETS: 422, ErrorCode.REFUND_NOT_FOUND: 404, ErrorCode.GOODS_NOT_RETURNED: 409,
    ErrorCode.REFUND_ABNORMAL: 409,
    ErrorCode.AFTER_SALES_CLOSED: 422, ErrorCode.AFTER_SALE_NOT_FOUND: 404, ErrorCode.USE_AFTER_SALES: 409,
    ErrorCode.BILL_UNAVAILABLE: 503, ErrorCode.BILL_UNREADABLE: 503, ErrorCode.NO_SUBSCRIPTION: 409,
}
# Answered by any operation: malformed input, a body of another media type, and API Gateway's
# throttling; by any operation that writes, a collision that outlasted the retries.
_EVERYWHERE = {400: [ErrorCode.VALIDATION_ERROR, ErrorCode.MALFORMED_JSON, ErrorCode.BODY_TOO_LARGE,
                     ErrorCode.INVALID_CURSOR],
               415: [ErrorCode.UNSUPPORTED_MEDIA_TYPE], 429: [ErrorCode.THROTTLED]}
_PATH_SCHEMAS = {("POST", "/dev/payments/{order_id}/succeed"): {"order_id": {"type": "string",
                                                                             "pattern": OUT_TRADE_NO.pattern}},
                 ("POST", "/admin/reconciliation/{date}/run"): {"date": DATE},
                 **{("GET", f"/{site}/assets{folder}/{{name}}"): {"name": {"type": "string", "pattern": ASSET_NAME}}
                    for site in ("console", "shop") for folder in ("", "/pages")}}
IDEMPOTENCY_KEY = {"type": "string", "pattern": r"^[\x20-\x7E]{1,128}$"}


def _error_responses(method: str, rule: Rule) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {status: list(codes) for status, codes in _EVERYWHERE.items()}
    if not rule.public:
        by_status[401], by_status[403] = [ErrorCode.UNAUTHORIZED, ErrorCode.TOKEN_EXPIRED], [ErrorCode.FORBIDDEN]
    if method != "GET":
        by_status.setdefault(409, []).append(ErrorCode.TRY_AGAIN)
    for entry in rule.errors:
        code, _, status = entry.partition("@")
        by_status.setdefault(int(status) if status else ERROR_STATUS[ErrorCode(code)], []).append(code)
    return {str(status): {"description": "codes: " + ", ".join(dict.fromkeys(codes)),
                          "content": {"application/json": {"schema": ref("Error")}}}
            for status, codes in sorted(by_status.items())}


def _parameters(method: str, path: str, rule: Rule) -> list[dict[str, Any]]:
    schemas = _PATH_SCHEMAS.get((method, path), {})
    parameters = [{"name": name, "in": "path", "required": True, "schema": schemas.get(name, STR)}
                  for name in re.findall(r"{(\w+)}", path)]
    for entry in rule.query:
        name, _, key = entry.partition(":")
        parameters.append({"name": name, "in": "query", "required": False, "schema": QUERY[key or name]})
    if rule.idempotent:
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": False, "schema": IDEMPOTENCY_KEY})
    return parameters


def _operation(method: str, path: str, rule: Rule) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_') or 'root'}",
        "summary": rule.summary, "tags": list(rule.tags),
        "x-roles": sorted(rule.who), "security": [] if rule.public else [{"bearer": []}],
        "parameters": _parameters(method, path, rule),
    }
    if rule.request:
        media = rule.request if "/" in rule.request else "application/json"
        schema = MEDIA_SCHEMAS.get(media, {"type": "string"}) if "/" in rule.request else ref(rule.request)
        operation["requestBody"] = {"required": not rule.optional_body, "content": {media: {"schema": schema}}}
    success: dict[str, Any] = {"description": "success"}
    if rule.response and "/" in rule.response:
        success["content"] = {media: {"schema": {"type": "string", "format": "binary"}}
                              for media in rule.response.split("|")}
    elif rule.response:
        success["content"] = {"application/json": {"schema": ref(rule.response)}}
        if rule.csv:
            success["content"]["text/csv"] = {"schema": {"type": "string"}}
    operation["responses"] = {str(rule.status): success, **_error_responses(method, rule)}
    if rule.redirect:
        operation["responses"]["302"] = {"description": f"to {rule.redirect}, where the page's own links resolve",
                                         "headers": {"Location": {"schema": {"type": "string"}}}}
    if rule.response == "Redemption":
        for status, what in (("404", "rejected: invalid"), ("409", "rejected: any other reason")):
            operation["responses"][status] = {"description": what, "content": {
                "application/json": {"schema": ref("Redemption")}}}
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
                                "Money is integer fen; times are RFC 3339 with an offset. Every answer to a caller "
                                "with a token, the logins' and the QR images carry `Cache-Control: no-store` (personal "
                                "data and tokens are kept by no cache). Times are shown in the venue's time zone, "
                                "`x-venue-timezone` (VENUE_TIMEZONE): the staff console reads it here.",
                 "x-venue-timezone": config.settings().venue_timezone},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": {**REQUESTS, **CHANGE_REQUESTS, **AFTER_SALE_REQUESTS, **ANSWERS,
                                   **AFTER_SALE_ANSWERS, **NOTIFICATION_REQUESTS, **NOTIFICATION_ANSWERS,
                                   "Subscriptions": subscriptions([config.notification_template(e)[0] for e in Event]),
                                   "WeChatLogin": wechat_login(local)},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
