"""The Chalice token authorizer: verifies the signed token (no database read) and hands the
caller's kind and roles to the route. Which roles may call which route is decided by the
access table (api.access), so the answer is cached per token for every route alike."""
from __future__ import annotations

from chalice import AuthResponse, Blueprint

from ..bootstrap import token_service
from ..domain.errors import NotAuthenticated

guard = Blueprint(__name__)


@guard.authorizer(ttl_seconds=60)
def token_authorizer(auth_request):  # type: ignore[no-untyped-def]
    scheme, _, token = (auth_request.token or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        # API Gateway answers 401 when a token authorizer raises exactly this.
        raise Exception("Unauthorized")
    try:
        principal = token_service().verify(token.strip())
    except NotAuthenticated:
        raise Exception("Unauthorized") from None
    return AuthResponse(routes=["*"], principal_id=principal.subject,
                        context={"kind": principal.kind, "roles": ",".join(sorted(principal.roles)),
                                 "openid": principal.openid or ""})
