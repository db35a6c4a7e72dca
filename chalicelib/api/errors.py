"""The error body of API.md, for domain errors and for Chalice's own error answers."""
from __future__ import annotations

import json
from typing import Any

from chalice import Response

from ..domain.error_codes import ErrorCode
from ..domain.errors import (Conflict, DomainError, InvalidInput, NotAllowed, NotAuthenticated, NotFound,
                             RuleViolation, TooManyAttempts, Unavailable)

STATUS = {InvalidInput: 400, NotAuthenticated: 401, NotAllowed: 403, NotFound: 404, Conflict: 409,
          RuleViolation: 422, TooManyAttempts: 429, Unavailable: 503}

# Chalice answers some requests itself before a view runs (wrong media type, bad method).
_CHALICE_CODES = {"UnsupportedMediaType": ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                  "MethodNotAllowedError": ErrorCode.METHOD_NOT_ALLOWED,
                  "BadRequestError": ErrorCode.VALIDATION_ERROR, "BadRequest": ErrorCode.VALIDATION_ERROR,
                  "NotFoundError": ErrorCode.NOT_FOUND, "InternalServerError": ErrorCode.INTERNAL_ERROR}


def error_body(code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


def error_response(code: ErrorCode, message: str, status: int, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    return Response(body=error_body(code, message, details), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def from_domain(error: DomainError) -> Response:
    status = next((s for cls, s in STATUS.items() if isinstance(error, cls)), 400)
    headers = {}
    if "retry_after_seconds" in error.details:
        headers["Retry-After"] = str(error.details["retry_after_seconds"])
    return error_response(error.code, error.message, status, error.details, headers)


def normalize(response: Response) -> Response:
    """Rewrites Chalice's {"Code","Message"} error bodies into ours."""
    if response.status_code < 400:
        return response
    body = response.body
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if isinstance(body, dict) and "Code" in body and "code" not in body:
        code = _CHALICE_CODES.get(str(body["Code"]), ErrorCode.ERROR)
        kept = {k: v for k, v in (response.headers or {}).items() if k.lower() == "allow"}
        return error_response(code, str(body.get("Message", "")), response.status_code, headers=kept)
    return response
