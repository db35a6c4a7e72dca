"""What API Gateway itself answers (before any Lambda runs), in the error body of API.md.

`infra/` sets these as the API's gateway responses; the local stack and the tests emulate
them on chalice's local gateway (local/gateway.py), so all three answer alike."""
from __future__ import annotations

import json

from ..domain.error_codes import ErrorCode

# gateway response type -> (status, code, message)
GATEWAY_RESPONSES: dict[str, tuple[int, ErrorCode, str]] = {
    "UNAUTHORIZED": (401, ErrorCode.UNAUTHORIZED, "a valid token is required"),
    "ACCESS_DENIED": (403, ErrorCode.FORBIDDEN, "not allowed"),
    # API Gateway answers an unknown route or method with 403 "Missing Authentication Token";
    # to a client that is simply "not found".
    "MISSING_AUTHENTICATION_TOKEN": (404, ErrorCode.NOT_FOUND, "no such route"),
    "THROTTLED": (429, ErrorCode.THROTTLED, "too many requests; slow down"),
    "DEFAULT_4XX": (400, ErrorCode.BAD_REQUEST, "the request was rejected"),
    "DEFAULT_5XX": (500, ErrorCode.INTERNAL_ERROR, "something went wrong on our side"),
}


def body_of(response_type: str) -> bytes:
    _, code, message = GATEWAY_RESPONSES[response_type]
    return json.dumps({"code": code, "message": message, "details": {}}).encode()
