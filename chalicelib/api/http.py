"""Declaring endpoints: each route's access rule comes from api.access.ROUTES; the wrapper
authenticates (via the authorizer's context), checks roles, parses input, and turns domain
errors into the error body of API.md."""
from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable

from chalice import Blueprint, Response
from chalice.app import Request

from ..domain.error_codes import ErrorCode
from ..domain.errors import DomainError, InvalidInput, NotAllowed, NotAuthenticated
from ..domain.principal import Principal
from ..service_layer.context import Actor
from . import errors
from .access import ROUTES, Rule
from .guard import token_authorizer

log = logging.getLogger("micromall.api")
MAX_BODY_BYTES = 256 * 1024
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


@dataclass(frozen=True)
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] | None = None


class Call:
    """One request as a view sees it: the caller, the parsed body and query parameters."""

    def __init__(self, request: Request, actor: Actor | None) -> None:
        self.request = request
        self._actor = actor

    @property
    def actor(self) -> Actor:
        if self._actor is None:  # only on a public route that asked for a caller
            raise NotAuthenticated("a token is required")
        return self._actor

    def body(self) -> Any:
        raw = self.request.raw_body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise InvalidInput(f"the body is larger than {MAX_BODY_BYTES} bytes", code=ErrorCode.BODY_TOO_LARGE)
        if not raw.strip():
            raise InvalidInput("a JSON body is required")
        try:
            return json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise InvalidInput("the body is not valid JSON", code=ErrorCode.MALFORMED_JSON) from None

    def text(self) -> str:
        raw = self.request.raw_body or b""
        if len(raw) > 4 * MAX_BODY_BYTES:
            raise InvalidInput("the body is too large", code=ErrorCode.BODY_TOO_LARGE)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the body must be UTF-8 text") from None

    def query(self, name: str) -> str | None:
        params = self.request.query_params or {}
        value = params.get(name)
        if value is not None and len(value) > 2000:
            raise InvalidInput(f"{name} is too long", field=name)
        return value

    def flag(self, name: str) -> bool:
        value = self.query(name)
        if value not in (None, "true", "false"):
            raise InvalidInput(f"{name} must be true or false", field=name)
        return value == "true"

    def whole(self, name: str, highest: int) -> int | None:
        """A query parameter from 1 to `highest`, in ASCII digits (str.isdigit also takes '²')."""
        value = self.query(name)
        if value is None:
            return None
        if not re.fullmatch(r"[0-9]{1,6}", value) or not 1 <= int(value) <= highest:
            raise InvalidInput(f"{name} must be a whole number from 1 to {highest}", field=name)
        return int(value)

    def limit(self) -> int:
        found = self.whole("limit", MAX_LIMIT)
        return DEFAULT_LIMIT if found is None else found

    def cursor(self) -> str | None:
        return self.query("cursor") or None

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def principal_of(request: Request) -> Principal | None:
    """The caller as the token authorizer found it (API Gateway passes its context on)."""
    context = (request.context or {}).get("authorizer") or {}
    subject, kind = context.get("principalId"), context.get("kind")
    if not subject or kind not in ("customer", "staff"):
        return None
    roles = frozenset(r for r in str(context.get("roles", "")).split(",") if r)
    expires = str(context.get("exp") or "")
    return Principal(subject=subject, kind=kind, roles=roles, openid=context.get("openid") or None,
                     token_id=context.get("jti") or None, token_expires=int(expires) if expires.isdigit() else None)


def _source_ip(request: Request) -> str | None:
    return ((request.context or {}).get("identity") or {}).get("sourceIp")


def _authorize(rule: Rule, request: Request) -> Actor | None:
    principal = principal_of(request)
    if rule.public:
        return Actor(principal, _source_ip(request)) if principal else None
    if principal is None:
        raise NotAuthenticated("a valid token is required")
    if not rule.allows(principal.kind, principal.roles):
        raise NotAllowed("your role may not do this", roles_allowed=sorted(rule.who))
    return Actor(principal, _source_ip(request))


# Answers that carry personal data or tokens are kept by no cache (a shared proxy, the browser's
# back button on a shared counter PC): every answer to a caller with a token, and the logins'.
TOKEN_ANSWERS = frozenset({"CustomerToken", "StaffToken"})


def _to_response(result: Any, rule: Rule) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Reply):
        return Response(body=result.body, status_code=result.status,
                        headers={"Content-Type": "application/json", **(result.headers or {})})
    return Response(body=result, status_code=rule.status, headers={"Content-Type": "application/json"})


def endpoint(bp: Blueprint, method: str, path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers a view for (method, path) under the rule the access table gives it."""
    rule = ROUTES[(method, path)]

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def handler(**params: str) -> Response:
            request = bp.current_request
            try:
                call = Call(request, _authorize(rule, request))
                response = _to_response(view(call, **params), rule)
                if not rule.public or rule.response in TOKEN_ANSWERS:
                    response.headers["Cache-Control"] = "no-store"
                return response
            except DomainError as error:
                return errors.from_domain(error)
            except Exception:
                # Never show internals; the log has the trace (and no request body).
                log.exception("unhandled error on %s %s", method, path)
                return errors.error_response(ErrorCode.INTERNAL_ERROR, "something went wrong on our side", 500)

        options: dict[str, Any] = {"methods": [method], "content_types": [rule.content_type]}
        if not rule.public:
            options["authorizer"] = token_authorizer
        bp.route(path, **options)(handler)
        return view
    return decorator
