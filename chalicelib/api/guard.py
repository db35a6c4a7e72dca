"""The Chalice token authorizer: verifies the signed token (no database read) and hands the
caller's kind and roles to the route. Which roles may call which route is decided by the
access table (api.access), so the answer is cached per token for every route alike."""
from __future__ import annotations

from chalice import AuthResponse, Blueprint

from ..domain.errors import NotAuthenticated

guard = Blueprint(__name__)
_verifier = None


def _tokens():  # type: ignore[no-untyped-def]
    global _verifier
    if _verifier is None:
        from ..bootstrap import token_service
        _verifier = token_service()
    return _verifier


def reset() -> None:
    global _verifier
    _verifier = None


@guard.authorizer(ttl_seconds=60)
def token_authorizer(auth_request):  # type: ignore[no-untyped-def]
    scheme, _, token = (auth_request.token or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        # API Gateway answers 401 when a token authorizer raises exactly this.
        raise Exception("Unauthorized")
    try:
        principal = _tokens().verify(token.strip())
    except NotAuthenticated:
        raise Exception("Unauthorized") from None
    return AuthResponse(routes=["*"], principal_id=principal.subject,
                        context={"kind": principal.kind, "roles": ",".join(sorted(principal.roles))})
