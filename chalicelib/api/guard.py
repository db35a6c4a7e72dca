"""The Chalice token authorizer: verifies the signed token and hands the caller's kind and roles
to the route. A customer's token needs no database read; a staff token is checked against its
account as it is now (service_layer.auth.authenticate: one BatchGetItem of the account and the
token's logout record), so a disable, a role or password change or a logout ends it. Which roles
may call which route is decided by the access table (api.access), so the answer is cached per
token for every route alike: API Gateway keeps it AUTHORIZER_CACHE_SECONDS, the longest a
revoked staff token may still be let through deployed."""
from __future__ import annotations

from chalice import AuthResponse, Blueprint

from ..bootstrap import staff_standing, token_service
from ..domain.errors import NotAuthenticated
from ..service_layer.auth import authenticate

AUTHORIZER_CACHE_SECONDS = 60
guard = Blueprint(__name__)


@guard.authorizer(ttl_seconds=AUTHORIZER_CACHE_SECONDS)
def token_authorizer(auth_request):  # type: ignore[no-untyped-def]
    scheme, _, token = (auth_request.token or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        # API Gateway answers 401 when a token authorizer raises exactly this.
        raise Exception("Unauthorized")
    try:
        principal = authenticate(token_service(), staff_standing, token.strip())
    except NotAuthenticated:
        raise Exception("Unauthorized") from None
    return AuthResponse(routes=["*"], principal_id=principal.subject,
                        context={"kind": principal.kind, "roles": ",".join(sorted(principal.roles)),
                                 "openid": principal.openid or "", "jti": principal.token_id or "",
                                 "exp": str(principal.token_expires or "")})
